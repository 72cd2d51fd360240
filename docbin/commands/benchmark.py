"""``docbin benchmark``: run registry methods over datasets and report DIBCO quality and speed per method."""

from __future__ import annotations

import time
from pathlib import Path

import typer

QUALITY = ("fm", "psnr", "drd", "nrm", "mcc")


def benchmark(
    data: list[Path] = typer.Option(
        ..., "--data", help="Dataset folder: images/ + gt/ or a DIBCO archive layout (repeatable)."),
    methods: str = typer.Option("otsu,sauvola", "--methods", help="Comma-separated registry method names."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="method.name=value, e.g. sauvola.window=25 (repeatable)."),
) -> None:
    """One row per method and dataset: mean FM, PSNR, DRD, NRM, MCC and megapixels per second."""
    from docbin import io, registry
    from docbin.datasets.dibco import load_pairs
    from docbin.errors import DocbinError
    from docbin.metrics import evaluate
    from docbin.metrics.basic import PSNR_CAP

    try:
        chosen = [registry.get(name.strip()) for name in methods.split(",") if name.strip()]
        raw = registry.parse_params(param)
        params = {
            m.name: m.validate({k.split(".", 1)[1]: v for k, v in raw.items() if k.split(".", 1)[0] == m.name})
            for m in chosen
        }
        sets = []
        for root in data:
            sets.append((root.name, [(io.read_image(p.image), io.read_image(p.gt)) for p in load_pairs(root)]))
    except DocbinError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None

    typer.echo("dataset".ljust(14) + "method".ljust(12) + "".join(c.rjust(9) for c in QUALITY) + "MP/s".rjust(9))
    for set_name, pairs in sets:
        for method in chosen:
            totals = dict.fromkeys(QUALITY, 0.0)
            seconds = pixels = 0.0
            for image, gt in pairs:
                start = time.perf_counter()
                binary = method(image, **params[method.name])
                seconds += time.perf_counter() - start
                pixels += gt.size
                scores = evaluate(binary, gt)
                for key in QUALITY:
                    totals[key] += PSNR_CAP if scores[key] is None else scores[key]
            row = "".join(f"{totals[k] / len(pairs):9.3f}" for k in QUALITY)
            typer.echo(set_name.ljust(14) + method.name.ljust(12) + row + f"{pixels / 1e6 / seconds:9.1f}")

"""``docbin benchmark``: run registry methods over datasets and report DIBCO quality and speed per method."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

QUALITY = ("fm", "pseudo_fm", "psnr", "drd", "avg_score", "nrm", "mcc")


def benchmark(
    data: list[Path] = typer.Option(
        ..., "--data", help="Dataset folder: images/ + gt/ or a DIBCO archive layout (repeatable)."),
    methods: str = typer.Option("otsu,sauvola", "--methods", help="Comma-separated registry method names."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="method.name=value, e.g. sauvola.window=25 (repeatable)."),
    layout: str = typer.Option("auto", "--layout", help="The datasets' layout: auto, dibco (or a year: "
                               "dibco2017), generic (images/ + gt/) or dkds (image/ + mask/)."),
) -> None:
    """One row per method and dataset: mean FM, pseudo-FM (DIBCO 2013+, weights generated from each GT once),
    PSNR, DRD, Avg-Score, NRM, MCC (averaged as ``docbin evaluate`` does: docbin.metrics.mean_scores) and
    megapixels per second."""
    from docbin import io, registry
    from docbin.datasets.dibco import load_pairs
    from docbin.errors import DocbinError
    from docbin.metrics import binary_ink, evaluate, mean_scores, pseudo_weights

    try:
        chosen = [registry.get(name.strip()) for name in methods.split(",") if name.strip()]
        raw = registry.parse_params(param)
        params = {
            m.name: m.validate({k.split(".", 1)[1]: v for k, v in raw.items() if k.split(".", 1)[0] == m.name})
            for m in chosen
        }
        sets = []
        for root in data:
            sets.append((root.name, [(io.read_image(p.image), io.read_image(p.gt)) for p in load_pairs(root, layout)]))
    except DocbinError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None

    typer.echo("dataset".ljust(14) + "method".ljust(12) + "".join(c.rjust(10) for c in QUALITY) + "MP/s".rjust(10))
    for set_name, pairs in sets:
        scores: dict[str, list[dict[str, Any]]] = {m.name: [] for m in chosen}
        seconds = dict.fromkeys(scores, 0.0)
        pixels = 0.0
        for image, gt in pairs:  # page by page, so each GT's pseudo-FM weights are generated once
            weights = pseudo_weights(binary_ink(gt, "ground truth"))
            pixels += gt.size
            for method in chosen:
                start = time.perf_counter()
                binary = method(image, **params[method.name])
                seconds[method.name] += time.perf_counter() - start
                scores[method.name].append(evaluate(binary, gt, *weights))
        for method in chosen:
            means = mean_scores(scores[method.name], QUALITY)
            row = "".join("n/a".rjust(10) if means[k] is None else f"{means[k]:10.3f}" for k in QUALITY)
            speed = pixels / 1e6 / seconds[method.name]
            typer.echo(set_name.ljust(14) + method.name.ljust(12) + row + f"{speed:10.1f}")

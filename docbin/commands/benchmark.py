"""``docbin benchmark``: run registry methods over datasets and report DIBCO quality and speed per method."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

QUALITY = ("fm", "pseudo_fm", "psnr", "drd", "avg_score", "nrm", "mcc")
STRESS = ("far_ink", "mode")  # docbin.metrics.stress.stress_scores, printed as percentages


def benchmark(
    data: list[Path] = typer.Option(
        [], "--data", help="Dataset folder: images/ + gt/ or a DIBCO archive layout (repeatable)."),
    stress: bool = typer.Option(False, "--stress", help="Also the synthetic stress sets (docbin.datasets.stress: "
                                "surround, faint, marks, bleed, sharp_bleed, dark; never trained on), with the "
                                "metric each isolates."),
    stress_mode: list[str] = typer.Option(
        [], "--stress-mode", help="Only this stress set (repeatable; implies --stress): surround, faint, marks, "
        "bleed, sharp_bleed, dark."),
    stress_pages: int = typer.Option(8, "--stress-pages", min=1, help="Pages per stress set."),
    methods: str = typer.Option("otsu,sauvola", "--methods", help="Comma-separated registry method names."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="method.name=value, e.g. sauvola.window=25 (repeatable)."),
    layout: str = typer.Option("auto", "--layout", help="The datasets' layout: auto, dibco (or a year: "
                               "dibco2017), generic (images/ + gt/) or dkds (image/ + mask/)."),
) -> None:
    """Score methods on datasets and stress sets: one row per method and dataset.

    Columns: FM, pseudo-FM (DIBCO 2013+, weights made from each GT once),
    PSNR, DRD, Avg-Score, NRM and MCC, averaged as `docbin evaluate` does
    (docbin.metrics.mean_scores); far_ink, the % of predicted ink more than
    10 px from any GT ink (surrounds, stains); megapixels per second; and on
    a stress set the metric its mode isolates:

    surround: % of the surround marked ink; faint: % recall on faint ink;
    marks: % of seal, tide-line and foxing pixels marked ink; bleed and
    sharp_bleed: % of the reverse side's showing-through text marked ink;
    dark: % recall on ink on a dark support such as papyrus."""
    from docbin import io, registry
    from docbin.datasets.dibco import load_pairs
    from docbin.errors import ParameterError
    from docbin.metrics import binary_ink, evaluate, mean_scores, pseudo_weights
    from docbin.metrics.stress import stress_scores

    chosen = [registry.get(name.strip()) for name in methods.split(",") if name.strip()]
    raw = registry.parse_params(param)
    params = {
        m.name: m.validate({k.split(".", 1)[1]: v for k, v in raw.items() if k.split(".", 1)[0] == m.name})
        for m in chosen
    }
    if not data and not (stress or stress_mode):
        raise ParameterError("give at least one --data folder or --stress")
    sets = [
        (root.name, None, [(io.read_image(p.image), io.read_image(p.gt), None) for p in load_pairs(root, layout)])
        for root in data
    ]
    if stress or stress_mode:
        from docbin.datasets.stress import MODES, stress_pages as make_pages

        unknown = sorted(set(stress_mode) - set(MODES))
        if unknown:
            raise ParameterError(f"unknown stress mode(s) {unknown}; known: {list(MODES)}")
        sets += [(f"stress-{mode}", mode, [(p.rgb, p.gt, p.regions) for p in make_pages(mode, stress_pages)])
                 for mode in MODES if not stress_mode or mode in stress_mode]

    columns = QUALITY + STRESS
    width = max([16, *(len(name) + 2 for name, _, _ in sets)])  # a long set name must not run into the method's
    typer.echo("dataset".ljust(width) + "method".ljust(12) + "".join(c.rjust(10) for c in columns) + "MP/s".rjust(10))
    for set_name, mode, pairs in sets:
        scores: dict[str, list[dict[str, Any]]] = {m.name: [] for m in chosen}
        seconds = dict.fromkeys(scores, 0.0)
        pixels = 0.0
        for image, gt, regions in pairs:  # page by page, so each GT's pseudo-FM weights are generated once
            weights = pseudo_weights(binary_ink(gt, "ground truth"))
            pixels += gt.size
            for method in chosen:
                start = time.perf_counter()
                binary = method(image, **params[method.name])
                seconds[method.name] += time.perf_counter() - start
                stress_row = stress_scores(binary < 128, gt < 128, regions, mode)
                scores[method.name].append(evaluate(binary, gt, *weights)
                                           | {k: None if v is None else 100 * v for k, v in stress_row.items()})
        for method in chosen:
            means = mean_scores(scores[method.name], columns)
            row = "".join("n/a".rjust(10) if means[k] is None else f"{means[k]:10.3f}" for k in columns)
            speed = pixels / 1e6 / seconds[method.name]
            typer.echo(set_name.ljust(width) + method.name.ljust(12) + row + f"{speed:10.1f}")

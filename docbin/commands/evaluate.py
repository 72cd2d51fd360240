"""``docbin evaluate``: score a folder of binarized pages against ground truth with the DIBCO metrics."""

from __future__ import annotations

import csv
import io as io_text
from pathlib import Path
from typing import Any

import typer


def _fmt(value: Any, column: str) -> str:
    """A table cell: ``None`` is an infinite PSNR (a perfect page) or an undefined value (n/a)."""
    if value is None:
        return "inf" if column == "psnr" else "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluate(
    pred_dir: Path = typer.Argument(..., help="Folder of binarized pages (ink black), named like the GT."),
    gt_dir: Path = typer.Argument(..., help="Ground-truth folder, or a dataset folder holding gt/."),
    weights_dir: Path | None = typer.Option(
        None, "--weights", help="Folder of official BinEvalWeights `<name>_RWeights.dat` / _PWeights.dat "
        "(optionally .gz) to use instead of the weights docbin generates from the GT."),
    pfm: str = typer.Option("2013", "--pfm", help="Pseudo-FM variant: 2013 (weighted, DIBCO 2013+; weights "
                            "generated from the GT or read with --weights) or 2010 (H-DIBCO 2010/2012, DKDS, "
                            "three-stage paper: recall over the GT skeleton of MATLAB's bwmorph(gt, 'thin', Inf), "
                            "which their evaluation code uses; skimage's thin, not Zhang-Suen skeletonize)."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Write per-image metrics as CSV."),
    json_path: Path | None = typer.Option(None, "--json", help="Write per-image metrics and means as JSON."),
    report_path: Path | None = typer.Option(
        None, "--report", help="Write a self-contained HTML report (scan, prediction, error map per page)."),
    workers: int = typer.Option(0, "--workers", "-j", min=0, help="Pages scored in parallel (0: one per core)."),
    layout: str = typer.Option("auto", "--layout", help="GT_DIR's layout: auto, dibco (or a year: dibco2017), "
                               "generic (images/ + gt/) or dkds (image/ + mask/)."),
) -> None:
    """Score binarized outputs against their ground truth with the DIBCO metrics.

    Prints per-image FM, pseudo-FM, PSNR, DRD, recall, precision, NRM, MCC, MPM and Avg-Score, and the set means."""
    from docbin import io, kernels
    from docbin.evaluation import evaluate_folder
    from docbin.metrics.basic import PSNR_CAP
    from docbin.report import render_report

    result = evaluate_folder(pred_dir, gt_dir, weights_dir=weights_dir, pfm=pfm,  # type: ignore[arg-type]
                             layout=layout, workers=workers, report=report_path is not None,
                             before_scoring=lambda: kernels.compile_ahead("evaluate"))
    rows, shown, means = result.rows, result.columns, result.means
    source = {"generated": ", weights generated from the GT", "given": f", weights from {weights_dir}"}
    typer.echo(f"pseudo-FM: {rows[0]['pfm_variant']}{source.get(rows[0].get('pfm_weights', ''), '')}")
    typer.echo("name".ljust(14) + "".join(c.rjust(11) for c in shown))
    for r in rows:
        typer.echo(str(r["name"]).ljust(14) + "".join(_fmt(r[c], c).rjust(11) for c in shown))
    typer.echo("mean".ljust(14) + "".join(_fmt(means[c], c).rjust(11) for c in shown))
    if result.pages_where("psnr_infinite"):
        typer.echo(f"(perfect pages have infinite PSNR; the mean counts them as {PSNR_CAP:g} dB)")
    undefined = result.pages_where("drd_undefined")
    if undefined:
        typer.echo(f"(DRD and Avg-Score undefined (n/a) on {', '.join(undefined)}: the GT has no 8x8 block with "
                   f"both ink and background (NUBN = 0); their means are over the other "
                   f"{len(rows) - len(undefined)} of {len(rows)} pages)")
    for r in rows:
        if r["warnings"]:
            typer.echo(f"warning: {r['name']}: {r['warnings']}", err=True)
    empty = result.pages_where("gt_empty")
    if empty:
        typer.echo(f"warning: the GT of {', '.join(empty)} has no ink: FM, recall and pseudo-FM are 0 there even "
                   "for a perfect prediction", err=True)
    if csv_path is not None:
        table = io_text.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        io.atomic_write_bytes(csv_path, table.getvalue().encode())
    if report_path is not None:
        document = render_report(result.report_pages, shown, f"docbin evaluation: {pred_dir} vs {gt_dir}")
        io.atomic_write_bytes(report_path, document.encode())
    if json_path is not None:
        io.atomic_write_bytes(json_path, result.json_text().encode())

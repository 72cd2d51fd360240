"""``docbin evaluate``: score a folder of binarized pages against ground truth with the DIBCO metrics."""

from __future__ import annotations

import csv
import io as io_text
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from docbin.report import ReportPage

COLUMNS = ("fm", "pseudo_fm", "psnr", "drd", "recall", "precision", "nrm", "mcc", "mpm", "avg_score")


def _fmt(value: Any) -> str:
    return "inf" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluate(
    pred_dir: Path = typer.Argument(..., help="Folder of binarized pages (ink black), named like the GT."),
    gt_dir: Path = typer.Argument(..., help="Ground-truth folder, or a dataset folder holding gt/."),
    weights_dir: Path | None = typer.Option(
        None, "--weights", help="Folder of official BinEvalWeights <name>_RWeights.dat / _PWeights.dat "
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
    """Print per-image FM, pseudo-FM, PSNR, DRD, recall, precision, NRM, MCC, MPM, Avg-Score and the set means."""
    from docbin import io
    from docbin.datasets.dibco import load_pairs
    from docbin.datasets.pairs import pair_predictions
    from docbin.errors import DocbinError
    from docbin.metrics.basic import PSNR_CAP
    from docbin.report import render_report

    if pfm not in ("2013", "2010"):
        typer.echo("error: --pfm must be 2013 or 2010", err=True)
        raise typer.Exit(2)
    try:
        pairs = pair_predictions(pred_dir, gt_dir, layout)
    except DocbinError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    scans: dict[str, Path] = {}
    if report_path is not None:
        try:
            scans = {pair.name: pair.image for pair in load_pairs(gt_dir, layout)}
        except DocbinError:
            scans = {}  # a plain GT folder: the report shows prediction and errors only
    jobs = [PageJob(name, pred_path, gt_path, weights_dir, pfm, report_path is not None, scans.get(name))
            for name, pred_path, gt_path in pairs]
    try:
        scored = _score_all(jobs, workers or os.cpu_count() or 1)
    except (DocbinError, ValueError, FileNotFoundError) as exc:
        typer.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(2) from None
    rows = [row for row, _ in scored]
    shown = [c for c in COLUMNS if c in rows[0]]
    source = {"generated": ", weights generated from the GT", "given": f", weights from {weights_dir}"}
    typer.echo(f"pseudo-FM: {rows[0]['pfm_variant']}{source.get(rows[0].get('pfm_weights', ''), '')}")
    means = {c: sum(PSNR_CAP if r[c] is None else r[c] for r in rows) / len(rows) for c in shown}
    typer.echo("name".ljust(14) + "".join(c.rjust(11) for c in shown))
    for r in rows:
        typer.echo(str(r["name"]).ljust(14) + "".join(_fmt(r[c]).rjust(11) for c in shown))
    typer.echo("mean".ljust(14) + "".join(_fmt(means[c]).rjust(11) for c in shown))
    if any(r["psnr_infinite"] for r in rows):
        typer.echo(f"(perfect pages have infinite PSNR; the mean counts them as {PSNR_CAP:g} dB)")
    if csv_path is not None:
        table = io_text.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        io.atomic_write_bytes(csv_path, table.getvalue().encode())
    if report_path is not None:
        pages = [page for _, page in scored if page is not None]
        document = render_report(pages, shown, f"docbin evaluation: {pred_dir} vs {gt_dir}")
        io.atomic_write_bytes(report_path, document.encode())
    if json_path is not None:
        io.atomic_write_bytes(json_path, json.dumps({"images": rows, "means": means}, indent=2).encode())


@dataclass(frozen=True)
class PageJob:
    """One page to score: its prediction and GT, where the official weights are (None: generated), the
    pseudo-FM variant, and whether to make its report row (with the scan when there is one)."""

    name: str
    prediction: Path
    gt: Path
    weights_dir: Path | None
    pfm: str
    report: bool = False
    scan: Path | None = None


def _score_page(job: PageJob) -> tuple[dict[str, Any], ReportPage | None]:
    """One page's metrics (weights from ``weights_dir`` when given, else generated from its GT) and, when
    asked, its report row, made from the images already decoded for scoring."""
    from docbin import io
    from docbin.errors import DocbinError
    from docbin.metrics import evaluate as score
    from docbin.metrics import read_weights_dat
    from docbin.preprocess import to_gray
    from docbin.report import ReportPage

    try:
        gt, pred = io.read_image(job.gt), io.read_image(job.prediction)
        weights: tuple[Any, Any] = (None, None)
        if job.weights_dir is not None and job.pfm == "2013":
            weights = tuple(  # type: ignore[assignment]
                read_weights_dat(_dat(job.weights_dir, job.gt.stem, kind), gt.shape[:2]) for kind in ("R", "P")
            )
        row = {"name": job.name, **score(pred, gt, *weights, pfm=job.pfm)}  # type: ignore[arg-type]
        if not job.report:
            return row, None
        scan = io.read_image(job.scan) if job.scan is not None else None
        return row, ReportPage.of(job.name, row, to_gray(pred), to_gray(gt), scan)
    except (DocbinError, ValueError, FileNotFoundError) as exc:
        raise ValueError(f"{job.name}: {getattr(exc, 'message', exc)}") from None


def _pixels(path: Path) -> int:
    """A page's pixel count from its image header (0 when the header cannot be read: scoring says why)."""
    from docbin import io
    from docbin.errors import DocbinError

    try:
        return io.pixel_count(path)
    except (DocbinError, OSError):
        return 0


def _score_all(jobs: list[PageJob], workers: int) -> list[tuple[dict[str, Any], ReportPage | None]]:
    """Every page's metrics (and report row) in input order, ``workers`` pages at a time in separate
    processes, the largest pages first (so no large page is left to run alone at the end)."""
    if workers <= 1 or len(jobs) <= 1:
        return [_score_page(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from docbin.batch import START_METHOD

    order = sorted(range(len(jobs)), key=lambda i: -_pixels(jobs[i].gt))
    context = multiprocessing.get_context(START_METHOD)  # fresh workers, as for batch binarization
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        rows = dict(zip(order, pool.map(_score_page, [jobs[i] for i in order])))
    return [rows[i] for i in range(len(jobs))]


def _dat(folder: Path, stem: str, kind: str) -> Path:
    for suffix in (".dat", ".dat.gz"):
        path = folder / f"{stem}_{kind}Weights{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no {stem}_{kind}Weights.dat(.gz) in {folder}")



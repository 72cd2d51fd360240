"""``docbin binarize``: binarize files and folders of scans in parallel, resumably."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path

import typer


class Format(str, Enum):
    auto = "auto"
    png = "png"
    tiff = "tiff"
    png8 = "png8"


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def binarize(
    inputs: list[Path] = typer.Argument(..., help="Scan files and/or folders of scans."),
    outdir: Path = typer.Option(..., "--output", "-o", help="Output folder (mirrors input subfolders)."),
    method: str = typer.Option("sauvola", "--method", "-m", help="Method name (see `docbin methods`)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter name=value (repeatable)."),
    fmt: Format = typer.Option(
        Format.auto, "--format", "-f",
        help="png: 1-bit PNG; tiff: 1-bit CCITT G4 TIFF (multi-page kept); png8: 8-bit PNG; "
        "auto: TIFF for TIFF inputs, PNG otherwise.",
    ),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-j", min=1, help="Worker processes."),
    skip_existing: bool = typer.Option(False, "--skip-existing", help="Skip files whose output exists (resume)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into subfolders."),
    report: Path | None = typer.Option(None, "--report", help="Write a JSON run summary here."),
    max_pixels: int | None = typer.Option(
        None, "--max-pixels", min=1, help="Refuse pages with more decoded pixels (default: docbin.io's limit)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Binarize scans into bilevel images (ink black, background white).

    Exit code 0 when every file succeeded or was skipped, 1 when any file failed, 2 on usage errors.
    """
    from tqdm import tqdm

    from docbin import batch, io, registry
    from docbin.errors import DocbinError

    if skip_existing and overwrite:
        raise _usage_error("--skip-existing and --overwrite exclude each other")
    try:
        chosen = registry.get(method)
        params = chosen.validate(registry.parse_params(param))
        jobs = batch.plan_jobs(inputs, outdir, fmt.value, recursive)
    except (DocbinError, ValueError, FileNotFoundError) as exc:
        raise _usage_error(getattr(exc, "message", str(exc))) from None
    if not jobs:
        raise _usage_error("no input images found" + ("" if recursive else " (folders: try --recursive)"))
    existing = [job.dst for job in jobs if job.dst.exists()]
    if existing and not (skip_existing or overwrite):
        raise _usage_error(
            f"{len(existing)} output(s) already exist (e.g. {existing[0]}): "
            "pass --skip-existing to resume or --overwrite to replace them"
        )

    batch.remove_stale_temps(outdir)
    task = batch.Task(method, params, fmt.value, max_pixels or io.DEFAULT_MAX_PIXELS)
    engine = batch.make_engine(min(workers, len(jobs)))
    pages = 0
    with tqdm(total=len(jobs), unit="file", disable=quiet, file=sys.stderr, dynamic_ncols=True) as bar:

        def progress(result: batch.JobResult) -> None:
            nonlocal pages
            pages += result.pages
            if result.status == "failed":
                bar.write(f"FAILED {result.src}: {result.error}", file=sys.stderr)
            bar.update()
            elapsed = bar.format_dict["elapsed"] or 1e-9
            bar.set_postfix(pages_per_s=f"{pages / elapsed:.2f}", refresh=False)

        summary = batch.run_batch(jobs, task, engine, skip_existing=skip_existing, on_result=progress)

    if report is not None:
        io.atomic_write_bytes(report, json.dumps(summary.to_json(), indent=2).encode())
    failed = [r for r in summary.results if r.status == "failed"]
    typer.echo(
        f"{summary.count('ok')} ok, {summary.count('skipped')} skipped, {len(failed)} failed; "
        f"{summary.pages} page(s) in {summary.seconds:.1f} s "
        f"({summary.pages / max(summary.seconds, 1e-9):.2f} pages/s) with {method}",
        err=True,
    )
    for r in failed:
        typer.echo(f"  failed: {r.src}: [{r.error_code}] {r.error}", err=True)
    if failed:
        raise typer.Exit(1)

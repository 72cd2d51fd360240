"""``docbin binarize``: binarize files and folders of scans in parallel, resumably."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import warnings
from dataclasses import replace
from enum import Enum
from pathlib import Path

import typer


class Format(str, Enum):
    auto = "auto"
    png = "png"
    tiff = "tiff"
    png8 = "png8"


class EngineName(str, Enum):
    local = "local"
    dask = "dask"


def _check_writable(path: Path) -> None:
    """Raise :class:`~docbin.errors.OutputPathError` with a one-line reason unless a file can be created at
    ``path`` (its folder exists and takes a new file; ``path`` is no folder), so a run never ends unable to
    write its report."""
    from docbin.errors import OutputPathError

    if path.is_dir():
        raise OutputPathError(f"{path} is a folder")
    if not path.parent.is_dir():
        raise OutputPathError(f"the folder {path.parent} does not exist")
    try:
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as exc:
        raise OutputPathError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None


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
    workers: int = typer.Option(
        0, "--workers", "-j", min=0,
        help="Worker processes (local engine, or the dask engine's LocalCluster); 0: one per core.",
    ),
    engine: EngineName = typer.Option(
        EngineName.local, "--engine",
        help="local: a process pool on this machine; dask: a Dask cluster (needs docbin's dask extra).",
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler",
        help="Dask scheduler address tcp://HOST:PORT (--engine dask; default: a LocalCluster of --workers). "
        "Workers must see the inputs and -o at the same paths.",
    ),
    skip_existing: bool = typer.Option(False, "--skip-existing", help="Skip files whose output exists (resume)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into subfolders."),
    report: Path | None = typer.Option(None, "--report", help="Write a JSON run summary here."),
    max_pixels: int | None = typer.Option(
        None, "--max-pixels", min=1,
        help="Refuse files with a page of more decoded pixels (default: $DOCBIN_MAX_PIXELS or 250 million).",
    ),
    max_pages: int | None = typer.Option(
        None, "--max-pages", min=1, help="Refuse files of more pages (default: $DOCBIN_MAX_PAGES or 1000).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Binarize scans into bilevel images (ink black, background white).

    Exit code 0 when every file succeeded or was skipped, 1 when any file failed or the cluster was lost,
    2 on usage errors.

    Ctrl-C / SIGTERM stop the run (exit code 130 / 143) with the summary and --report; --skip-existing resumes.
    """
    from tqdm import tqdm

    from docbin import batch, engines, io, kernels, registry
    from docbin.shutdown import interrupt_on

    if report is not None:
        _check_writable(report)
    limits = io.Limits.from_env()
    limits = replace(limits, max_pixels=max_pixels or limits.max_pixels, max_pages=max_pages or limits.max_pages)
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        jobs, task = batch.prepare(
            inputs, outdir, method, registry.parse_params(param), fmt.value, recursive,
            skip_existing, overwrite, limits,
        )
    runner = engines.make_engine(min(workers or os.cpu_count() or 1, len(jobs)), engine.value, scheduler)
    for note in notes:
        typer.echo(f"warning: {note.message}", err=True)

    batch.remove_stale_temps(outdir)
    if registry.get(method).func.__module__.startswith("docbin.threshold."):
        kernels.compile_ahead("binarize")
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

        with interrupt_on():
            summary = batch.run_batch(jobs, task, runner, skip_existing=skip_existing, on_result=progress)

    if report is not None:
        io.atomic_write_bytes(report, json.dumps(summary.to_json(), indent=2, allow_nan=False).encode())
    failed = [r for r in summary.results if r.status == "failed"]
    typer.echo(
        f"{summary.count('ok')} ok, {summary.count('skipped')} skipped, {len(failed)} failed; "
        f"{summary.pages} page(s) in {summary.seconds:.1f} s "
        f"({summary.pages / max(summary.seconds, 1e-9):.2f} pages/s) with {method}",
        err=True,
    )
    for r in failed:
        typer.echo(f"  failed: {r.src}: [{r.error_code}] {r.error}", err=True)
    if summary.interrupted:
        typer.echo(f"interrupted by {summary.interrupted}: {summary.unfinished} file(s) not done "
                   "(rerun with --skip-existing to finish)", err=True)
        raise typer.Exit(128 + signal.Signals[summary.interrupted].value)
    if failed:
        raise typer.Exit(1)

"""``docbin synth``: write synthetic degraded pages and their ground truth (images/ + gt/ layout)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def synth(
    outdir: Path = typer.Option(..., "--output", "-o", help="Folder to fill with images/ and gt/."),
    count: int = typer.Option(100, "--count", "-n", min=1, help="Number of pages."),
    seed: int = typer.Option(0, help="Seed: page N (synth_N.png) is made from (seed, N)."),
    start: int = typer.Option(0, min=0, help="Number N of the first page (to extend a set)."),
    height: int = typer.Option(512, min=64, help="Page height in pixels."),
    width: int = typer.Option(512, min=64, help="Page width in pixels."),
    clean: bool = typer.Option(False, "--clean", help="Plain paper and ink only (no degradations)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing pages."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Generate COUNT synthetic pages as OUTPUT/images/synth_NNNNNN.png + OUTPUT/gt/synth_NNNNNN.png."""
    from tqdm import tqdm

    from docbin.datasets.synth_io import save_pair
    from docbin.datasets.synthetic import SynthOptions, SyntheticPages

    images, gts = outdir / "images", outdir / "gt"
    names = [f"synth_{i:06d}.png" for i in range(start, start + count)]
    existing = [images / n for n in names if (images / n).exists() or (gts / n).exists()]
    if existing and not overwrite:
        typer.echo(f"error: {len(existing)} page(s) already exist (e.g. {existing[0]}): "
                   "pass --overwrite or another --start", err=True)
        raise typer.Exit(2)
    images.mkdir(parents=True, exist_ok=True)
    gts.mkdir(parents=True, exist_ok=True)
    pages = SyntheticPages(seed, height, width, start, SynthOptions.clean() if clean else SynthOptions())
    for name, (rgb, gt) in tqdm(zip(names, pages), total=count, unit="page", disable=quiet,
                                file=sys.stderr, dynamic_ncols=True):
        save_pair(rgb, gt, images / name, gts / name)
    typer.echo(f"wrote {count} pages to {images} and {gts}")

"""``docbin export``: turn the six trained generator checkpoints into the shipped ONNX model folder."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from docbin.threestage.pipeline import FUSIONS, PipelineConfig


class MergeRule(str, Enum):
    max = "max"
    crop = "crop"


FusionRule = Enum("FusionRule", {rule: rule for rule in FUSIONS}, type=str)  # the pipeline's rules, one list


def export(
    checkpoints: Path = typer.Option(Path("models/checkpoints/threestage"), "--checkpoints", help="Folder of `<name>[.small].pt`."),
    out: Path = typer.Option(Path("models/threestage"), "--out", help="Model folder to write (ONNX + manifest)."),
    tile: int = typer.Option(PipelineConfig.tile, help="Inference tile side (multiple of `2**depth`)."),
    overlap: int = typer.Option(PipelineConfig.overlap, help="Tile overlap in pixels."),
    batch: int = typer.Option(PipelineConfig.batch, help="Tiles per generator call."),
    merge: MergeRule = typer.Option(MergeRule.max, help="Overlap merge: max (paper: min of P(background)) or crop."),
    threshold: float = typer.Option(PipelineConfig.threshold, help="P(ink) threshold of the local branch."),
    global_threshold: float = typer.Option(PipelineConfig.global_threshold, help="P(ink) threshold of the global branch."),
    fusion: FusionRule = typer.Option(
        FusionRule(PipelineConfig.fusion), help="Stage-3 fusion: component (keep the local ink components the "
        "dilated global ink touches) or pixel (the paper's local AND dilated global)."
    ),
    opset: int = typer.Option(17, min=17, help="ONNX opset."),
) -> None:
    """Export gray/red/green/blue/local/global generators to ONNX, verified against torch."""
    from docbin.models.export import export_checkpoints

    pipeline = PipelineConfig(
        tile=tile, overlap=overlap, batch=batch, merge=merge.value, threshold=threshold, global_threshold=global_threshold,
        fusion=fusion.value,
    )
    manifest = export_checkpoints(checkpoints, out, pipeline, opset)
    for name, entry in manifest["generators"].items():
        typer.echo(
            f"{name:<7} {entry['file']:<12} {entry['bytes'] / 1e6:6.2f} MB  from {entry['checkpoint']} "
            f"step {entry['step']}  max|onnx-torch| {entry['max_abs_diff_vs_torch']:.1e}"
        )
    typer.echo(f"wrote {out / 'manifest.json'}")

"""``docbin train``: train a three-stage generator from a YAML config (resumable; needs the train extra)."""

from __future__ import annotations

from pathlib import Path

import typer


def train(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="models/configs/<name>.yaml"),
    fresh: bool = typer.Option(False, "--fresh", help="Start over instead of resuming the checkpoint."),
    log: Path | None = typer.Option(None, "--log", help="Append per-step losses as JSON lines."),
) -> None:
    """Train (or resume) a Stage-2 channel generator; checkpoints go to models/checkpoints/<name>.pt."""
    try:
        from docbin.models.train import TrainConfig
        from docbin.models.train import train as run
    except ImportError:
        typer.echo("error: training needs torch: pip install -e '.[train]'", err=True)
        raise typer.Exit(2) from None
    trainer = run(TrainConfig.from_yaml(config), resume=not fresh, log=log)
    typer.echo(f"{trainer.config.name}: step {trainer.step}, checkpoint {trainer.path}")

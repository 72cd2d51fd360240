"""``docbin train``: train the three-stage model (a pipeline config) or one generator from a YAML config
(resumable; needs the train extra)."""

from __future__ import annotations

from pathlib import Path

import typer


def train(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False,
                                help="models/configs/threestage.yaml (all generators) or one generator's config"),
    fresh: bool = typer.Option(False, "--fresh", help="Start over instead of resuming the checkpoints."),
    log: Path | None = typer.Option(None, "--log", help="One generator: append per-step losses as JSON lines "
                                    "(a pipeline logs to its log_dir)."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE overriding a setting of every generator "
                                        "(or the pipeline's parallel / log_dir / checkpoint_dir), e.g. --set device=cuda"),
) -> None:
    """Train (or resume) the generators of a training config.

    Checkpoints go to the config's checkpoint_dir as `<name>.pt` and `<name>.small.pt`."""
    try:
        from docbin.models.pipeline import is_pipeline, parse_overrides, run_pipeline
        from docbin.models.train import TrainConfig
        from docbin.models.train import train as run
    except ImportError:
        typer.echo("error: training needs torch: pip install -e '.[train]'", err=True)
        raise typer.Exit(2) from None
    try:
        settings = parse_overrides(overrides)
        if is_pipeline(config):
            for name, path in run_pipeline(config, settings, resume=not fresh).items():
                typer.echo(f"{name}: checkpoint {path}")
            return
        trainer = run(TrainConfig.from_yaml(config, settings), resume=not fresh, log=log)
    except KeyboardInterrupt:
        typer.echo("stopped: checkpoints saved; the same command resumes", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"{trainer.config.name}: step {trainer.step}, checkpoint {trainer.path}")

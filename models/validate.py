"""Validate a Stage-2 channel generator or the local generator on the DIBCO validation sets with docbin's
metrics, run over tiles exactly as inference runs it (Stage 1 included, threshold 0.5) and scored against the
GT (a colour generator alone: how much of the GT ink its channel finds). Used by training
(``validate_every``), by the ablations and on checkpoints:

    python -m docbin.models.validate models/checkpoints/threestage/gray.small.pt --sets dibco2013 hdibco2016
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from docbin import io
from docbin.datasets.dibco import load_pairs
from docbin.errors import DocbinError, ParameterError
from docbin.metrics import binary_ink, evaluate, mean_scores, pseudo_weights
from docbin.models.export import load_generator, torch_runner
from docbin.preprocess import split_channels, to_rgb
from docbin.threestage.pipeline import PipelineConfig, channel_probability, ink_mask, local_probability, to_binary

SCORES = ("fm", "pseudo_fm", "psnr", "drd", "avg_score")


@dataclass
class ValPage:
    set: str
    image: np.ndarray  # the generator's page input: its channel view (H, W) or merged map M (H, W, 3)
    gt: np.ndarray
    weights: tuple[np.ndarray, np.ndarray]  # pseudo-FM recall / precision weights, computed once per GT

    @classmethod
    def of(cls, name: str, image: np.ndarray, gt: np.ndarray) -> ValPage:
        return cls(name, image, gt, pseudo_weights(binary_ink(gt, "ground truth")))


class Validator:
    """Scores a generator's thresholded output on fixed validation pages: mean metrics per set and overall."""

    def __init__(self, channel: str, pages: list[ValPage], cfg: PipelineConfig, device: torch.device) -> None:
        check_channel(channel)
        self.channel, self.pages, self.cfg, self.device = channel, pages, cfg, device

    @classmethod
    def for_config(cls, config: Any, device: torch.device) -> Validator:
        """Validation pages for a :class:`docbin.models.train.TrainConfig` (``val_root``/``val_sets``)."""
        check_channel(config.channel)
        scans = [(name, to_rgb(io.read_image(pair.image)), io.read_image(pair.gt))
                 for name in config.val_sets for pair in load_pairs(Path(config.val_root) / name)]
        cfg = config.pipeline(device)
        if config.channel == "local":
            from docbin.models.stage3 import stage2_runners
            from docbin.threestage.pipeline import merged_maps

            runners = stage2_runners(Path(config.stage2_dir or config.checkpoint_dir), device)
            pages = [ValPage.of(name, merged_maps(rgb, runners, cfg), gt) for name, rgb, gt in scans]
        else:
            pages = [ValPage.of(name, split_channels(rgb)[config.channel], gt) for name, rgb, gt in scans]
        return cls(config.channel, pages, cfg, device)

    def predict(self, runner: Any, page: ValPage) -> np.ndarray:
        if self.channel == "local":
            p = local_probability(page.image, runner, self.cfg)
        else:
            p = channel_probability(page.image, self.channel, runner, self.cfg)
        return to_binary(ink_mask(p, self.cfg.threshold))

    def run(self, generator: nn.Module) -> dict[str, dict[str, float | None]]:
        """Mean scores per set and over all sets (``"mean"``: the mean of the set means; a mean is ``None``
        where no page defines the metric)."""
        was_training = generator.training
        runner = torch_runner(generator, self.device)
        per_set: dict[str, list[dict[str, Any]]] = {}
        try:
            for page in self.pages:
                per_set.setdefault(page.set, []).append(evaluate(self.predict(runner, page), page.gt, *page.weights))
        finally:
            generator.train(was_training)
        result = {name: set_means(rows) for name, rows in per_set.items()}
        sets = list(result.values())
        result["mean"] = mean_scores(sets, [k for k in SCORES if all(k in r for r in sets)])
        return result


def check_channel(channel: str) -> None:
    if channel == "global":
        raise ParameterError("validation scores the Stage-2 and local generators against the GT, not the global one")


def set_means(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Means of :data:`SCORES` present in every row, as ``docbin evaluate`` averages them
    (:func:`docbin.metrics.mean_scores`), to 3 decimals."""
    means = mean_scores(rows, [k for k in SCORES if all(k in r for r in rows)])
    return {k: None if v is None else round(v, 3) for k, v in means.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+")
    args = parser.parse_args()
    from docbin.models.train import TrainConfig

    try:
        generator, meta = load_generator(args.checkpoint)
        config = TrainConfig.from_mapping(meta["config"])
        config.val_root = str(args.data)
        config.val_sets = args.sets or config.val_sets
        config.stage2_dir = config.stage2_dir or str(args.checkpoint.parent)
        device = config.resolved_device()
        scores = Validator.for_config(config, device).run(generator.to(device))
    except (DocbinError, FileNotFoundError) as exc:
        parser.exit(2, f"error: {getattr(exc, 'message', exc)}\n")
    for name, row in scores.items():
        print(f"{name:12s} " + "  ".join(f"{k} n/a" if v is None else f"{k} {v:.3f}" for k, v in row.items()))

if __name__ == "__main__":
    main()

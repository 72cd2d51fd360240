"""Supervised losses of the generators on P(ink) = sigmoid(logits): soft Dice, and clDice, which scores the
strokes' centre lines so that a broken or vanished thin stroke costs as much as a thick one (the pseudo-recall
of DIBCO's pseudo-FM weights the GT skeleton the same way)."""

from __future__ import annotations

import torch
from torch import nn

SKELETON_ITERATIONS = 6  # erosions of the soft skeleton: its centre lines reach into strokes up to ~13 px wide


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice of P(ink) (Milletari et al., 3DV 2016)."""
    p = torch.sigmoid(logits)
    return 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)


def soft_erode(x: torch.Tensor) -> torch.Tensor:
    """Grey erosion by a 3 x 3 cross: min of the vertical and horizontal 3-pixel minima."""
    return torch.minimum(-nn.functional.max_pool2d(-x, (3, 1), 1, (1, 0)), -nn.functional.max_pool2d(-x, (1, 3), 1, (0, 1)))


def soft_open(x: torch.Tensor) -> torch.Tensor:
    """Grey opening: the cross erosion, then a 3 x 3 dilation."""
    return nn.functional.max_pool2d(soft_erode(x), 3, 1, 1)


def soft_skeleton(x: torch.Tensor, iterations: int = SKELETON_ITERATIONS) -> torch.Tensor:
    """Soft morphological skeleton of maps in [0, 1] (Shit et al., CVPR 2021, Alg. 1): what each erosion
    leaves that its opening removes, accumulated."""
    skeleton = torch.relu(x - soft_open(x))
    for _ in range(iterations):
        x = soft_erode(x)
        delta = torch.relu(x - soft_open(x))
        skeleton = skeleton + torch.relu(delta - skeleton * delta)
    return skeleton


def cldice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - clDice (Shit et al., CVPR 2021): the harmonic mean of the predicted skeleton's precision against the
    GT and the GT skeleton's recall (sensitivity) by the prediction."""
    p = torch.sigmoid(logits)
    predicted = soft_skeleton(p)
    with torch.no_grad():
        true = soft_skeleton(target)
    precision = ((predicted * target).sum() + 1) / (predicted.sum() + 1)
    recall = ((true * p).sum() + 1) / (true.sum() + 1)
    return 1 - 2 * precision * recall / (precision + recall)

"""Function-preserving deepening of a trained U-Net generator (Net2DeeperNet, Chen et al., ICLR 2016): a generator
of depth ``d`` becomes one of depth ``d + 1``, one more down-sampling level under its coarsest, so that each output
pixel sees twice the context, and fine-tuning starts from the trained network instead of from scratch.

The old coarsest level's map x (after a ReLU, so x >= 0) no longer goes straight up: the new decoder of that level
now reads cat(x, up(new level)). It starts as the identity on x: both its convs pass their input through (a 3x3
identity kernel on x's channels, zero on the up-sampled ones), and both BatchNorms are set to undo their own
normalisation for x's statistics, gamma = sqrt(var + eps), beta = running mean = mean, running var = var, so that
BN(x) = x exactly in eval mode and nearly so on a training batch; the ReLUs then keep x >= 0 as it is. The new
level (encoder, up-sampling) starts from PyTorch's default initialisation; the decoder's zero weights on its output
get gradients at the first step, so training grows the new path from nothing.

x's per-channel mean and variance follow from the coarsest encoder's last BatchNorm (shift beta, scale gamma):
its normalised input is about N(0, 1), so x = ReLU(z) with z ~ N(beta, gamma^2), a rectified Gaussian with
E[x] = beta Phi(a) + gamma phi(a) and E[x^2] = (beta^2 + gamma^2) Phi(a) + beta gamma phi(a), a = beta / gamma.

    python -m docbin.models.deepen OUT.small.pt SOURCE.pt [--seed 0]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from docbin.models.networks import UNetGenerator

__all__ = ["deepen_checkpoint", "deepen_generator"]


def rectified_moments(beta: torch.Tensor, gamma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of ReLU(z), z ~ N(beta, gamma^2), per channel (a rectified Gaussian)."""
    sigma = gamma.abs().clamp_min(1e-6)
    a = beta / sigma
    cdf = 0.5 * (1 + torch.erf(a / math.sqrt(2)))
    pdf = torch.exp(-0.5 * a**2) / math.sqrt(2 * math.pi)
    mean = beta * cdf + sigma * pdf
    second = (beta**2 + sigma**2) * cdf + beta * sigma * pdf
    return mean, (second - mean**2).clamp_min(0)


def identity_conv(conv: nn.Conv2d, channels: int) -> None:
    """``conv`` (3x3, no bias) passes its first ``channels`` inputs through and ignores the rest."""
    weight = torch.zeros_like(conv.weight)
    weight[torch.arange(channels), torch.arange(channels), 1, 1] = 1.0
    conv.weight = nn.Parameter(weight)


def undoing_batchnorm(bn: nn.BatchNorm2d, mean: torch.Tensor, var: torch.Tensor) -> None:
    """``bn`` maps an input of per-channel ``mean`` and ``var`` to itself: exactly with its running statistics."""
    with torch.no_grad():
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(torch.sqrt(var + bn.eps))
        bn.bias.copy_(mean)


def deepen_generator(generator: UNetGenerator, seed: int = 0) -> UNetGenerator:
    """A float copy of ``generator`` with one more level under its coarsest that computes the same logits (in
    eval mode); the new level's weights are drawn from ``seed``."""
    first = generator.encoders[0][0]
    base, depth = first.out_channels, generator.depth
    torch.manual_seed(seed)
    deep = UNetGenerator(first.in_channels, base, depth + 1)
    missing, unexpected = deep.load_state_dict(generator.state_dict(), strict=False)
    new_level = (f"encoders.{depth + 1}.", f"ups.{depth}.", f"decoders.{depth}.")
    assert not unexpected and all(key.startswith(new_level) for key in missing), (missing, unexpected)
    coarsest = generator.encoders[depth][4]  # the old coarsest level's last BatchNorm, before its ReLU
    mean, var = rectified_moments(coarsest.bias.detach(), coarsest.weight.detach())
    decoder, width = deep.decoders[depth], base * 2**depth
    identity_conv(decoder[0], width)
    undoing_batchnorm(decoder[1], mean, var)
    identity_conv(decoder[3], width)
    undoing_batchnorm(decoder[4], mean, var)
    return deep.eval()


def deepen_checkpoint(source: Path, out: Path, seed: int = 0) -> dict[str, Any]:
    """Write ``source``'s generator deepened by one level as a small checkpoint (``state_dict``, ``config`` with
    the new depth, ``step``, ``grown_from``) that ``init_from`` can start the deeper generator from."""
    from docbin.models.export import grow_checkpoint

    return grow_checkpoint(source, out, lambda generator: deepen_generator(generator, seed), {"deepened": 1, "seed": seed})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the deepened checkpoint to write")
    parser.add_argument("source", type=Path, help="a float generator's checkpoint")
    parser.add_argument("--seed", type=int, default=0, help="seed of the new level's initial weights")
    args = parser.parse_args()
    try:
        small = deepen_checkpoint(args.source, args.out, args.seed)
    except (OSError, ValueError, KeyError) as exc:  # missing/unreadable files, non-checkpoints, 1-bit sources
        parser.exit(1, f"error: {exc}\n")
    print(f"wrote {args.out}: {args.source} deepened to depth {small['config']['generator']['depth']}")


if __name__ == "__main__":
    main()

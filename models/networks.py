"""Networks of the three-stage pipeline: a compact U-Net generator (Ronneberger et al., MICCAI 2015) that
returns logits of P(ink), and a PatchGAN critic (Isola et al., CVPR 2017) for WGAN-GP training.

Every inner convolution of the generator is built through a ``conv`` factory, so the binarized-weight
models can swap in 1-bit convolutions while the first and last layers stay in float.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from docbin.errors import ParameterError
from docbin.models.binary import BinarySettings

ConvFactory = Callable[[int, int], nn.Module]


def float_conv3x3(in_channels: int, out_channels: int) -> nn.Module:
    """The default inner convolution: 3x3, padding 1, no bias (a BatchNorm follows)."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)


class DoubleConv(nn.Sequential):
    """Two (conv3x3 -> BatchNorm -> ReLU) blocks; the first conv may be forced to float."""

    def __init__(self, in_channels: int, out_channels: int, conv: ConvFactory, first: ConvFactory | None = None):
        super().__init__(
            (first or conv)(in_channels, out_channels), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            conv(out_channels, out_channels), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        )


class UNetGenerator(nn.Module):
    """U-Net with ``depth`` down-sampling steps and ``base * 2**level`` channels per level.

    Input: (N, C, H, W) float32 = pixel / 255, H and W multiples of ``2**depth``. Output: (N, 1, H, W)
    logits of P(ink). The stem conv and the 1x1 head are always float convolutions, and so are the inner convs
    (encoder and decoder) of the ``real_levels`` finest levels; ``conv`` makes the others.
    """

    def __init__(self, in_channels: int = 1, base: int = 8, depth: int = 4, conv: ConvFactory = float_conv3x3,
                 real_levels: int = 0):
        super().__init__()
        if not 0 <= real_levels <= depth:
            raise ParameterError(f"real_levels must be in [0, {depth}] (the generator's depth), got {real_levels}")
        widths = [base * 2**level for level in range(depth + 1)]
        level_conv = [float_conv3x3 if level < real_levels else conv for level in range(depth + 1)]
        self.depth = depth
        self.encoders = nn.ModuleList(
            [DoubleConv(in_channels, widths[0], level_conv[0], first=float_conv3x3)]
            + [DoubleConv(widths[i], widths[i + 1], level_conv[i + 1]) for i in range(depth)]
        )
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(depth))
        self.decoders = nn.ModuleList(DoubleConv(2 * widths[i], widths[i], level_conv[i]) for i in range(depth))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x if level == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for level in reversed(range(self.depth)):
            x = self.decoders[level](torch.cat([skips.pop(), self.ups[level](x)], dim=1))
        return self.head(x)


class PatchCritic(nn.Module):
    """PatchGAN critic on (image, mask) pairs: strided 4x4 convs, InstanceNorm, LeakyReLU(0.2) (not the
    reference code's slope-1 ``LeakyReLU(True)``), one unbounded score per patch (WGAN: no sigmoid)."""

    def __init__(self, in_channels: int = 2, base: int = 32, layers: int = 3):
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(in_channels, base, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = base
        for _ in range(layers - 1):
            blocks += [nn.Conv2d(width, width * 2, 4, stride=2, padding=1),
                       nn.InstanceNorm2d(width * 2, affine=True), nn.LeakyReLU(0.2)]
            width *= 2
        blocks.append(nn.Conv2d(width, 1, 4, padding=1))
        self.net = nn.Sequential(*blocks)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([image, mask], dim=1))


def build_generator(spec: dict[str, Any], binary: Mapping[str, Any] | None = None) -> UNetGenerator:
    """A generator from a config mapping: ``in_channels``, ``base``, ``depth`` (defaults 1, 8, 4); with
    ``binary`` (:class:`docbin.models.binary.BinarySettings` fields), the inner 3x3 convs are 1-bit (but those of
    its ``real_levels`` finest levels)."""
    unknown = set(spec) - {"in_channels", "base", "depth"}
    if unknown:
        raise ParameterError(f"unknown generator settings {sorted(unknown)}")
    conv, real_levels = float_conv3x3, 0
    if binary is not None:
        settings = BinarySettings.from_mapping(binary)
        conv, real_levels = settings.conv_factory(), settings.real_levels
    return UNetGenerator(spec.get("in_channels", 1), spec.get("base", 8), spec.get("depth", 4), conv, real_levels)

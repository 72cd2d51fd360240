"""Photometric augmentation of training crops: the same page as another scan, another ink or a more faded
hand would show it, with its ground truth unchanged (every change is per pixel and keeps ink darker than its
paper), so that the Stage-2 generators learn ink by its contrast with the paper around it, not by the
absolute grey levels and colours of the few real training pages.

Each change follows the image formation it imitates: fading pulls every pixel toward the paper colour
(``paper + c (x - paper)``, ink at ``c`` of its contrast), a scanner's tone curve is a gamma, a colour cast a
per-channel gain, defocus a Gaussian blur, sensor noise additive Gaussian noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from docbin.errors import ParameterError
from docbin.models import settings


@dataclass(frozen=True)
class Photometric:
    """Share ``p`` of the crops changed, and the ranges each change is drawn from (uniformly)."""

    p: float = 0.0
    fade: list[float] = field(default_factory=lambda: [0.35, 1.0])  # ink contrast kept, c
    gamma: list[float] = field(default_factory=lambda: [0.7, 1.4])  # tone curve 255 (x / 255)^g
    tint: float = 0.12  # per-channel gain in [1 - tint, 1 + tint]
    blur: float = 1.0  # Gaussian sigma in [0.3, blur] on half of the changed crops (0: never)
    noise: float = 6.0  # noise standard deviation in grey levels, in [0, noise]

    def __post_init__(self) -> None:
        def interval(r: list[float], top: float) -> bool:
            return len(r) == 2 and 0 < r[0] <= r[1] <= top

        valid = {
            "p": (0 <= self.p <= 1, "in [0, 1]"),
            "fade": (interval(self.fade, 1), "[low, high] with 0 < low <= high <= 1"),
            "gamma": (interval(self.gamma, float("inf")), "[low, high] with 0 < low <= high"),
            "tint": (0 <= self.tint < 1, "in [0, 1)"),
            "blur": (self.blur >= 0, ">= 0"),
            "noise": (self.noise >= 0, ">= 0"),
        }
        wrong = [f"{name}={getattr(self, name)!r} (must be {rule})" for name, (ok, rule) in valid.items() if not ok]
        if wrong:
            raise ParameterError(f"photometric setting(s) out of range: {', '.join(wrong)}")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Photometric:
        return settings.from_mapping(cls, values, "photometric")


def paper_colour(rgb: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The median colour of the crop's non-ink pixels, over at most ~20k of them (None when the crop is all ink)."""
    background = rgb[~ink]
    return np.median(background[:: 1 + len(background) // 20000], axis=0) if len(background) else None


def photometric(rng: np.random.Generator, rgb: np.ndarray, ink: np.ndarray, look: Photometric) -> np.ndarray:
    """``rgb`` (H, W, 3) ``uint8`` as another scan would show it, with probability ``look.p`` (else unchanged,
    and no random numbers drawn when ``look.p`` is 0, so that runs without it draw as before)."""
    if not look.p or rng.random() >= look.p:
        return rgb
    x = rgb.astype(np.float32)
    paper = paper_colour(x, ink)
    if paper is not None:
        x = paper + rng.uniform(*look.fade) * (x - paper)
    x = 255 * (np.clip(x, 0, 255) / 255) ** rng.uniform(*look.gamma)
    x *= rng.uniform(1 - look.tint, 1 + look.tint, size=3).astype(np.float32)
    if look.blur and rng.random() < 0.5:
        x = cv2.GaussianBlur(x, (0, 0), float(rng.uniform(0.3, max(look.blur, 0.3))))
    if look.noise:
        x += rng.normal(0, rng.uniform(0, look.noise), size=x.shape).astype(np.float32)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)

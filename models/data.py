"""Training samples for the Stage-2 channel generators: random multi-scale, rotated, flipped crops of whole
pages, passed through the same Stage-1 transform as inference (docbin.preprocess)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from docbin import io
from docbin.datasets.dibco import load_pairs
from docbin.preprocess import channel_target, dwt_ll_channel, split_channels, to_rgb

ChannelName = Literal["gray", "red", "green", "blue"]
VALIDATION_SETS = frozenset({"dibco2011", "dibco2013", "hdibco2014", "hdibco2016"})


@dataclass
class Page:
    rgb: np.ndarray
    gt_ink: np.ndarray


def load_pages(data_root: Path, sets: Sequence[str]) -> list[Page]:
    """Every page of ``sets`` under ``data_root`` (refuses the four validation sets)."""
    leaked = VALIDATION_SETS & set(sets)
    if leaked:
        raise ValueError(f"never train on the validation sets {sorted(leaked)}")
    return [
        Page(to_rgb(io.read_image(pair.image)), io.read_image(pair.gt) < 128)
        for name in sets
        for pair in load_pairs(data_root / name)
    ]


def random_crop(rng: np.random.Generator, page: Page, size: int, scales: tuple[float, float]) -> Page:
    """A ``size`` x ``size`` crop at a random scale, rotated by a multiple of 90 degrees, maybe flipped."""
    scale = rng.uniform(*scales)
    h, w = page.gt_ink.shape
    sh, sw = max(size, round(h * scale)), max(size, round(w * scale))
    rgb = cv2.resize(page.rgb, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    ink = cv2.resize(page.gt_ink.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST).astype(bool)
    y, x = rng.integers(0, sh - size + 1), rng.integers(0, sw - size + 1)
    rgb, ink = rgb[y : y + size, x : x + size], ink[y : y + size, x : x + size]
    k = int(rng.integers(4))
    rgb, ink = np.rot90(rgb, k), np.rot90(ink, k)
    if rng.random() < 0.5:
        rgb, ink = rgb[:, ::-1], ink[:, ::-1]
    return Page(np.ascontiguousarray(rgb), np.ascontiguousarray(ink))


def channel_sample(crop: Page, channel: ChannelName) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) of one generator: gray as is with GT ink; a colour channel through the Haar-LL
    transform with the channel target (GT ink or dark in that channel); both float32 (1, H, W)."""
    view = split_channels(crop.rgb)[channel]
    if channel == "gray":
        return view[None].astype(np.float32) / 255, crop.gt_ink[None].astype(np.float32)
    transformed = dwt_ll_channel(view)
    target = channel_target(crop.gt_ink, transformed)
    return transformed[None].astype(np.float32) / 255, target[None].astype(np.float32)


def batch(
    rng: np.random.Generator, pages: Sequence[Page], channel: ChannelName, size: int, count: int,
    scales: tuple[float, float] = (0.75, 1.5),
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` samples stacked: inputs (N, 1, size, size) in [0, 1], targets (N, 1, size, size) in {0, 1}."""
    samples = [channel_sample(random_crop(rng, pages[int(rng.integers(len(pages)))], size, scales), channel)
               for _ in range(count)]
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])

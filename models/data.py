"""Training samples for the three-stage generators: random multi-scale, rotated, flipped crops of whole
pages, passed through the same Stage-1 transform as inference (docbin.stage1, docbin.threestage).

- Stage 2 (``gray``, ``red``, ``green``, ``blue``): a crop of the scan; gray as is, colour channels through
  the Haar-LL transform with the channel target (GT ink or dark in that channel), normalised over the crop
  or, with a ``context``, over a window of that side around it (as inference's Stage-1 windows do).
- Stage 3 ``local``: a crop of the page's merged map M (see :mod:`docbin.models.stage3`) with the GT.
- Stage 3 ``global``: the whole page (or a large part of it) as the global branch sees it, 512 x 512.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from docbin import io
from docbin.datasets.dibco import load_pairs
from docbin.datasets.synthetic import SynthOptions, SyntheticPages
from docbin.errors import ParameterError
from docbin.models.photometric import Photometric, photometric
from docbin.preprocess import split_channels, to_rgb
from docbin.stage1 import channel_target, dwt_ll_channel
from docbin.threestage.pipeline import COLOUR_CHANNELS, PipelineConfig, global_square

GeneratorName = Literal["gray", "red", "green", "blue", "local", "global"]
STAGE2 = ("gray", "red", "green", "blue")
VALIDATION_SETS = frozenset({"dibco2011", "dibco2013", "hdibco2014", "hdibco2016"})


@dataclass
class Page:
    """A training page: ``rgb`` (H, W, 3) ``uint8`` (the scan, or the merged map M for ``local``), its
    GT ink mask, and the real set it comes from ("" for a synthetic page)."""

    rgb: np.ndarray
    gt_ink: np.ndarray
    source: str = ""


def load_pages(data_root: Path, sets: Sequence[str], allow_validation_sets: bool = False) -> list[Page]:
    """Every page of ``sets`` under ``data_root``; the four validation sets are refused unless
    ``allow_validation_sets`` (a cross-validation fold, or the final fit of a recipe chosen without them)."""
    leaked = VALIDATION_SETS & set(sets)
    if leaked and not allow_validation_sets:
        raise ParameterError(f"never train on the validation sets {sorted(leaked)} "
                             "(allow_validation_sets: true for a cross-validation fold or a final fit)")
    return [
        Page(to_rgb(io.read_image(pair.image)), io.read_image(pair.gt) < 128, name)
        for name in sets
        for pair in load_pairs(data_root / name)
    ]


def synthetic_options(options: dict[str, Any]) -> SynthOptions:
    """The synthetic pages' options from a config mapping: SynthOptions fields, and ``profile: robust`` to
    start from :meth:`SynthOptions.robust` instead of the defaults."""
    values = dict(options)
    profile = values.pop("profile", "default")
    if profile not in ("default", "robust"):
        raise ParameterError(f"synthetic profile must be 'default' or 'robust', got {profile!r}")
    if profile == "robust":
        return SynthOptions.robust(**values)
    return SynthOptions.from_kwargs(**values)


def synthetic_pages(count: int, seed: int, height: int, width: int, options: dict[str, Any] | None = None) -> list[Page]:
    """``count`` synthetic degraded pages (docbin.datasets.synthetic), page i from the seed (seed, i)."""
    stream = SyntheticPages(seed=seed, height=height, width=width, options=synthetic_options(options or {}))
    return [Page(rgb, gt < 128) for rgb, gt in (stream[i] for i in range(count))]


def augment(rng: np.random.Generator, image: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate both by a random multiple of 90 degrees and flip them horizontally half of the time."""
    k = int(rng.integers(4))
    image, ink = np.rot90(image, k), np.rot90(ink, k)
    if rng.random() < 0.5:
        image, ink = image[:, ::-1], ink[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(ink)


def random_crop(rng: np.random.Generator, page: Page, size: int, scales: tuple[float, float]) -> Page:
    """A ``size`` x ``size`` crop of the page rescaled by a random factor in ``scales``, rotated and flipped.

    Only the window that becomes the crop is resized (a ``size / scale`` square of the page; pages smaller
    than that are stretched to fill the crop)."""
    scale = rng.uniform(*scales)
    h, w = page.gt_ink.shape
    wh, ww = min(h, round(size / scale)), min(w, round(size / scale))
    y, x = int(rng.integers(0, h - wh + 1)), int(rng.integers(0, w - ww + 1))
    rgb, ink = resized(page.rgb[y : y + wh, x : x + ww], page.gt_ink[y : y + wh, x : x + ww], size, size)
    return Page(*augment(rng, rgb, ink))


def resized(image: np.ndarray, ink: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """An image (area-averaged when shrunk, bicubic when enlarged) and its ink mask (nearest) at one size."""
    shrink = image.shape[0] > height or image.shape[1] > width
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return image, cv2.resize(ink.view(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).view(bool)


def channel_sample(crop: Page, channel: GeneratorName, dwt: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) of one generator on a crop, both float32 (C, H, W): gray as is with GT ink; a colour
    channel through the Haar-LL transform (raw when ``dwt`` is off) with the channel target; ``local`` and
    ``global``: the three channels of the crop (M, or the page) with GT ink."""
    target = crop.gt_ink[None].astype(np.float32)
    if channel in ("local", "global"):
        return crop.rgb.transpose(2, 0, 1).astype(np.float32) / 255, target
    view = split_channels(crop.rgb)[channel]
    if channel == "gray":
        return view[None].astype(np.float32) / 255, target
    transformed = dwt_ll_channel(view) if dwt else view
    return transformed[None].astype(np.float32) / 255, channel_target(crop.gt_ink, transformed)[None].astype(np.float32)


def context_sample(
    rng: np.random.Generator, page: Page, channel: GeneratorName, size: int, scales: tuple[float, float], context: int,
    look: Photometric = Photometric(),
) -> tuple[np.ndarray, np.ndarray]:
    """(input, target) of a colour channel on a ``size`` crop whose Stage-1 transform (Haar LL min-max
    normalisation and the channel target's 0.3 x max) spans a ``context`` x ``context`` window around it,
    as :func:`docbin.threestage.pipeline.stage1_page` normalises over ``stage1_window`` windows at inference: random
    scale, then rotation and flip of the window, the photometric change ``look``, then the transform, then the crop."""
    scale = rng.uniform(*scales)
    h, w = page.gt_ink.shape
    wh, ww = min(h, round(context / scale)), min(w, round(context / scale))
    y, x = int(rng.integers(0, h - wh + 1)), int(rng.integers(0, w - ww + 1))
    view, ink = resized(page.rgb[y : y + wh, x : x + ww], page.gt_ink[y : y + wh, x : x + ww],
                        max(size, round(wh * scale)), max(size, round(ww * scale)))
    view, ink = augment(rng, view, ink)
    view = photometric(rng, view, ink, look)[..., COLOUR_CHANNELS.index(channel)]
    transformed = dwt_ll_channel(view)
    target = channel_target(ink, transformed)
    cy, cx = int(rng.integers(0, view.shape[0] - size + 1)), int(rng.integers(0, view.shape[1] - size + 1))
    window = (slice(cy, cy + size), slice(cx, cx + size))
    return transformed[window][None].astype(np.float32) / 255, target[window][None].astype(np.float32)


def global_view(rng: np.random.Generator, page: Page, cfg: PipelineConfig) -> Page:
    """The global branch's training view: half of the time a random 70-100 % window of the page, then
    :func:`docbin.threestage.pipeline.global_square` on scan and GT (target: any GT ink in the area a pixel covers,
    since the fusion keeps local ink only near global ink), rotated and flipped."""
    rgb, ink = page.rgb, page.gt_ink
    if rng.random() < 0.5:
        h, w = ink.shape
        fh, fw = rng.uniform(0.7, 1.0, size=2)
        wh, ww = round(h * fh), round(w * fw)
        y, x = int(rng.integers(0, h - wh + 1)), int(rng.integers(0, w - ww + 1))
        rgb, ink = rgb[y : y + wh, x : x + ww], ink[y : y + wh, x : x + ww]
    square, _, _ = global_square(rgb, cfg)
    gt_square, _, _ = global_square(np.where(ink, 0, 255).astype(np.uint8), cfg)
    return Page(*augment(rng, square, gt_square < 255))


def sample(
    rng: np.random.Generator, page: Page, channel: GeneratorName, size: int,
    scales: tuple[float, float] = (0.75, 1.5), dwt: bool = True, context: int = 0,
    pad_aspect: float = PipelineConfig.global_pad_aspect, look: Photometric = Photometric(),
) -> tuple[np.ndarray, np.ndarray]:
    """One random (input, target) of ``channel`` from ``page``: a ``size`` crop, or for ``global`` the page
    resized to ``size``^2 (padded to a square first when its aspect exceeds ``pad_aspect``); ``context`` > 0:
    colour channels' Stage 1 over a window of that side; Stage-2 crops changed by ``look`` (photometric)."""
    if context and dwt and channel in COLOUR_CHANNELS:
        return context_sample(rng, page, channel, size, scales, context, look)
    if channel == "global":
        return channel_sample(global_view(rng, page, PipelineConfig(global_size=size, global_pad_aspect=pad_aspect)), channel)
    crop = random_crop(rng, page, size, scales)
    if channel in STAGE2:
        crop = Page(photometric(rng, crop.rgb, crop.gt_ink, look), crop.gt_ink)
    return channel_sample(crop, channel, dwt)


def batch(
    rng: np.random.Generator, pages: Sequence[Page], channel: GeneratorName, size: int, count: int,
    scales: tuple[float, float] = (0.75, 1.5), dwt: bool = True, context: int = 0, odds: np.ndarray | None = None,
    pad_aspect: float = PipelineConfig.global_pad_aspect, look: Photometric = Photometric(),
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` samples stacked: inputs (N, C, size, size) in [0, 1], targets (N, 1, size, size) in {0, 1};
    each from a page drawn uniformly, or with the probabilities ``odds``."""
    def pick() -> Page:  # drawn per sample, between the samples' own draws, as runs before ``odds`` did
        return pages[int(rng.integers(len(pages)) if odds is None else rng.choice(len(pages), p=odds))]

    samples = [sample(rng, pick(), channel, size, scales, dwt, context, pad_aspect, look) for _ in range(count)]
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples])

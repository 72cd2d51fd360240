"""Shared preprocessing core: gray conversion, channel split, the three-stage pipeline's Stage-1 Haar DWT
transform, and tiling with overlap + seamless stitching for images of any size.

Conventions (docs/ARCHITECTURE.md): arrays are numpy, colour is RGB order, 8-bit unless stated otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Channel = Literal["luma", "red", "green", "blue"]
_CHANNEL_INDEX = {"red": 0, "green": 1, "blue": 2}

# Ju et al. (KBS 2024), Stage 1: a colour channel's target also marks pixels whose normalised LL is
# at most this fraction of the channel maximum ("ink or dark in this channel").
CHANNEL_TARGET_FRACTION = 0.3


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Scale 16-bit (or bool/float in [0, 1]) images to ``uint8``; ``uint8`` passes through unchanged."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    raise TypeError(f"unsupported pixel type {image.dtype}")


def to_gray(image: np.ndarray, channel: Channel = "luma") -> np.ndarray:
    """Gray ``uint8`` image: ITU-R BT.601 luma (OpenCV's RGB2GRAY) or one chosen RGB channel."""
    image = to_uint8(image)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    if channel == "luma":
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image[:, :, _CHANNEL_INDEX[channel]])


def to_rgb(image: np.ndarray) -> np.ndarray:
    """RGB ``uint8`` image (gray is replicated into three channels)."""
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    return image


def split_channels(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """The three-stage pipeline's four single-channel views: gray (luma), red, green, blue."""
    rgb = to_rgb(rgb)
    return {
        "gray": to_gray(rgb),
        "red": np.ascontiguousarray(rgb[:, :, 0]),
        "green": np.ascontiguousarray(rgb[:, :, 1]),
        "blue": np.ascontiguousarray(rgb[:, :, 2]),
    }


def haar_ll(channel: np.ndarray) -> np.ndarray:
    """Approximation (LL) band of a one-level 2-D Haar DWT (Mallat 1989), ``float32``, half size (rounded up):
    LL = (x[2i, 2j] + x[2i, 2j+1] + x[2i+1, 2j] + x[2i+1, 2j+1]) / 2, an odd last row or column paired with
    itself as ``pywt.dwt2(x, "haar")`` does (symmetric extension). Written out because it is all of the
    transform that Stage 1 keeps: 7x faster than ``pywt.dwt2``, which computes all four bands."""
    h, w = channel.shape
    x = channel.astype(np.float32)
    if h % 2 or w % 2:
        x = np.pad(x, ((0, h % 2), (0, w % 2)), mode="edge")
    return (x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]) * np.float32(0.5)


def minmax_normalise(x: np.ndarray) -> np.ndarray:
    """Min-max normalisation to [0, 255] (a constant input maps to 0)."""
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros_like(x, dtype=np.float32)
    return ((x - lo) * (255.0 / (hi - lo))).astype(np.float32)


def dwt_ll_channel(channel: np.ndarray) -> np.ndarray:
    """Stage 1 of Ju et al. (KBS 2024) for one colour channel: Haar LL -> min-max to [0, 255] ->
    bicubic upsampling to the input size -> clip -> ``uint8`` (the reference code wraps instead of clipping)."""
    h, w = channel.shape
    ll = minmax_normalise(haar_ll(channel))
    up = cv2.resize(ll, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.rint(up), 0, 255).astype(np.uint8)


def stage1_inputs(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Stage-1 generator inputs of a colour patch: gray as is, R/G/B through :func:`dwt_ll_channel`."""
    views = split_channels(rgb)
    return {name: view if name == "gray" else dwt_ll_channel(view) for name, view in views.items()}


def channel_target(gt_ink: np.ndarray, channel_input: np.ndarray) -> np.ndarray:
    """Stage-1 colour-channel target (bool, True = ink): GT ink united with pixels whose normalised LL
    (``channel_input`` from :func:`dwt_ll_channel`) is <= 0.3 x the channel maximum (Ju et al., KBS 2024)."""
    return gt_ink | (channel_input <= CHANNEL_TARGET_FRACTION * float(channel_input.max()))


# ---------------------------------------------------------------------------------------------------
# Tiling with overlap and seamless stitching
# ---------------------------------------------------------------------------------------------------

Merge = Literal["crop", "max", "mean"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)`` with at least ``overlap`` shared
    pixels between neighbours; the last tile ends exactly at ``length`` (``length >= tile``)."""
    if tile <= overlap:
        raise ValueError(f"tile ({tile}) must be larger than overlap ({overlap})")
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def core_bounds(starts: list[int], tile: int, length: int) -> list[tuple[int, int]]:
    """For each tile, the half-open range of pixels it owns in "crop" stitching: neighbours split their
    overlap in the middle, so every pixel comes from the tile where it lies farthest from an edge."""
    cuts = [(a + tile + b) // 2 for a, b in zip(starts, starts[1:])]
    return list(zip([0, *cuts], [*cuts, length]))


@dataclass(frozen=True)
class Tile:
    """One tile: its window ``[y, y + size) x [x, x + size)`` in the (padded) image and the core region
    ``[cy0, cy1) x [cx0, cx1)`` it owns in crop stitching."""

    y: int
    x: int
    cy0: int
    cy1: int
    cx0: int
    cx1: int


def plan_tiles(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """The tile grid for an image of ``height x width`` (each side at least ``tile``), row-major."""
    ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    y_cores, x_cores = core_bounds(ys, tile, height), core_bounds(xs, tile, width)
    return [
        Tile(y, x, cy0, cy1, cx0, cx1)
        for y, (cy0, cy1) in zip(ys, y_cores)
        for x, (cx0, cx1) in zip(xs, x_cores)
    ]


def pad_to_min_size(image: np.ndarray, size: int) -> np.ndarray:
    """Reflect-pad the bottom/right of ``image`` so both sides are at least ``size``."""
    h, w = image.shape[:2]
    pad_h, pad_w = max(0, size - h), max(0, size - w)
    if not pad_h and not pad_w:
        return image
    pad = ((0, pad_h), (0, pad_w)) + ((0, 0),) * (image.ndim - 2)
    mode = "reflect" if h > pad_h and w > pad_w else "symmetric"
    return np.pad(image, pad, mode=mode)


def iter_tile_batches(
    image: np.ndarray, tiles: list[Tile], size: int, batch_size: int
) -> Iterator[tuple[list[Tile], np.ndarray]]:
    """Yield ``(tiles, stacked windows)`` batches; windows are views stacked into one array per batch."""
    for i in range(0, len(tiles), batch_size):
        chunk = tiles[i : i + batch_size]
        yield chunk, np.stack([image[t.y : t.y + size, t.x : t.x + size] for t in chunk])


def apply_tiled(
    image: np.ndarray,
    predict: Callable[[np.ndarray], np.ndarray],
    tile: int = 256,
    overlap: int = 32,
    batch_size: int = 4,
    merge: Merge = "crop",
    out_dtype: type = np.float32,
) -> np.ndarray:
    """Run ``predict`` (a batch of ``(N, tile, tile[, C])`` windows -> ``(N, tile, tile)`` maps) over
    overlapping tiles of ``image`` and stitch the results into one ``(H, W)`` map.

    ``merge``: "crop" keeps each tile's core (seamless: an identity ``predict`` reproduces the input
    exactly); "max" takes the pixelwise maximum over overlapping tiles (the three-stage paper's minimum
    of P(background) = maximum of P(ink)); "mean" averages them. Only one batch of tiles is held at once.
    """
    h, w = image.shape[:2]
    padded = pad_to_min_size(image, tile)
    ph, pw = padded.shape[:2]
    tiles = plan_tiles(ph, pw, tile, overlap)
    out = np.zeros((ph, pw), dtype=np.float32 if merge == "mean" else out_dtype)
    if merge == "max":
        out.fill(np.finfo(out.dtype).min if np.issubdtype(out.dtype, np.floating) else np.iinfo(out.dtype).min)
    counts = np.zeros((ph, pw), dtype=np.uint8) if merge == "mean" else None
    for chunk, windows in iter_tile_batches(padded, tiles, tile, batch_size):
        maps = np.asarray(predict(windows))
        if maps.shape[:3] != (len(chunk), tile, tile):
            raise ValueError(f"predict returned shape {maps.shape}, expected ({len(chunk)}, {tile}, {tile})")
        for t, m in zip(chunk, maps):
            if merge == "crop":
                out[t.cy0 : t.cy1, t.cx0 : t.cx1] = m[t.cy0 - t.y : t.cy1 - t.y, t.cx0 - t.x : t.cx1 - t.x]
            elif merge == "max":
                region = out[t.y : t.y + tile, t.x : t.x + tile]
                np.maximum(region, m, out=region)
            else:
                out[t.y : t.y + tile, t.x : t.x + tile] += m
                counts[t.y : t.y + tile, t.x : t.x + tile] += 1
    if counts is not None:
        out = (out / counts).astype(out_dtype)
    return out[:h, :w]

"""Tiling with overlap and seamless stitching: run a per-tile model over an image of any size and merge the
tiles' maps (crop, max or mean).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from docbin.errors import ParameterError

__all__ = [
    "Merge", "Tile", "apply_tiled", "core_bounds", "iter_tile_batches", "pad_to_min_size", "plan_tiles", "tile_starts",
]

Merge = Literal["crop", "max", "mean"]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles covering ``[0, length)`` along one axis.

    Parameters
    ----------
    length : int
        Size of the axis, at least ``tile`` (see :func:`pad_to_min_size`).
    tile : int
        Tile side.
    overlap : int
        Least number of pixels neighbouring tiles share; smaller than ``tile``.

    Returns
    -------
    list of int
        ``0, tile - overlap, 2 (tile - overlap), ...`` and last ``length - tile``, so the last tile ends at
        ``length``; ``[0]`` when one tile covers the axis.

    Raises
    ------
    ParameterError
        When ``tile <= overlap``.

    Examples
    --------
    >>> tile_starts(100, 40, 8)
    [0, 32, 60]
    """
    if tile <= overlap:
        raise ParameterError(f"tile ({tile}) must be larger than overlap ({overlap})")
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def core_bounds(starts: list[int], tile: int, length: int) -> list[tuple[int, int]]:
    """The pixels each tile owns in "crop" stitching: neighbours split their overlap in the middle, so
    every pixel comes from the tile where it lies farthest from an edge.

    Parameters
    ----------
    starts : list of int
        :func:`tile_starts` of the axis.
    tile : int
        Tile side.
    length : int
        Size of the axis.

    Returns
    -------
    list of (int, int)
        Per tile, the half-open range ``[first, stop)`` it owns; the ranges tile ``[0, length)``.
    """
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
    """The tile grid of an image.

    Parameters
    ----------
    height, width : int
        Image size, each at least ``tile``.
    tile, overlap : int
        As in :func:`tile_starts`.

    Returns
    -------
    list of Tile
        Row-major, each with its window and the core it owns (:func:`core_bounds`).
    """
    ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    y_cores, x_cores = core_bounds(ys, tile, height), core_bounds(xs, tile, width)
    return [
        Tile(y, x, cy0, cy1, cx0, cx1)
        for y, (cy0, cy1) in zip(ys, y_cores)
        for x, (cx0, cx1) in zip(xs, x_cores)
    ]


def pad_to_min_size(image: np.ndarray, size: int) -> np.ndarray:
    """Pad the bottom and right of an image so both sides are at least ``size``.

    Parameters
    ----------
    image : ndarray
        ``(H, W)`` or ``(H, W, C)``.
    size : int
        Least side wanted.

    Returns
    -------
    ndarray
        ``image`` itself when both sides reach ``size``; else padded by reflection (by symmetric extension
        when a side is too short to reflect), so the original is ``result[:H, :W]``.
    """
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
    """The tiles' windows in batches.

    Parameters
    ----------
    image : ndarray
        The (padded) image the tiles were planned on.
    tiles : list of Tile
        From :func:`plan_tiles`.
    size : int
        Tile side.
    batch_size : int
        Tiles per batch (the last may hold fewer).

    Yields
    ------
    (list of Tile, ndarray)
        A batch's tiles and their windows stacked into one ``(N, size, size[, C])`` array.
    """
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
    """Run a per-tile model over overlapping tiles of an image and stitch its maps into one.

    Only one batch of tiles is held at once; an image smaller than a tile is padded
    (:func:`pad_to_min_size`) and the map cropped back.

    Parameters
    ----------
    image : ndarray
        ``(H, W)`` or ``(H, W, C)``.
    predict : callable
        A batch of ``(N, tile, tile[, C])`` windows -> ``(N, tile, tile)`` maps.
    tile, overlap : int, optional
        Tile side and least overlap of neighbours (:func:`tile_starts`).
    batch_size : int, optional
        Tiles per ``predict`` call.
    merge : {"crop", "max", "mean"}, optional
        "crop" keeps each tile's core (seamless: an identity ``predict`` reproduces the input exactly);
        "max" the pixelwise maximum over overlapping tiles (the three-stage paper's minimum of
        P(background) = maximum of P(ink)); "mean" their average.
    out_dtype : type, optional
        Type of the map.

    Returns
    -------
    ndarray
        ``(H, W)`` map of ``out_dtype``.

    Examples
    --------
    >>> image = np.arange(300 * 200, dtype=np.float32).reshape(300, 200)
    >>> bool((apply_tiled(image, lambda windows: windows, tile=64, overlap=8) == image).all())
    True
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

"""O(N) local window statistics with box filters, streamed in cache-sized tiles.

A local method looks at a ``window`` x ``window`` neighbourhood of every pixel. Its sums are taken with
OpenCV box filters (integer accumulation, so exact before the final scaling), which cost O(1) per pixel
whatever the window size. The window follows DoxaPy's conventions: for pixel ``(y, x)`` it spans rows
``y - (window - 1) // 2`` to ``y + window // 2`` (likewise columns) and is clipped to the image, so
statistics near the border are taken over the in-image pixels only. Images are processed in tiles (each
read with a window halo) whose buffers are reused from tile to tile by each thread, so memory stays at a
few tile-sized buffers per thread even for a 50 MP page.
Reference: Shafait, Keysers, Breuel, "Efficient implementation of local adaptive thresholding techniques
using integral images", DRR 2008.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from docbin.errors import ParameterError
from docbin.threads import default_threads, shared_pool

# Output rows x columns per tile: small enough that a tile's buffers stay near the core (L2 / L3), large
# enough that the window halo read around it stays a small share (best of 128-1024 x 512-2048 on a 12 MP scan).
TILE_ROWS = 256
TILE_COLS = 1024
# Box sums of squares are accumulated exactly in int32 by OpenCV up to this window area.
MAX_EXACT_AREA = (2**31 - 1) // (255 * 255)


@dataclass(frozen=True)
class Tile:
    """Pixels ``[top, bottom) x [left, right)`` with their local mean E[x] and mean square E[x^2] (float32).

    The arrays are per-thread scratch buffers, valid only while the job that receives the tile runs; a rule
    may overwrite them (rules compute their threshold in place to save passes over memory).
    """

    top: int
    bottom: int
    left: int
    right: int
    gray: np.ndarray
    mean: np.ndarray
    mean_square: np.ndarray
    scratch: np.ndarray
    gray_scratch: np.ndarray

    def variance(self) -> np.ndarray:
        """Local variance |E[x^2] - E[x]^2| in ``scratch`` (float32 rounding can leave a tiny negative)."""
        cv2.multiply(self.mean, self.mean, dst=self.scratch)
        return cv2.absdiff(self.mean_square, self.scratch, dst=self.scratch)

    def ink_where_at_most(self, threshold: np.ndarray, out: np.ndarray) -> None:
        """Write the tile's binary image into ``out``: ink (0) where gray <= threshold, else 255.

        OpenCV compares float32 to float32 in one pass, faster than numpy's mixed uint8 / float32 loop.
        """
        np.copyto(self.gray_scratch, self.gray)
        cv2.compare(self.gray_scratch, threshold, cv2.CMP_GT, dst=out)


# A thresholding rule maps a tile's statistics to its threshold surface T (ink where gray <= T).
Rule = Callable[[Tile], np.ndarray]
T = TypeVar("T")
Item = TypeVar("Item")

_workspace = threading.local()


def window_counts(length: int, window: int) -> np.ndarray:
    """Number of in-image positions covered by the clipped window along one axis (DoxaPy's extent)."""
    index = np.arange(length)
    first = np.maximum(index - (window - 1) // 2, 0)
    last = np.minimum(index + window // 2, length - 1)
    return (last - first + 1).astype(np.float64)


def split(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    """``[first, last)`` ranges of about ``size`` (never a sliver) covering ``start .. stop``."""
    parts = max(round((stop - start) / max(size, 1)), 1)
    edges = [start + (stop - start) * part // parts for part in range(parts + 1)]
    return [(first, last) for first, last in zip(edges, edges[1:]) if last > first]


def tile_bounds(height: int, width: int, window: int) -> list[tuple[int, int, int, int]]:
    """Tiles ``(top, bottom, left, right)``: the four border bands where the image clips the window, each
    one tile, and a grid of about ``TILE_ROWS x TILE_COLS`` (>= 2 windows a side) inside them.

    Only the band tiles take the slower clipped-window path, with a few calls each.
    """
    before, after = (window - 1) // 2, window // 2
    rows, cols = max(TILE_ROWS, 2 * window), max(TILE_COLS, 2 * window)
    if height <= before + after or width <= before + after:  # every window is clipped
        return [(top, bottom, left, right) for top, bottom in split(0, height, rows)
                for left, right in split(0, width, cols)]
    bands = [(0, before, 0, width), (height - after, height, 0, width),
             (before, height - after, 0, before), (before, height - after, width - after, width)]
    grid = [(top, bottom, left, right) for top, bottom in split(before, height - after, rows)
            for left, right in split(before, width - after, cols)]
    return [(top, bottom, left, right) for top, bottom, left, right in bands if top < bottom and left < right] + grid


def box_sum(image: np.ndarray, window: int, depth: int = cv2.CV_64F) -> np.ndarray:
    """Sum over the clipped window (zeros outside the image); OpenCV accumulates integers exactly."""
    anchor = (window - 1) // 2
    return cv2.boxFilter(
        image, depth, (window, window), anchor=(anchor, anchor), normalize=False,
        borderType=cv2.BORDER_CONSTANT,
    )


def _buffers(shape: tuple[int, int]) -> tuple[list[np.ndarray], np.ndarray]:
    """This thread's four float32 and one float64 scratch buffers, viewed as contiguous arrays of ``shape``."""
    size = shape[0] * shape[1]
    held = getattr(_workspace, "buffers", None)
    if held is None or held[1].size < size:
        held = ([np.empty(size, np.float32) for _ in range(4)], np.empty(size, np.float64))
        _workspace.buffers = held
    return [buffer[:size].reshape(shape) for buffer in held[0]], held[1][:size].reshape(shape)


@dataclass(frozen=True)
class _Counts:
    """In-image window extents along each axis (DoxaPy's clipped window)."""

    rows: np.ndarray
    cols: np.ndarray
    window: int

    @classmethod
    def of(cls, height: int, width: int, window: int) -> _Counts:
        return cls(window_counts(height, window), window_counts(width, window), window)

    def clipped(self, top: int, bottom: int, left: int, right: int) -> np.ndarray | None:
        """The tile's window areas where the border clips some window, else None (all window^2)."""
        before, after = (self.window - 1) // 2, self.window // 2
        if top >= before and bottom <= len(self.rows) - after and left >= before and right <= len(self.cols) - after:
            return None
        return np.outer(self.rows[top:bottom], self.cols[left:right])


def _tile_statistics(gray: np.ndarray, window: int, bounds: tuple[int, int, int, int], counts: _Counts) -> Tile:
    """Local mean S / n and mean square Q / n for one tile, read with a window halo (zeros beyond the image).

    OpenCV sums S (< 2^24, so exact in float32) and Q exactly; S / n is one float32 division, Q / n is taken
    in double and rounded once, as DoxaPy's double statistics would round. (OpenCV's own float32
    normalisation rounds both before scaling, which put a flat 255 window's variance at 2^-8 instead of 0.)
    """
    top, bottom, left, right = bounds
    before, after = (window - 1) // 2, window // 2
    lo, hi = max(top - before, 0), min(bottom + after, gray.shape[0])
    first, last = max(left - before, 0), min(right + after, gray.shape[1])
    block = gray[lo:hi, first:last]
    (mean, mean_square, scratch, gray_scratch), wide = _buffers(block.shape)
    inner = (slice(top - lo, bottom - lo), slice(left - first, right - first))
    areas = counts.clipped(top, bottom, left, right)
    filters = dict(ksize=(window, window), anchor=(before, before), borderType=cv2.BORDER_CONSTANT)
    sums = cv2.boxFilter(block, cv2.CV_32F, dst=mean, normalize=False, **filters)[inner]
    if areas is None:
        np.divide(sums, np.float32(window * window), out=sums)
        np.copyto(mean_square[inner], cv2.sqrBoxFilter(block, cv2.CV_64F, dst=wide, normalize=True, **filters)[inner])
    else:
        np.divide(sums, areas.astype(np.float32), out=sums)
        squares = cv2.sqrBoxFilter(block, cv2.CV_64F, dst=wide, normalize=False, **filters)[inner]
        np.divide(squares, areas, out=mean_square[inner], casting="same_kind")
    height, width = bottom - top, right - left
    return Tile(top, bottom, left, right, gray[top:bottom, left:right], mean[inner], mean_square[inner],
                scratch[:height, :width], gray_scratch[:height, :width])


def map_tiles(gray: np.ndarray, window: int, job: Callable[[Tile], T]) -> list[T]:
    """Run ``job`` on the statistics of every tile (on a thread per core; OpenCV releases the GIL)."""
    if window * window > MAX_EXACT_AREA:
        raise ParameterError(f"window {window} is too large: at most {int(np.sqrt(MAX_EXACT_AREA))}")
    counts = _Counts.of(*gray.shape, window)
    return parallel_map(lambda bounds: job(_tile_statistics(gray, window, bounds, counts)),
                        tile_bounds(*gray.shape, window))


def parallel_map(job: Callable[[Item], T], items: list[Item]) -> list[T]:
    """``[job(item) for item in items]`` on a thread per core (``$DOCBIN_THREADS``); OpenCV releases the GIL."""
    threads = default_threads()
    if len(items) == 1 or threads == 1:
        return [job(item) for item in items]
    return list(shared_pool("threshold", threads).map(job, items))


def ink_where_at_most(gray: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Binary image: ink (0) where ``gray <= threshold``, background (255) elsewhere."""
    background = np.greater(gray, threshold).view(np.uint8)
    background *= 255
    return background


def threshold_surface(gray: np.ndarray, window: int, rule: Rule) -> np.ndarray:
    """The whole float32 threshold surface T of ``rule`` (for inspection or as a model input channel)."""
    out = np.empty(gray.shape, np.float32)

    def store(tile: Tile) -> None:
        out[tile.top:tile.bottom, tile.left:tile.right] = rule(tile)

    map_tiles(gray, window, store)
    return out


def local_threshold(gray: np.ndarray, window: int, rule: Rule) -> np.ndarray:
    """Apply a local rule T = rule(tile statistics) tile by tile; ink where gray <= T.

    Unlike ``ink_where_at_most(gray, threshold_surface(...))`` this never holds a page-sized float buffer.
    """
    out = np.empty(gray.shape, np.uint8)

    def binarize(tile: Tile) -> None:
        tile.ink_where_at_most(rule(tile), out[tile.top:tile.bottom, tile.left:tile.right])

    map_tiles(gray, window, binarize)
    return out

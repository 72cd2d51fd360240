"""O(N) local window statistics from integral images, streamed in cache-sized tiles.

A local method looks at a ``window`` x ``window`` neighbourhood of every pixel. Its sums S = sum x and
Q = sum x^2 come from OpenCV integral images of each tile's halo block, in integers or exact floats
throughout, at O(1) per pixel whatever the window size; the mean and variance (n Q - S^2) / n^2 are
then the exact quotients rounded once to float32, so a flat window's variance is exactly 0, as
in DoxaPy's double statistics. The window follows DoxaPy's conventions: for pixel ``(y, x)`` it spans rows
``y - (window - 1) // 2`` to ``y + window // 2`` (likewise columns) and is clipped to the image, so
statistics near the border are taken over the in-image pixels only. Images are processed in tiles (each
read with a window halo) whose buffers are reused from tile to tile by each thread, so memory stays at a
few tile-sized buffers per thread even for a 50 MP page. Phansalkar's rule (its exp is OpenCV's) runs
here; Sauvola, Niblack, NICK and Wolf run in the fused kernel of :mod:`docbin.threshold.windowed`, which
rounds as these tiles do; this module also gives the shared helpers (threads, splits, box sums).
References: Shafait, Keysers, Breuel, "Efficient implementation of local adaptive thresholding techniques
using integral images", DRR 2008; Viola, Jones, "Rapid object detection using a boosted cascade of simple
features", CVPR 2001.

Over ~500 lines only through its docstrings and their examples (about 240 lines of code): one job,
kept whole."""

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
# Columns per tile of the top and bottom border bands: their int32 integral stays below 2^31.
BAND_COLS = 16 * TILE_COLS
# Largest window area: its sum of squares stays below 2^31, as in DoxaPy's int32 window sums (and the sum
# of x below 2^24, exact in float32).
MAX_EXACT_AREA = (2**31 - 1) // (255 * 255)


@dataclass(frozen=True)
class Tile:
    """Pixels ``[top, bottom) x [left, right)`` with the exact sums over each pixel's clipped window.

    ``sums`` S (float32) and ``square_sums`` Q (float64) are the integer sums of x and x^2, exact; ``count``
    n is the window area, one number for a tile whose windows all lie inside the image, else a float64
    array. The statistics below are computed from them on demand, each rounded once to float32, into
    per-thread scratch buffers that are valid only while the job that receives the tile runs: ``mean()``
    into ``means``, ``variance()`` into ``scratch``; ``spare`` is free for the rule. A rule may overwrite
    these three buffers (rules compute their threshold in place to save passes over memory).
    """

    top: int
    bottom: int
    left: int
    right: int
    gray: np.ndarray
    count: float | np.ndarray
    sums: np.ndarray
    square_sums: np.ndarray
    means: np.ndarray
    scratch: np.ndarray
    spare: np.ndarray
    wide: np.ndarray
    gray_scratch: np.ndarray

    def mean(self) -> np.ndarray:
        """Local mean E[x] = S / n in ``means`` (a float32 division of exact float32 values)."""
        count = np.float32(self.count) if isinstance(self.count, float) else self.count.astype(np.float32)
        return np.divide(self.sums, count, out=self.means)

    def spread(self) -> np.ndarray:
        """n Q - S^2 = n^2 var in ``wide``: an integer below 2^53, so exact in double (0 for a flat window)."""
        square = cv2.multiply(self.sums, self.sums, dst=self.wide, dtype=cv2.CV_64F)  # S^2 < 2^48: exact
        if isinstance(self.count, float):
            return cv2.addWeighted(self.square_sums, self.count, square, -1.0, 0.0, dst=square)
        return np.subtract(self.count * self.square_sums, square, out=square)

    def variance(self) -> np.ndarray:
        """Local variance (n Q - S^2) / n^2 in ``scratch`` (Shafait et al. 2008, eq. 5), rounded once.

        Never negative and exactly 0 for a flat window, where E[x^2] - E[x]^2 in float32 would cancel to
        ~4e-3 and move Niblack's threshold off the pixel's own value.
        """
        return np.multiply(self.spread(), 1.0 / np.square(self.count), out=self.scratch, casting="same_kind")

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


def window_counts(length: int, window: int) -> np.ndarray:
    """Number of in-image positions covered by the clipped window along one axis (DoxaPy's extent).

    Parameters
    ----------
    length : int
        Pixels along the axis.
    window : int
        Window side; position i spans ``i - (window - 1) // 2`` to ``i + window // 2``.

    Returns
    -------
    ndarray of float64, shape (length,)
        How many of those positions lie in ``[0, length)``.

    Examples
    --------
    >>> window_counts(5, 3)
    array([2., 3., 3., 3., 2.])
    """
    index = np.arange(length)
    first = np.maximum(index - (window - 1) // 2, 0)
    last = np.minimum(index + window // 2, length - 1)
    return (last - first + 1).astype(np.float64)


def split(start: int, stop: int, size: int, most: int | None = None) -> list[tuple[int, int]]:
    """``[first, last)`` ranges of about ``size`` (never a sliver), and of at most ``most``, covering ``start .. stop``.

    Parameters
    ----------
    start, stop : int
        The span to cover.
    size : int
        Wanted length of a range; the count of ranges is ``(stop - start) / size`` rounded (at least 1).
    most : int, optional
        Longest allowed range: more ranges are made when needed.

    Returns
    -------
    list of tuple of int
        Consecutive non-empty ranges of near-equal length.

    Examples
    --------
    >>> split(0, 10, 4)
    [(0, 5), (5, 10)]
    >>> split(0, 10, 4, most=2)
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    parts = max(round((stop - start) / max(size, 1)), -((start - stop) // most) if most else 1, 1)
    edges = [start + (stop - start) * part // parts for part in range(parts + 1)]
    return [(first, last) for first, last in zip(edges, edges[1:]) if last > first]


def exact_rows(window: int) -> int:
    """Most output rows per tile for which every strip sum of its halo block stays exact in float32.

    A strip sum is at most 255 x window x block rows, block rows = tile rows + window - 1; it must stay
    below 2^24 to convert to float32 exactly.

    Parameters
    ----------
    window : int
        Window side.

    Returns
    -------
    int
        The largest such tile height, at least 1.

    Examples
    --------
    >>> exact_rows(15)
    4372
    """
    return max((2**24 - 1) // (255 * window) - window + 1, 1)


def tile_bounds(height: int, width: int, window: int) -> list[tuple[int, int, int, int]]:
    """Tiles ``(top, bottom, left, right)`` covering the image: the four border bands, then an inner grid.

    The grid is of about ``TILE_ROWS x TILE_COLS`` (at least 2 windows a side, rows at most
    :func:`exact_rows`) inside the four border bands where the image clips the window; the bands are cut only
    as far as the exact sums need, so few tiles take the slower clipped-window path. An image no larger than
    the window in a dimension is only gridded.

    Parameters
    ----------
    height, width : int
        Image size.
    window : int
        Window side.

    Returns
    -------
    list of tuple of int
        Disjoint tiles that cover the image, bands first.

    Examples
    --------
    >>> tiles = tile_bounds(10, 10, 3)
    >>> tiles  # top and bottom bands, left and right bands, the inside
    [(0, 1, 0, 10), (9, 10, 0, 10), (1, 9, 0, 1), (1, 9, 9, 10), (1, 9, 1, 9)]
    """
    before, after = (window - 1) // 2, window // 2
    most = exact_rows(window)
    rows, cols = min(max(TILE_ROWS, 2 * window), most), max(TILE_COLS, 2 * window)
    if height <= before + after or width <= before + after:  # every window is clipped
        return [(top, bottom, left, right) for top, bottom in split(0, height, rows, most)
                for left, right in split(0, width, cols)]
    grid = [(top, bottom, left, right) for top, bottom in split(before, height - after, rows, most)
            for left, right in split(before, width - after, cols)]
    sides = [(top, bottom, left, right) for top, bottom in split(before, height - after, most, most)
             for left, right in ((0, before), (width - after, width))]
    ends = [(top, bottom, left, right) for top, bottom in ((0, before), (height - after, height))
            for left, right in split(0, width, BAND_COLS, BAND_COLS)]
    bands = [(top, bottom, left, right) for top, bottom, left, right in ends + sides if top < bottom and left < right]
    return bands + grid


def box_sum(image: np.ndarray, window: int, depth: int = cv2.CV_64F) -> np.ndarray:
    """Sum over each pixel's clipped window (zeros outside the image); OpenCV accumulates integers exactly.

    Parameters
    ----------
    image : ndarray
        Single-channel image.
    window : int
        Window side, anchored as DoxaPy does (``(window - 1) // 2`` before the pixel).
    depth : int, optional
        OpenCV depth of the result (``cv2.CV_64F`` by default).

    Returns
    -------
    ndarray, shape of ``image``
        The window sums.

    Examples
    --------
    >>> import numpy as np
    >>> box_sum(np.ones((3, 3), np.uint8), 3)
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    anchor = (window - 1) // 2
    return cv2.boxFilter(
        image, depth, (window, window), anchor=(anchor, anchor), normalize=False,
        borderType=cv2.BORDER_CONSTANT,
    )


@dataclass(frozen=True)
class _Buffers:
    """Scratch arrays for one tile shape: integrals and strip sums of its halo block, the tile's sums and
    the outputs of the statistics. Buffers whose lives do not overlap share memory, which keeps a tile's
    working set near the core: the statistics' outputs reuse the integrals and strip sums, dead by then."""

    integral: np.ndarray
    square_integral: np.ndarray
    strips: np.ndarray
    square_strips: np.ndarray
    sums: np.ndarray
    square_sums: np.ndarray
    means: np.ndarray
    scratch: np.ndarray
    spare: np.ndarray
    wide: np.ndarray
    gray: np.ndarray


class _Workspace(threading.local):
    """This thread's scratch memory, grown on demand and reused from tile to tile (the views for each tile
    shape are kept, a dictionary look-up per tile)."""

    def __init__(self) -> None:
        self.storage: dict[str, np.ndarray] = {}
        self.views: dict[tuple[int, int, int], _Buffers] = {}

    def _memory(self, name: str, size: int) -> np.ndarray:
        """At least ``size`` bytes of the memory called ``name``."""
        if name not in self.storage or self.storage[name].size < size:
            self.storage[name] = np.empty(size, np.uint8)
            self.views.clear()  # views of the smaller memory would no longer share it
        return self.storage[name]

    def buffers(self, height: int, width: int, window: int) -> _Buffers:
        """Buffers for a ``height x width`` tile whose halo block is ``window - 1`` larger each way."""
        key = (height, width, window)
        if key not in self.views:
            if len(self.views) >= 64:
                self.views.clear()
            block, strip, tile = (height + window, width + window), (height + window, width), (height, width)

            def array(name: str, shape: tuple[int, int], dtype: type, offset: int = 0) -> np.ndarray:
                size = shape[0] * shape[1] * np.dtype(dtype).itemsize
                return self._memory(name, offset + size)[offset:offset + size].view(dtype).reshape(shape)

            quarter = 4 * height * width  # bytes of a float32 tile
            self.views[key] = _Buffers(
                integral=array("a", block, np.int32), square_integral=array("b", block, np.float64),
                strips=array("c", strip, np.int32), square_strips=array("d", strip, np.float64),
                sums=array("e", tile, np.float32), square_sums=array("f", tile, np.float64),
                means=array("b", tile, np.float32), scratch=array("b", tile, np.float32, quarter),
                spare=array("a", tile, np.float32), wide=array("d", tile, np.float64),
                gray=array("c", tile, np.float32))
        return self.views[key]


_workspace = _Workspace()


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


def _halo_block(gray: np.ndarray, window: int, bounds: tuple[int, int, int, int]) -> np.ndarray:
    """The tile with its window halo, zeros where the halo leaves the image."""
    top, bottom, left, right = bounds
    rows = (top - (window - 1) // 2, bottom + window // 2)
    cols = (left - (window - 1) // 2, right + window // 2)
    lo, hi = max(rows[0], 0), min(rows[1], gray.shape[0])
    first, last = max(cols[0], 0), min(cols[1], gray.shape[1])
    block = gray[lo:hi, first:last]
    pads = (lo - rows[0], rows[1] - hi, first - cols[0], cols[1] - last)
    return cv2.copyMakeBorder(block, *pads, cv2.BORDER_CONSTANT, value=0) if any(pads) else block


def _tile_statistics(gray: np.ndarray, window: int, bounds: tuple[int, int, int, int], counts: _Counts) -> Tile:
    """Window sums S and Q of one tile from the integral images of its halo block, exact (Viola-Jones 2001):
    sum over [y, y + w) x [x, x + w) = I[y + w, x + w] - I[y + w, x] - I[y, x + w] + I[y, x].

    OpenCV's integral of x is int32 (the block's total < 2^31) and of x^2 double (exact below 2^53). Each
    window sum is two subtractions: of columns w apart (strip sums, < 2^24 by :func:`exact_rows`), then of
    rows, in float32 for S. Unlike a box filter, no work is spent on the halo's own outputs.
    """
    top, bottom, left, right = bounds
    height, width = bottom - top, right - left
    block = _halo_block(gray, window, bounds)
    space = _workspace.buffers(height, width, window)
    cv2.integral2(block, space.integral, space.square_integral, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
    cv2.subtract(space.integral[:, window:], space.integral[:, :width], dst=space.strips)
    cv2.subtract(space.strips[window:], space.strips[:height], dst=space.sums, dtype=cv2.CV_32F)
    cv2.subtract(space.square_integral[:, window:], space.square_integral[:, :width], dst=space.square_strips)
    cv2.subtract(space.square_strips[window:], space.square_strips[:height], dst=space.square_sums)
    areas = counts.clipped(top, bottom, left, right)
    count = float(window * window) if areas is None else areas
    return Tile(top, bottom, left, right, gray[top:bottom, left:right], count, space.sums, space.square_sums,
                space.means, space.scratch, space.spare, space.wide, space.gray)


def map_tiles(gray: np.ndarray, window: int, job: Callable[[Tile], T]) -> list[T]:
    """Run ``job`` on the window statistics of every tile (on a thread per core; OpenCV releases the GIL).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Window side.
    job : callable
        Receives a :class:`Tile` whose scratch buffers are valid only during the call.

    Returns
    -------
    list
        The jobs' results, in the order of :func:`tile_bounds`.

    Raises
    ------
    ParameterError
        When ``window`` squared exceeds ``MAX_EXACT_AREA`` (the sums would not be exact).

    References
    ----------
    .. [1] F. Shafait, D. Keysers, T. M. Breuel, "Efficient implementation of local adaptive thresholding
       techniques using integral images", Document Recognition and Retrieval XV (DRR), SPIE 6815, 2008.
    """
    if window * window > MAX_EXACT_AREA:
        raise ParameterError(f"window {window} is too large: at most {int(np.sqrt(MAX_EXACT_AREA))}")
    counts = _Counts.of(*gray.shape, window)
    return parallel_map(lambda bounds: job(_tile_statistics(gray, window, bounds, counts)),
                        tile_bounds(*gray.shape, window))


def parallel_map(job: Callable[[Item], T], items: list[Item]) -> list[T]:
    """``[job(item) for item in items]`` on a thread per core (``$DOCBIN_THREADS``); OpenCV releases the GIL.

    Parameters
    ----------
    job : callable
        Applied to each item.
    items : list
        The inputs; with a single item, or a single thread, the jobs run in the calling thread.

    Returns
    -------
    list
        The results, in the order of ``items``.

    Examples
    --------
    >>> parallel_map(lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    """
    threads = default_threads()
    if len(items) == 1 or threads == 1:
        return [job(item) for item in items]
    return list(shared_pool("threshold", threads).map(job, items))


def ink_where_at_most(gray: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Binary image: ink (0) where ``gray <= threshold``, background (255) elsewhere.

    Parameters
    ----------
    gray : ndarray of uint8
        The image.
    threshold : ndarray or scalar
        Threshold surface T, broadcastable to ``gray``.

    Returns
    -------
    ndarray of uint8
        0 where ``gray <= threshold``, else 255.

    Examples
    --------
    >>> import numpy as np
    >>> ink_where_at_most(np.array([[10, 50, 100]], np.uint8), np.float32(50))
    array([[  0,   0, 255]], dtype=uint8)
    """
    background = np.greater(gray, threshold).view(np.uint8)
    background *= 255
    return background


def local_threshold(gray: np.ndarray, window: int, rule: Rule) -> np.ndarray:
    """Apply a local rule T = rule(tile statistics) tile by tile; ink where gray <= T.

    Unlike ``ink_where_at_most(gray, T)`` with a page-sized T this never holds a page-sized float buffer.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.
    window : int
        Window side (DoxaPy's clipped window).
    rule : Rule
        Maps a :class:`Tile` to its float32 threshold surface (it may compute it in the tile's buffers).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0, background 255.

    Raises
    ------
    ParameterError
        When the window is too large for exact sums (:func:`map_tiles`).

    References
    ----------
    .. [1] F. Shafait, D. Keysers, T. M. Breuel, "Efficient implementation of local adaptive thresholding
       techniques using integral images", Document Recognition and Retrieval XV (DRR), SPIE 6815, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((4, 6), 200, np.uint8)
    >>> gray[1:3, 2] = 20
    >>> local_threshold(gray, 3, lambda tile: tile.mean() - 10)  # ink 10 or more below the local mean
    array([[255, 255, 255, 255, 255, 255],
           [255, 255,   0, 255, 255, 255],
           [255, 255,   0, 255, 255, 255],
           [255, 255, 255, 255, 255, 255]], dtype=uint8)
    """
    out = np.empty(gray.shape, np.uint8)

    def binarize(tile: Tile) -> None:
        tile.ink_where_at_most(rule(tile), out[tile.top:tile.bottom, tile.left:tile.right])

    map_tiles(gray, window, binarize)
    return out

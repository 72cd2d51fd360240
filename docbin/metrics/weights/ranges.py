"""First non-empty rings by range look-ups: every centre's square ring, clamped to its component box, as
ranges of the feature pixels listed row by row and column by column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from docbin.metrics.weights.connectivity import Components, _chessboard, _nonzero


def _transpose(image: np.ndarray) -> np.ndarray:
    """A contiguous transposed copy (OpenCV's blocked transpose where it takes the type)."""
    if image.dtype in (np.uint8, np.int32, np.float32, np.float64):
        return cv2.transpose(image)
    return np.ascontiguousarray(image.T)


@dataclass(frozen=True)
class FeatureOrder:
    """The feature pixels listed row by row and column by column; the number of features before a position
    (a binary search) turns a run of a row (or column) into a range of that list."""

    by_rows: np.ndarray  # flat (row-major) index of each feature, row by row
    by_cols: np.ndarray  # flat (row-major) index of each feature, column by column
    col_major: np.ndarray  # column-major index of each feature, column by column

    @classmethod
    def of(cls, features: np.ndarray) -> FeatureOrder:
        h, w = features.shape
        col_major = np.flatnonzero(_transpose(features.view(np.uint8)))
        return cls(np.flatnonzero(features), col_major % h * w + col_major // h, col_major)

    def row_rank(self, position: np.ndarray) -> np.ndarray:
        """Number of features before each row-major position."""
        return np.searchsorted(self.by_rows, position)

    def col_rank(self, position: np.ndarray) -> np.ndarray:
        """Number of features before each column-major position."""
        return np.searchsorted(self.col_major, position)


Range = tuple[np.ndarray, np.ndarray]  # first, last index into a feature list; first > last: empty


@dataclass(frozen=True)
class RangeRings:
    """The first non-empty ring of every centre pixel, by its four sides: the top and bottom rows as ranges of
    the row-by-row feature list, for the centres in raster order; the left and right columns as ranges of the
    column-by-column list, for the centres in column order (so that every look-up streams through memory)."""

    centres: np.ndarray  # mask
    found: np.ndarray  # image: the centre's box holds a feature
    rows: tuple[Range, Range]  # top, bottom
    cols: tuple[Range, Range]  # left, right
    order: FeatureOrder


def _side(rank: Callable[[np.ndarray], np.ndarray], line: np.ndarray, valid: np.ndarray, a: np.ndarray,
          b: np.ndarray, n: int) -> Range:
    """The features of line ``line`` (a row, or a column in column order) between positions a and b - 1."""
    base = np.where(valid, line, 0) * n
    return rank(base + a), rank(base + np.where(valid, b, a)) - 1  # an invalid side is an empty range


def _sides(order: FeatureOrder, shape: tuple[int, int], r: np.ndarray, y: np.ndarray, x: np.ndarray,
           box: tuple[np.ndarray, ...], columns: bool) -> tuple[Range, Range]:
    """The two horizontal (or, with ``columns``, vertical) sides of the square of radius r about (y, x),
    clamped to the box."""
    h, w = shape
    y0, x0, y1, x1 = box
    if not columns:
        xa, xb = np.maximum(x - r, x0), np.minimum(x + r, x1) + 1
        return (_side(order.row_rank, y - r, y - r >= y0, xa, xb, w),
                _side(order.row_rank, y + r, y + r <= y1, xa, xb, w))
    ya, yb = np.maximum(y - r, y0), np.minimum(y + r, y1) + 1
    return (_side(order.col_rank, x - r, x - r >= x0, ya, yb, h),
            _side(order.col_rank, x + r, x + r <= x1, ya, yb, h))


def _empty(pair: tuple[Range, Range]) -> np.ndarray:
    return (pair[0][0] > pair[0][1]) & (pair[1][0] > pair[1][1])


def range_rings(features: np.ndarray, parts: Components, centres: np.ndarray,
                distance: np.ndarray | None = None) -> RangeRings:
    """The first non-empty ring of every centre, found by range look-ups on the sorted feature lists.

    For every centre, the smallest R whose square around it, clamped to the centre's component box, holds a
    feature pixel (the inside of that square holds none, so they all lie on its sides): the global
    chessboard distance where the box allows it, else found by a binary search on feature counts (a
    summed-area table).

    Parameters
    ----------
    features : ndarray of bool, shape (H, W)
        The feature pixels (skeleton or contour).
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).
    centres : ndarray of bool, shape (H, W)
        The pixels whose rings are wanted.
    distance : ndarray of int32, shape (H, W), optional
        The features' chessboard distance, capped at H + W, when already known.

    Returns
    -------
    RangeRings
        Each centre's ring as four sides, ranges of the row-by-row and column-by-column feature lists, and
        ``found`` (the centre's box holds a feature).

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    h, w = features.shape
    order = FeatureOrder.of(features)
    if distance is None:
        distance = np.minimum(_chessboard(features), h + w).astype(np.int32)
    boxes = parts.box.astype(np.int32).T
    labels_t, distance_t, centres_t = _transpose(parts.labels), _transpose(distance), _transpose(centres.view(np.uint8))
    y, x = (v.astype(np.int32) for v in _nonzero(centres))
    rows = _sides(order, (h, w), distance[y, x], y, x, tuple(boxes[:, parts.labels[y, x]]), columns=False)
    qx, qy = (v.astype(np.int32) for v in _nonzero(centres_t))
    cols = _sides(order, (h, w), distance_t[qx, qy], qy, qx, tuple(boxes[:, labels_t[qx, qy]]), columns=True)
    empty = np.zeros((h, w), np.uint8)
    empty[y, x] = _empty(rows)
    empty_t = np.zeros((w, h), np.uint8)
    empty_t[qx, qy] = _empty(cols)
    farther = (empty & _transpose(empty_t)).astype(bool)
    found = centres.copy()
    if farther.any():  # the nearest feature lies outside the box: search the box alone
        fy, fx = (v.astype(np.int32) for v in _nonzero(farther))
        y0, x0, y1, x1 = boxes[:, parts.labels[fy, fx]]
        sat = cv2.integral(features.view(np.uint8), sdepth=cv2.CV_32S)  # (h + 1, w + 1), first row/column 0

        def holds(k: np.ndarray) -> np.ndarray:
            ya, yb = np.maximum(fy - k, y0), np.minimum(fy + k, y1) + 1
            xa, xb = np.maximum(fx - k, x0), np.minimum(fx + k, x1) + 1
            return sat[yb, xb] - sat[ya, xb] - sat[yb, xa] + sat[ya, xa] > 0

        hi = np.maximum.reduce([fy - y0, y1 - fy, fx - x0, x1 - fx])
        lo = np.minimum(distance[fy, fx] + 1, hi)
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            ok = holds(mid)
            hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid + 1)
        hit = holds(lo)
        found[fy[~hit], fx[~hit]] = False
        radius = np.where(hit, lo, 0)  # a safe radius for the boxes without features (masked below)
        box = (y0, x0, y1, x1)
        in_rows = np.searchsorted(np.flatnonzero(centres), fy * w + fx)  # position in raster order
        in_cols = np.searchsorted(np.flatnonzero(centres_t), fx * h + fy)  # position in column order
        for pairs, again, at in ((rows, _sides(order, (h, w), radius, fy, fx, box, False), in_rows),
                                 (cols, _sides(order, (h, w), radius, fy, fx, box, True), in_cols)):
            for (first, last), (first_again, last_again) in zip(pairs, again):
                first[at], last[at] = np.where(hit, first_again, 0), np.where(hit, last_again, -1)
    return RangeRings(centres, found, rows, cols, order)


def _level(length: np.ndarray) -> np.ndarray:
    """floor(log2(length)) of positive integers."""
    table = np.frexp(np.arange(1, int(length.max(initial=1)) + 1, dtype=np.float64))[1] - 1
    return table[length - 1]


def _range_max(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """max(values[first:last + 1]) per range (values: one column per quantity), -1 for an empty range: a
    sparse table, built one doubling level at a time."""
    out = np.full((first.size, values.shape[1]), -1, values.dtype)
    live = np.flatnonzero(first <= last)
    first, last = first[live], last[live]
    level = _level(last - first + 1)
    table = values
    for k in range(int(level.max(initial=-1)) + 1):
        if k:
            half = 1 << (k - 1)
            table = table.copy()
            table[:-half] = np.maximum(table[:-half], table[half:])
        pick = level == k
        out[live[pick]] = np.maximum(table[first[pick]], table[last[pick] - (1 << k) + 1])
    return out


def _range_cover(size: int, first: np.ndarray, last: np.ndarray, key: np.ndarray) -> np.ndarray:
    """For every position, the largest key among the ranges covering it (-1 where none): the sparse table run
    backwards, each range written at two entries of its level and pushed down level by level."""
    live = first <= last
    first, last, key = first[live], last[live], key[live]
    level = _level(last - first + 1)
    cover = np.full(size, -1, np.int64)
    for k in range(int(level.max(initial=-1)), -1, -1):
        if k < int(level.max(initial=-1)):
            half = 1 << k
            down = cover.copy()
            np.maximum(down[half:], cover[:-half], out=down[half:])
            cover = down
        pick = level == k
        np.maximum.at(cover, first[pick], key[pick])
        np.maximum.at(cover, last[pick] - (1 << k) + 1, key[pick])
    return cover


def range_ring_max_at(values: np.ndarray, rings: RangeRings) -> np.ndarray:
    """Per centre, the largest of each of ``values`` over the feature pixels of its ring.

    Parameters
    ----------
    values : ndarray, shape (K, H, W)
        A stack of images, read on the features alone.
    rings : RangeRings
        The rings (:func:`range_rings`).

    Returns
    -------
    ndarray, shape (K, number of centres)
        The maxima, centres in raster order; -1 where a ring holds no feature.
    """
    k, h, w = values.shape
    # Gathered from the (possibly strided) stack itself: a flat copy of a window would copy every pixel.
    by_rows, by_cols = (values[:, y, x].T for y, x in (np.divmod(index, w) for index in
                                                        (rings.order.by_rows, rings.order.by_cols)))
    rows = np.maximum(*(_range_max(by_rows, *side) for side in rings.rows))
    cols = np.maximum(*(_range_max(by_cols, *side) for side in rings.cols))
    qx, qy = _nonzero(_transpose(rings.centres.view(np.uint8)))  # the centres in column order
    return np.maximum(rows, cols[np.argsort(qy * w + qx)]).T


def range_ring_max(values: np.ndarray, rings: RangeRings) -> np.ndarray:
    """Per centre, the largest of ``values`` over the feature pixels of its ring, as an image (or stack).

    Parameters
    ----------
    values : ndarray, shape (H, W) or (K, H, W)
        An image or a stack, read on the features alone.
    rings : RangeRings
        The rings (:func:`range_rings`).

    Returns
    -------
    ndarray, shape of ``values``
        The maxima at the centres; -1 where a ring holds no feature and off the centres.
    """
    stack = values.reshape(-1, *values.shape[-2:])
    best = np.full(stack.shape, -1, values.dtype)
    best[:, rings.centres] = range_ring_max_at(stack, rings)
    return best.reshape(values.shape)


def range_last_writer(rings: RangeRings, parts: Components) -> np.ndarray:
    """Per pixel, the last centre in the tool's visiting order whose ring holds it.

    The order is component, then row, then column; that centre's write survives a last-writer-wins pass
    over ring features.

    Parameters
    ----------
    rings : RangeRings
        The rings (:func:`range_rings`).
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    Returns
    -------
    ndarray of int64, shape (H, W)
        The centre's flat index; -1 where no ring holds the pixel.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    h, w = rings.centres.shape
    order = rings.order
    y, x = _nonzero(rings.centres)
    key = parts.labels[y, x].astype(np.int64) * (h * w) + (y * w + x)
    writer = _range_cover(order.by_rows.size, *(np.concatenate(pair) for pair in zip(*rings.rows)),
                          np.concatenate([key, key]))
    qx, qy = _nonzero(_transpose(rings.centres.view(np.uint8)))
    key = _transpose(parts.labels)[qx, qy].astype(np.int64) * (h * w) + (qy * w + qx)
    by_cols = _range_cover(order.by_cols.size, *(np.concatenate(pair) for pair in zip(*rings.cols)),
                           np.concatenate([key, key]))
    at = order.row_rank(order.by_cols)  # row-by-row position of each column-by-column feature
    writer[at] = np.maximum(writer[at], by_cols)
    image = np.full(h * w, -1, np.int64)
    image[order.by_rows] = np.where(writer >= 0, writer % (h * w), -1)
    return image.reshape(h, w)

"""8-connected components in the tool's numbering, chessboard distances and contours of the ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from numba import njit
from scipy import ndimage

MAX_DISTANCE = 249  # the tool keeps distances in a byte; 1..249 are real distances


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of an image, several times faster on large ones: flat positions less their row starts, the
    rows repeated by their counts."""
    rows = np.repeat(np.arange(mask.shape[0]), np.count_nonzero(mask, axis=1))
    columns = np.flatnonzero(mask)
    columns -= rows * mask.shape[1]
    return rows, columns


@dataclass(frozen=True)
class Components:
    """8-connected components numbered 1..count in raster order of their first pixel (the tool's order)."""

    labels: np.ndarray  # 0 outside every component
    count: int
    box: np.ndarray  # (count + 1, 4) inclusive y0, x0, y1, x1; row 0 unused

    def order_key(self, flat_index: np.ndarray) -> np.ndarray:
        """Sort key of the tool's visiting order: component, then row, then column."""
        return self.labels.ravel()[flat_index].astype(np.int64) * self.labels.size + flat_index

    @cached_property
    def _visit_tables(self) -> tuple[np.ndarray, ...]:
        """Per component: where its box starts when the boxes, raster scanned, are laid end to end (with the
        total length last), its box width, and the key of its box's pixel (0, 0) less that pixel's y * width."""
        y0, x0, y1, x1 = self.box.T
        width = x1 - x0 + 1
        start = np.concatenate([[0], np.cumsum((y1 - y0 + 1) * width)])
        dtype = np.int32 if max(start[-1], self.labels.size) < 2**31 else np.int64
        return start, width, (start[:-1] - x0 - y0 * width).astype(dtype), width.astype(dtype)

    def visit_key(self, flat_index: np.ndarray) -> np.ndarray:
        """A compact key of the tool's visiting order (component, then row, then column) of pixels of the
        components: the position in their boxes laid end to end, int32 where that fits."""
        _, _, origin, width = self._visit_tables
        label = np.ravel(self.labels).take(flat_index)
        y, x = np.divmod(flat_index.astype(origin.dtype, copy=False), self.labels.shape[1])
        key = origin.take(label)
        key += y * width.take(label)
        key += x
        return key

    def visit_position(self, key: np.ndarray) -> np.ndarray:
        """The flat index of the pixel with that ``visit_key``."""
        start, width, _, _ = self._visit_tables
        label = np.searchsorted(start, key, side="right") - 1
        row, column = np.divmod(key - start[label], width[label])
        return (self.box[label, 0] + row) * self.labels.shape[1] + self.box[label, 1] + column


def components(mask: np.ndarray) -> Components:
    """8-connected components of a mask, numbered in raster order of their first pixel, with their boxes.

    Parameters
    ----------
    mask : ndarray of bool, shape (H, W)
        The pixels to group (the GT ink).

    Returns
    -------
    Components
        ``labels`` (0 outside every component), ``count`` and ``box``: inclusive (y0, x0, y1, x1) per label,
        row 0 unused.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((3, 5), bool)
    >>> mask[0, 3] = mask[1, 4] = True  # diagonal neighbours: one component
    >>> mask[2, 0] = True
    >>> parts = components(mask)
    >>> parts.count, parts.labels.tolist(), parts.box[1:].tolist()
    (2, [[0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [2, 0, 0, 0, 0]], [[0, 3, 1, 4], [2, 0, 2, 0]])
    """
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    box = np.zeros((count + 1, 4), np.int64)
    for label, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
        box[label] = rows.start, cols.start, rows.stop - 1, cols.stop - 1
    return Components(labels, count, box)


@njit(cache=True, nogil=True)
def _chessboard_passes(features: np.ndarray) -> np.ndarray:
    """The two raster passes of the chessboard distance transform (Rosenfeld & Pfaltz 1966), in int32: each
    pixel takes 1 + the least distance among the 8-neighbours visited before it, forwards then backwards."""
    h, w = features.shape
    d = np.empty((h, w), np.int32)
    for y in range(h):
        for x in range(w):
            v = 0 if features[y, x] else h + w  # h + w: beyond every distance
            if y > 0:
                v = min(v, d[y - 1, x] + 1)
                if x > 0:
                    v = min(v, d[y - 1, x - 1] + 1)
                if x < w - 1:
                    v = min(v, d[y - 1, x + 1] + 1)
            if x > 0:
                v = min(v, d[y, x - 1] + 1)
            d[y, x] = v
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            v = d[y, x]
            if y < h - 1:
                v = min(v, d[y + 1, x] + 1)
                if x > 0:
                    v = min(v, d[y + 1, x - 1] + 1)
                if x < w - 1:
                    v = min(v, d[y + 1, x + 1] + 1)
            if x < w - 1:
                v = min(v, d[y, x + 1] + 1)
            d[y, x] = v
    return d


def _chessboard(features: np.ndarray) -> np.ndarray:
    """Chessboard distance of every pixel to the nearest feature pixel (65535 when there is none), int32."""
    if not features.any():
        return np.full(features.shape, 0xFFFF, np.int32)
    return _chessboard_passes(features)


def _contour(ink: np.ndarray) -> np.ndarray:
    """Ink pixels with a 4-neighbour outside the ink (the image frame counts as background)."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    inner = cv2.erode(ink.astype(np.uint8), cross, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return ink & ~inner.astype(bool)


def fills_box_first(parts: Components, distance: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Pixels whose growing window covers their whole component box before reaching ``distance``.

    The square window is grown about each pixel of ``where`` and clamped to the image; the tool gives such
    pixels no background distance (e.g. a one-pixel hole). An interior box side is met at one radius, a side
    on the image border from some radius on; the window fills the box when the interior sides agree and every
    border side is reached.

    Parameters
    ----------
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).
    distance : ndarray of int, shape (H, W)
        The radius each pixel's search would stop at.
    where : ndarray of bool, shape (H, W)
        The pixels to test.

    Returns
    -------
    ndarray of bool, shape (H, W)
        True at the pixels of ``where`` whose window fills their box at a radius below ``distance``.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    h, w = where.shape
    y0, x0, y1, x1 = parts.box.T
    # The window fills a box no sooner than at half its larger side: only such small boxes can qualify.
    small = np.maximum(y1 - y0, x1 - x0) // 2 < int(distance[where].max(initial=0))
    small[0] = False
    candidates = where & small[parts.labels]
    ys, xs = _nonzero(candidates)
    y0, x0, y1, x1 = parts.box[parts.labels[ys, xs]].T
    k = np.stack([xs - x0, x1 - xs, ys - y0, y1 - ys])
    border = np.stack([x0 == 0, x1 == w - 1, y0 == 0, y1 == h - 1])
    fixed = np.where(border, -1, k).max(0)
    agree = (np.where(border, fixed, k) == fixed).all(0)
    lower = np.where(border, k, 0).max(0)
    r = np.where(border.all(0), lower, fixed)
    fills = np.zeros_like(where)
    fills[ys, xs] = agree & (r >= lower) & (r < distance[ys, xs])
    return fills

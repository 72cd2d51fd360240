"""The tool's order-dependent in-place passes (component by component, row by row), as raster passes."""

from __future__ import annotations

import numpy as np
from numba import njit

from docbin.metrics.weights.connectivity import MAX_DISTANCE, Components, _nonzero


@njit(cache=True, nogil=True)
def _raise_flat_ridges(d: np.ndarray, skel: np.ndarray) -> None:
    """One in-place raster pass of :func:`raise_flat_ridges`."""
    h, w = d.shape
    for y in range(h):
        for x in range(w):
            c = d[y, x]
            if (skel[y, x] and 1 <= c <= MAX_DISTANCE
                    and (y == 0 or d[y - 1, x] == c) and (y == h - 1 or d[y + 1, x] == c)
                    and (x == 0 or d[y, x - 1] == c) and (x == w - 1 or d[y, x + 1] == c)):
                d[y, x] = c + 1


def raise_flat_ridges(d: np.ndarray, skel: np.ndarray) -> None:
    """Raise flat ridges of D on the skeleton by one, in place: the medial radius there is one beyond D.

    A skeleton pixel whose D (in 1..``MAX_DISTANCE``) equals its four border-clamped neighbours' is raised by
    one, in raster order (a raised pixel breaks the flatness of the next ones). Components never 4-touch, so
    the tool's component-by-component order gives the same result.

    Parameters
    ----------
    d : ndarray of int32, shape (H, W)
        D, modified in place.
    skel : ndarray of bool, shape (H, W)
        The GT skeleton.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.full((3, 3), 2, np.int32)
    >>> skel = np.zeros((3, 3), bool)
    >>> skel[1, :] = True
    >>> raise_flat_ridges(d, skel)
    >>> d.tolist()  # (1, 0) rises first, so (1, 1) is no longer flat; (1, 2) still is
    [[2, 2, 2], [3, 2, 3], [2, 2, 2]]
    """
    _raise_flat_ridges(d, skel)


@njit(cache=True, nogil=True)
def _propagate_peaks(nr: np.ndarray, carries: np.ndarray) -> None:
    """One in-place raster pass of :func:`propagate_peaks` over the pixels off the image border."""
    h, w = nr.shape
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            c, left = nr[y, x], nr[y, x - 1]
            up, down, right = nr[y - 1, x], nr[y + 1, x], nr[y, x + 1]
            if (carries[y, x] and left and up and down and right
                    and c != left and c != up and c != down and c != right):
                nr[y, x] = left


def propagate_peaks(nr: np.ndarray, carries: np.ndarray) -> None:
    """Spread a stroke's cross-section peak of NR along it, in place, in raster order.

    A pixel off the image border that carries a distance and whose normaliser differs from all four
    (non-zero) neighbours takes its left neighbour's (the tool's order, as in :func:`raise_flat_ridges`).

    Parameters
    ----------
    nr : ndarray of int32, shape (H, W)
        The normaliser NR, modified in place.
    carries : ndarray of bool, shape (H, W)
        The pixels that carry a distance.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    _propagate_peaks(nr, carries)


def extend_end_points(factor: np.ndarray, skel: np.ndarray, parts: Components) -> None:
    """Extend skeleton end points' medial factor from their neighbour, in place, in the tool's order.

    An end point (exactly one skeleton pixel among its eight border-clamped neighbours) takes that
    neighbour's factor + 1 (modulo 256), when non-zero, in the tool's visiting order (component, row, column).
    The tool reads the south-east neighbour's factor from column 0 or 1 of the next row rather than beside
    the pixel; kept for bit-exact weights.

    Parameters
    ----------
    factor : ndarray of int32, shape (H, W)
        The medial factor, modified in place.
    skel : ndarray of bool, shape (H, W)
        The GT skeleton.
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    h, w = skel.shape
    ys, xs = _nonzero(skel)
    up, down = -(ys > 0).astype(np.int64), (ys < h - 1).astype(np.int64)
    left, right = -(xs > 0).astype(np.int64), (xs < w - 1).astype(np.int64)
    zero = np.zeros_like(ys)
    checks = [(up, zero), (down, zero), (zero, left), (zero, right), (up, left), (down, right), (down, left),
              (up, right)]
    hits = np.stack([skel[ys + dy, xs + dx] for dy, dx in checks])
    ends = np.flatnonzero(hits.sum(0) == 1)
    which = hits[:, ends].argmax(0)
    read = np.empty(ends.size, np.int64)
    for k, (dy, dx) in enumerate(checks):
        pick = which == k
        e = ends[pick]
        column = right[e] if k == 5 else xs[e] + dx[e]
        read[pick] = (ys[e] + dy[e]) * w + column
    index = ys[ends] * w + xs[ends]
    order = np.argsort(parts.order_key(index), kind="stable")
    flat = factor.ravel()
    for i, j in zip(index[order].tolist(), read[order].tolist()):
        v = int(flat[j])
        if v > 0:
            flat[i] = (v + 1) & 0xFF

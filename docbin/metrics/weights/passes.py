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
    """The medial radius on a flat ridge is one beyond D: a skeleton pixel whose D equals its four
    border-clamped neighbours' is raised by one, in place, in raster order (a raised pixel breaks the
    flatness of the next ones). Components never 4-touch, so the tool's component-by-component order
    gives the same result."""
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
    """A pixel whose normaliser differs from all four (non-zero) neighbours takes its left neighbour's,
    spreading a stroke's cross-section peak along it, in place, in raster order (the tool's order, as in
    :func:`raise_flat_ridges`). A missing neighbour is the pixel itself: the image border stays."""
    _propagate_peaks(nr, carries)


def extend_end_points(factor: np.ndarray, skel: np.ndarray, parts: Components) -> None:
    """A skeleton end point (exactly one skeleton pixel among its eight border-clamped neighbours) takes that
    neighbour's medial factor + 1, in the tool's visiting order. The tool reads the south-east neighbour's
    factor from column 0 or 1 of the next row rather than beside the pixel; kept for bit-exact weights."""
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

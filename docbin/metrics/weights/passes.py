"""The tool's order-dependent in-place passes (component by component, row by row), replayed exactly on the
few pixels they can change."""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

from docbin.metrics.weights.connectivity import MAX_DISTANCE, Components, _nonzero


def _replay(values: np.ndarray, start: np.ndarray, update: Callable[[memoryview, int], bool]) -> None:
    """Replay an in-place raster pass whose update of a pixel can only change the outcome for its right and
    lower neighbours: visit the pixels that may change, in raster order, re-queueing those neighbours.
    Components never 4-touch, so the tool's component-by-component order gives the same result. ``update``
    gets the pixels as a flat memoryview (fast scalar access, writes go to ``values``)."""
    w, size = values.shape[1], values.size
    flat = memoryview(values.reshape(-1))  # a view: updated in place
    heap = np.unique(start).tolist()
    queued = np.zeros(size, np.uint8)
    queued[heap] = 1
    queued = memoryview(queued)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        i = pop(heap)
        while update(flat, i):  # re-queue the lower neighbour; the right one is next in raster order anyway
            below = i + w
            if below < size and not queued[below]:
                queued[below] = 1
                push(heap, below)
            i += 1
            if not i % w or queued[i]:
                break


def _four_neighbours(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Up, down, left, right neighbour values, clamped at the border (a missing neighbour is the pixel)."""
    p = np.pad(values, 1, mode="edge")
    return p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]


def raise_flat_ridges(d: np.ndarray, skel: np.ndarray) -> None:
    """The medial radius on a flat ridge is one beyond D: a skeleton pixel whose D equals its four
    neighbours' is raised by one, in place (a raised pixel breaks the flatness of the next ones)."""
    w, size = d.shape[1], d.size
    carries = (d >= 1) & (d <= MAX_DISTANCE) & skel
    flat_skel = memoryview(np.ascontiguousarray(skel).reshape(-1).view(np.uint8))
    up, down, left, right = _four_neighbours(d)
    start = np.flatnonzero(carries & (up == d) & (down == d) & (left == d) & (right == d))

    def update(flat: memoryview, i: int) -> bool:
        c = flat[i]
        if not (flat_skel[i] and 1 <= c <= MAX_DISTANCE):
            return False
        if ((i < w or flat[i - w] == c) and (i + w >= size or flat[i + w] == c)
                and (not i % w or flat[i - 1] == c) and (not (i + 1) % w or flat[i + 1] == c)):
            flat[i] = c + 1
            return True
        return False

    _replay(d, start, update)


def propagate_peaks(nr: np.ndarray, carries: np.ndarray) -> None:
    """A pixel whose normaliser differs from all four (non-zero) neighbours takes its left neighbour's,
    spreading a stroke's cross-section peak along it, in place."""
    w = nr.shape[1]
    up, down, left, right = _four_neighbours(nr)
    set_around = (up != 0) & (down != 0) & (left != 0) & (right != 0)
    start = np.flatnonzero(carries & set_around & (nr != up) & (nr != down) & (nr != left) & (nr != right))
    movable = np.zeros(nr.shape, np.uint8)  # a missing neighbour is the pixel itself: the border stays
    movable[1:-1, 1:-1] = carries[1:-1, 1:-1]
    movable = memoryview(movable.reshape(-1))

    def update(flat: memoryview, i: int) -> bool:
        if not movable[i]:
            return False
        c, left = flat[i], flat[i - 1]
        if c == left or not left:
            return False
        up, down, right = flat[i - w], flat[i + w], flat[i + 1]
        if up and down and right and c != up and c != down and c != right:
            flat[i] = left
            return True
        return False

    _replay(nr, start, update)


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

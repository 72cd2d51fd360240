"""Recall and precision weight maps of the DIBCO 2013+ pseudo-F-measure, generated from the ground truth as the
official BinEvalWeights tool does (Ntirogiannis, Gatos, Pratikakis, IEEE TIP 22(2) 2013).

Recall weights (Eq. 2-3): GW = D / NR, with D the chessboard distance of an ink pixel to the GT contour and
NR the peak of D x medial factor over the stroke cross-section, found on the GT skeleton. Precision weights
(Eq. 10-11), stored as the ``_PWeights.dat`` files store them: PW - 1 = D / NP capped at 2, with D the
distance of a background pixel to the GT contour and NP = min(Gc_sw, Gsw_bg) from the background skeleton,
the stroke widths of the nearby components and the gaps where two components meet.

Every "nearest skeleton / contour" look-up is the tool's own: all feature pixels on the first non-empty square
ring around a pixel, the ring clamped to the bounding box of that pixel's connected component (components
numbered in raster order of their first pixel). The tool's few order-dependent in-place passes (component by
component, row by row) are replayed exactly, on the handful of pixels they can change.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import ndimage

from docbin.caching import KeyedCache

MAX_DISTANCE = 249  # the tool keeps distances in a byte; 1..249 are real distances
OUTSIDE_REACH = 250  # background beyond every component's stroke reach (PW = 1 there)
PW_CAP = 2.0  # the stored precision weight PW - 1 is capped at 2
CACHE_SIZE = 4  # ground truths whose weights stay cached (two float64 maps each)

# Bit k of a neighbourhood code is the k-th neighbour in the order N, NE, E, SE, S, SW, W, NW.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


# --- neighbourhood codes and thinning -------------------------------------------------------------------

def _bits(code: int) -> tuple[int, ...]:
    """(N, NE, E, SE, S, SW, W, NW) of a neighbourhood code."""
    return tuple((code >> k) & 1 for k in range(8))


def zhang_suen_deletes(code: int, subiteration: int) -> bool:
    """Zhang & Suen (1984): delete a pixel with 2..6 neighbours, one 0 -> 1 transition around its ring and,
    in the first subiteration, N.E.S = E.S.W = 0 (second: N.E.W = N.S.W = 0)."""
    n, ne, e, se, s, sw, w, nw = ring = _bits(code)
    transitions = sum(1 for k in range(8) if not ring[k] and ring[(k + 1) % 8])
    if not 2 <= sum(ring) <= 6 or transitions != 1:
        return False
    if subiteration == 1:
        return not (n and e and s) and not (e and s and w)
    return not (n and e and w) and not (n and s and w)


def _is_simple(code: int) -> bool:
    """Yokoi's 8-connectivity number is 1: removing the pixel keeps its neighbours 8-connected."""
    n, ne, e, se, s, sw, w, nw = _bits(code)
    ring = [1 - v for v in (e, ne, n, nw, w, sw, s, se)]  # complement, counter-clockwise from E
    return sum(ring[k] - ring[k] * ring[k + 1] * ring[(k + 2) % 8] for k in (0, 2, 4, 6)) == 1


def _lee_chen_deletes(code: int) -> bool:
    """Lee & Chen (1992) Table 1 as the official tool applies it after Zhang-Suen: delete a simple point that
    closes a 4-connected corner (two adjacent 4-neighbours set) and that Zhang-Suen would have kept. The
    tool's table keeps the two vertical T patterns (N+E+S, N+S+W) and deletes the two vertical 3-pixel
    edges (NE+E+SE, NW+W+SW) that Zhang-Suen would also delete."""
    n, ne, e, se, s, sw, w, nw = _bits(code)
    if code in (0b00001110, 0b11100000):
        return True
    if code in (0b00010101, 0b01010001):
        return False
    corner = (n and e) or (e and s) or (s and w) or (w and n)
    zhang_suen = zhang_suen_deletes(code, 1) or zhang_suen_deletes(code, 2)
    return bool(corner) and _is_simple(code) and not zhang_suen


_LEE_CHEN = np.array([_lee_chen_deletes(code) for code in range(256)])


_ZHANG_SUEN = [np.array([zhang_suen_deletes(code, sub) for code in range(256)], np.uint8) for sub in (1, 2)]
# Correlating a 0/1 image with these weights gives each pixel's neighbourhood code (bits do not overlap).
_CODE_WEIGHTS = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]], np.float32)
TILE_ROWS, TILE_COLS = 12, 24  # wide tiles: fewer, longer rows to gather and write back


def _zhang_suen(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning to its fixed point, each subiteration deciding on the image before it (parallel),
    the image frame counting as background. Only tiles whose pixels or 1-pixel halo changed in the last two
    subiterations are re-evaluated: the others would delete nothing (the result is that of full passes;
    large blank areas need hundreds of subiterations, but only along their shrinking front)."""
    h, w = mask.shape
    th, tw = -(-h // TILE_ROWS), -(-w // TILE_COLS)
    image = np.zeros((th * TILE_ROWS + 2, tw * TILE_COLS + 2), np.uint8)
    image[1 : h + 1, 1 : w + 1] = mask
    s0 = image.strides[0]
    # Each row of a tile window (with its 1-pixel halo), and of a tile, as one opaque item: fancy indexing
    # copies such items far faster than their bytes. The windows are gathered side by side into one wide
    # image (row r of window k at columns k * (TILE_COLS + 2) ...), which OpenCV filters fast.
    window_rows = np.ndarray((image.shape[0], tw), f"V{TILE_COLS + 2}", image, 0, (s0, TILE_COLS))
    tile_rows = np.ndarray((image.shape[0] - 1, tw), f"V{TILE_COLS}", image, s0 + 1, (s0, TILE_COLS))
    tiles = as_strided(image[1:, 1:], (th, tw, TILE_ROWS, TILE_COLS), (TILE_ROWS * s0, TILE_COLS, s0, 1))
    span = np.arange(TILE_ROWS + 2)[:, None]
    active = tiles.any(axis=(2, 3))
    before = active.copy()  # the second subiteration has not seen any tile yet
    quiet, sub = 0, 0
    while quiet < 2:
        ty, tx = np.nonzero(active)
        n = ty.size
        if not n:
            break
        rows = ty * TILE_ROWS + span  # (TILE_ROWS + 2, n) image rows of the windows
        wide = window_rows[rows, tx].view(np.uint8).reshape(TILE_ROWS + 2, n * (TILE_COLS + 2))
        codes = cv2.filter2D(wide, cv2.CV_8U, _CODE_WEIGHTS)
        gone = cv2.LUT(codes[1:-1], _ZHANG_SUEN[sub % 2])  # (TILE_ROWS, n * (TILE_COLS + 2)), halo columns unused
        cv2.bitwise_and(gone, wide[1:-1], dst=gone)
        cols = gone.max(axis=0).reshape(n, TILE_COLS + 2)  # per window column: a deletion in it
        hit = cols[:, 1:-1].any(axis=1)
        touched = np.zeros((th + 2, tw + 2), bool)  # tile grid with a margin
        if hit.any():
            kept = cv2.subtract(wide[1:-1], gone)
            kept_rows = np.ndarray((TILE_ROWS, n), f"V{TILE_COLS}", kept, 1, (kept.strides[0], TILE_COLS + 2))
            tile_rows[rows[:-2], tx] = kept_rows
            top, bottom = gone[0].reshape(n, TILE_COLS + 2), gone[-1].reshape(n, TILE_COLS + 2)
            sides = ((hit, 0, 0), (top[:, 1:-1].any(axis=1), -1, 0), (bottom[:, 1:-1].any(axis=1), 1, 0),
                     (cols[:, 1], 0, -1), (cols[:, TILE_COLS], 0, 1), (top[:, 1], -1, -1), (top[:, TILE_COLS], -1, 1),
                     (bottom[:, 1], 1, -1), (bottom[:, TILE_COLS], 1, 1))  # a change there -> that neighbour tile
            for changed, dy, dx in sides:
                changed = changed.astype(bool)
                touched[ty[changed] + 1 + dy, tx[changed] + 1 + dx] = True
            quiet = 0
        else:
            quiet += 1
        now = touched[1:-1, 1:-1]
        active, before = now | before, now
        sub += 1
    return image[1 : h + 1, 1 : w + 1] > 0


def _lee_chen_cleanup(skeleton: np.ndarray) -> np.ndarray:
    """The Table 1 passes, each a sequential raster scan that deletes in place (a later pixel sees the
    holes), repeated until nothing changes. Only pixels whose table entry says delete, or whose
    neighbourhood a deletion changed, are visited: the rest cannot change."""
    h, w = skeleton.shape
    stride = w + 2
    flat = np.pad(skeleton, 1).ravel().astype(np.uint8)
    offsets = [dy * stride + dx for dy, dx in _NEIGHBOURS]
    later = [1, stride - 1, stride, stride + 1]  # neighbours a raster scan reaches after the pixel
    table = _LEE_CHEN.tolist()
    while True:
        on = np.flatnonzero(flat)
        codes = np.zeros(on.size, np.int64)
        for bit, offset in enumerate(offsets):
            codes |= flat[on + offset].astype(np.int64) << bit
        heap = on[_LEE_CHEN[codes]].tolist()  # ascending: already a heap
        pixels = bytearray(flat.tobytes())
        queued = bytearray(flat.size)
        for i in heap:
            queued[i] = 1
        removed = False
        o0, o1, o2, o3, o4, o5, o6, o7 = offsets
        while heap:
            i = heapq.heappop(heap)
            p = pixels
            if p[i] and table[p[i + o0] | p[i + o1] << 1 | p[i + o2] << 2 | p[i + o3] << 3 | p[i + o4] << 4
                              | p[i + o5] << 5 | p[i + o6] << 6 | p[i + o7] << 7]:
                pixels[i] = 0
                removed = True
                for o in later:
                    if pixels[i + o] and not queued[i + o]:
                        queued[i + o] = 1
                        heapq.heappush(heap, i + o)
        flat = np.frombuffer(pixels, np.uint8).copy()
        if not removed:
            return flat.reshape(h + 2, w + 2)[1:-1, 1:-1].astype(bool)


# --- connected components, distances ---------------------------------------------------------------------

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
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    box = np.zeros((count + 1, 4), np.int64)
    for label, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
        box[label] = rows.start, cols.start, rows.stop - 1, cols.stop - 1
    return Components(labels, count, box)


def _chessboard(features: np.ndarray) -> np.ndarray:
    """Chessboard distance of every pixel to the nearest feature pixel (65535 when there is none)."""
    if not features.any():
        return np.full(features.shape, 0xFFFF, np.int32)
    return cv2.distanceTransform((~features).astype(np.uint8), cv2.DIST_C, 3).astype(np.int32)


def _contour(ink: np.ndarray) -> np.ndarray:
    """Ink pixels with a 4-neighbour outside the ink (the image frame counts as background)."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    inner = cv2.erode(ink.astype(np.uint8), cross, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return ink & ~inner.astype(bool)


def skeleton(mask: np.ndarray, parts: Components) -> np.ndarray:
    """The tool's skeleton: Zhang-Suen, then the Lee-Chen Table 1 clean-up. A component thinned to nothing
    (decided before any seed is placed) gets a seed one pixel down and right of its truncated mean position
    when that pixel belongs to some component, else at the mean itself (the reference files' convention)."""
    h, w = mask.shape
    skel = _lee_chen_cleanup(_zhang_suen(mask))
    has = np.zeros(parts.count + 1, bool)
    has[parts.labels[skel]] = True
    for label in np.flatnonzero(~has[1:]) + 1:
        y0, x0, y1, x1 = parts.box[label]
        ys, xs = np.nonzero(parts.labels[y0 : y1 + 1, x0 : x1 + 1] == label)
        my, mx = int(ys.sum() // ys.size + y0), int(xs.sum() // xs.size + x0)
        if my + 1 < h and mx + 1 < w and parts.labels[my + 1, mx + 1]:
            skel[my + 1, mx + 1] = True
        else:
            skel[my, mx] = True
    return skel


def fills_box_first(parts: Components, distance: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Pixels (of ``where``) whose square window, grown about them and clamped to the image, covers their
    whole component box before it reaches ``distance``: the tool gives them no background distance (e.g. a
    one-pixel hole). An interior box side is met at one radius, a side on the image border from some radius
    on; the window fills the box when the interior sides agree and every border side is reached."""
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


# --- first non-empty rings --------------------------------------------------------------------------------

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
    """For every centre, the smallest R whose square around it, clamped to the centre's component box, holds
    a feature pixel (the inside of that square holds none, so they all lie on its sides): the global
    chessboard distance where the box allows it, else found by a binary search on feature counts (a
    summed-area table)."""
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
    """Per centre (in raster order), the largest of each of ``values`` (a stack of images, read on the
    features alone) over the feature pixels of its ring: (k, centres), -1 where there are none."""
    k, h, w = values.shape
    flat = values.reshape(k, -1)
    rows = np.maximum(*(_range_max(flat[:, rings.order.by_rows].T, *side) for side in rings.rows))
    cols = np.maximum(*(_range_max(flat[:, rings.order.by_cols].T, *side) for side in rings.cols))
    qx, qy = _nonzero(_transpose(rings.centres.view(np.uint8)))  # the centres in column order
    return np.maximum(rows, cols[np.argsort(qy * w + qx)]).T


def range_ring_max(values: np.ndarray, rings: RangeRings) -> np.ndarray:
    """Per centre, the largest of ``values`` (an image, or a stack of images) over the feature pixels of its
    ring, as an image (or stack): -1 where there are none and off the centres."""
    stack = values.reshape(-1, *values.shape[-2:])
    best = np.full(stack.shape, -1, values.dtype)
    best[:, rings.centres] = range_ring_max_at(stack, rings)
    return best.reshape(values.shape)


def range_last_writer(rings: RangeRings, parts: Components) -> np.ndarray:
    """Per pixel, the centre whose ring holds it and that comes last in the tool's visiting order (component,
    row, column), as a flat index; -1 where no ring holds the pixel. That centre's write survives a
    last-writer-wins pass over ring features."""
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


# --- first non-empty rings by propagation ----------------------------------------------------------------
#
# Where the square of radius R = D (the chessboard distance to the nearest feature) about a centre is not cut
# by the centre's component box (or only where the box side is the image border), its first non-empty ring is
# the set N(p) of the features at distance D. Stepping from p towards any f in N(p) (one pixel along each
# coordinate that differs) reaches an 8-neighbour q with D(q) = D(p) - 1 that has f in N(q), and every feature
# of such an N(q) lies at distance D(p) from p: N(p) is the union of N(q) over the 8-neighbours q one level
# down. A ring maximum then propagates level by level outwards from the features, and the last ring writer of
# a feature (the largest key of a centre whose ring holds it) inwards, each pixel looking at its 8 neighbours
# once. Centres whose square the box cuts use the range look-ups above.


@dataclass(frozen=True)
class Rings:
    """The first non-empty rings of the centres: ``simple`` centres by propagation over the levels of the
    distance (pixels of the 1-padded image, level by level), the others (``ranges``) by range look-ups."""

    centres: np.ndarray  # mask
    found: np.ndarray  # image: the centre's box holds a feature
    features: np.ndarray  # mask
    distance: np.ndarray  # chessboard distance to the nearest feature (at most h + w)
    simple: np.ndarray  # mask: centres whose ring is that of the unclamped square of radius D
    order: np.ndarray  # flat indices into the padded image, by level (raster order within a level), of the
    # pixels that lead to a simple centre
    bounds: np.ndarray  # level r is order[bounds[r]:bounds[r + 1]], r = 0 (the features) .. the largest D of
    # a simple centre
    ranges: RangeRings | None  # the other centres, within ``window``
    window: tuple[slice, slice]
    window_parts: Components | None  # the components seen through the window


def _padded_offsets(w: int) -> list[int]:
    return [dy * (w + 2) + dx for dy, dx in _NEIGHBOURS]


def _leading_to(centres: np.ndarray, order: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds) cut down to the pixels a propagation to the ``centres`` reads: the centres and, level by
    level downwards, every 8-neighbour one level below a pixel kept. The ring values of the centres, and the
    last ring writers of the features, come out the same (a pixel cut off neither feeds nor is fed by one
    kept), for far fewer pixels: most of the image lies within the largest distance of some feature."""
    h, w = centres.shape
    lead = w + 3  # as in _spread
    kept = np.zeros((h + 2) * (w + 2), np.uint8)
    kept.reshape(h + 2, w + 2)[1:-1, 1:-1] = centres
    below = [kept[lead + o :] for o in _padded_offsets(w)]
    levels = []
    for r in range(bounds.size - 2, -1, -1):
        at = order[bounds[r] : bounds[r + 1]]
        at = at[kept.take(at).view(bool)]  # marked by the level above (its marks on levels r + 1 and r + 2
        levels.append(at)  # came after those were cut, as do this level's marks on itself)
        if r:
            base = at - lead
            for view in below:
                view[base] = 1
    sizes = [a.size for a in reversed(levels)]
    return np.concatenate(levels[::-1] or [order]), np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def first_rings(features: np.ndarray, parts: Components, centres: np.ndarray,
                chessboard: np.ndarray | None = None) -> Rings:
    """For every centre, the features on the smallest square about it, clamped to the centre's component box,
    that holds any (``chessboard``: the features' ``_chessboard``, when already known)."""
    h, w = features.shape
    distance = np.minimum(_chessboard(features) if chessboard is None else chessboard, h + w)  # int32
    simple = np.zeros((h, w), bool)
    top = -1
    if features.any():
        box = parts.box.astype(np.int32)
        y0, x0, y1, x1 = box.T
        unbounded = (y0 == 0) & (x0 == 0) & (y1 == h - 1) & (x1 == w - 1)  # e.g. the page's background
        bounded = centres.copy()
        for label in np.flatnonzero(unbounded):  # at most one: two such components would cross (and touch)
            bounded &= parts.labels != label
        simple = centres & ~bounded
        y, x = (v.astype(np.int32) for v in _nonzero(bounded))
        r, label = distance[y, x], parts.labels[y, x]
        y0, x0, y1, x1 = y0[label], x0[label], y1[label], x1[label]
        ok = (((y - r >= y0) | (y0 == 0)) & ((y + r <= y1) | (y1 == h - 1))
              & ((x - r >= x0) | (x0 == 0)) & ((x + r <= x1) | (x1 == w - 1)))
        cut = np.flatnonzero(~ok)
        if cut.size:  # the box cuts the square: still simple when no feature lies in the cut-off part
            sat = cv2.integral(features.view(np.uint8), sdepth=cv2.CV_32S)
            cy, cx, cr = y[cut], x[cut], r[cut]

            def count(ya: np.ndarray, xa: np.ndarray, yb: np.ndarray, xb: np.ndarray) -> np.ndarray:
                ya, xa = np.clip(ya, 0, h), np.clip(xa, 0, w)
                yb, xb = np.clip(yb + 1, 0, h), np.clip(xb + 1, 0, w)
                return sat[yb, xb] - sat[ya, xb] - sat[yb, xa] + sat[ya, xa]

            square = count(cy - cr, cx - cr, cy + cr, cx + cr)
            inside = count(np.maximum(cy - cr, y0[cut]), np.maximum(cx - cr, x0[cut]),
                           np.minimum(cy + cr, y1[cut]), np.minimum(cx + cr, x1[cut]))
            ok[cut] = (square == inside) & (inside > 0)
        simple[y[ok], x[ok]] = True
        top = int(distance[simple].max(initial=-1))
    key = np.full((h + 2, w + 2), top + 1, np.uint8 if top < 255 else np.uint16 if top < 65535 else np.uint32)
    key[1:-1, 1:-1] = np.minimum(distance, top + 1)
    key = key.ravel()
    if top < 0:
        counts = np.zeros(0, np.int64)
    elif key.size < 1 << 24:  # exact float32 counts; OpenCV's histogram is much faster than bincount
        counts = cv2.calcHist([key.reshape(1, -1)], [0], None, [top + 1], [0, top + 1]).ravel().astype(np.int64)
    else:
        counts = np.bincount(key, minlength=top + 2)[: top + 1]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    if 2 * bounds[-1] < key.size:  # the pixels of levels 0..top, sorted by level (radix sorts)
        near = np.flatnonzero(key <= top)
        order = near[np.argsort(key[near], kind="stable")]
    else:
        order = np.argsort(key, kind="stable")[: bounds[-1]]
    order, bounds = _leading_to(simple, order, bounds)
    rest = centres & ~simple
    found, ranges, window, inner = simple.copy(), None, (slice(0, 0), slice(0, 0)), None
    if rest.any():  # range look-ups within the boxes of the components of these centres
        ry, rx = _nonzero(rest)
        boxes = parts.box[np.unique(parts.labels[ry, rx])]
        ya, xa, yb, xb = boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
        window = (slice(ya, yb + 1), slice(xa, xb + 1))
        inner = Components(parts.labels[window], parts.count, parts.box - np.array([ya, xa, ya, xa]))
        ranges = range_rings(features[window], inner, rest[window], distance[window])
        found[window] |= ranges.found
    return Rings(centres, found, features, distance, simple, order, bounds, ranges, window, inner)


def _spread(planes: list[np.ndarray], own: np.ndarray | None, rings: Rings, levels: range) -> None:
    """Level by level, set each pixel of the ``planes`` (flat 1-padded images) to the largest of its 8
    neighbours (and of ``own``), in place: pixels of the next levels still hold -1, those two levels away
    are not neighbours."""
    lead = rings.centres.shape[1] + 3  # no pixel of a level lies closer to the start of the padded image
    # A neighbour at offset o of the pixels ``at`` is element at - lead of the view that starts at lead + o.
    shifted = [[flat[lead + o :] for o in _padded_offsets(rings.centres.shape[1])] for flat in planes]
    for r in levels:
        at = rings.order[rings.bounds[r] : rings.bounds[r + 1]]
        if not at.size:
            continue
        base = at - lead
        for flat, views in zip(planes, shifted):
            acc = own.take(at) if own is not None else views[0].take(base)
            for view in views if own is not None else views[1:]:
                np.maximum(acc, view.take(base), out=acc)
            flat[at] = acc


def ring_max(values: np.ndarray, rings: Rings, at: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Per centre, the largest of ``values`` (an image, or a stack of images; read on the features alone) over
    the feature pixels of its ring, as an image (or stack): -1 where there are none and off the centres. With
    ``at`` (rows, columns of centres in raster order), only there: (stack depth, len(rows)) or (len(rows),)."""
    stack = values.reshape(-1, *values.shape[-2:])
    k, (h, w) = stack.shape[0], stack.shape[1:]
    planes = []
    for plane in stack:
        padded = np.full((h + 2, w + 2), -1, values.dtype)
        np.copyto(padded[1:-1, 1:-1], plane, where=rings.features)
        planes.append(padded)
    _spread([p.reshape(-1) for p in planes], None, rings, range(1, rings.bounds.size - 1))
    if at is None:
        out = np.full((k, h, w), -1, values.dtype)
        for padded, result in zip(planes, out):
            np.copyto(result, padded[1:-1, 1:-1], where=rings.simple)
        if rings.ranges is not None:
            part = out[(slice(None), *rings.window)]
            np.maximum(part, range_ring_max(stack[(slice(None), *rings.window)], rings.ranges), out=part)
        return out.reshape(values.shape)
    y, x = at
    index = (y + 1) * (w + 2) + (x + 1)
    simple = rings.simple[y, x]
    out = np.stack([np.where(simple, p.reshape(-1).take(index), -1) for p in planes])
    if rings.ranges is not None:
        (ya, _, _), (xa, _, _) = (part.indices(n) for part, n in zip(rings.window, (h, w)))
        fy, fx = _nonzero(rings.ranges.centres)
        where = np.searchsorted(y * w + x, (fy + ya) * w + fx + xa)  # the range centres among ``at``
        found = np.minimum(where, y.size - 1)
        mine = (where < y.size) & (y[found] == fy + ya) & (x[found] == fx + xa)
        theirs = range_ring_max_at(stack[(slice(None), *rings.window)], rings.ranges)
        out[:, where[mine]] = np.maximum(out[:, where[mine]], theirs[:, mine])
    return out.reshape(*values.shape[:-2], y.size)


def ring_last_writer(rings: Rings, parts: Components) -> np.ndarray:
    """Per pixel, the centre whose ring holds it and that comes last in the tool's visiting order (component,
    row, column), as a flat index; -1 where no ring holds the pixel. That centre's write survives a
    last-writer-wins pass over ring features."""
    h, w = rings.centres.shape
    simple = np.flatnonzero(rings.simple)
    keys = parts.visit_key(simple)
    own = np.full((h + 2) * (w + 2), -1, keys.dtype)
    own[simple + 2 * (simple // w) + w + 3] = keys  # (y + 1, x + 1) in the padded image
    writer = np.full(own.size, -1, keys.dtype)
    _spread([writer], own, rings, range(rings.bounds.size - 2, -1, -1))
    fy, fx = _nonzero(rings.features)
    key = writer[(fy + 1) * (w + 2) + fx + 1]
    if rings.ranges is not None:  # the centres of the range look-ups, within the window
        (ya, yb, _), (xa, xb, _) = (part.indices(n) for part, n in zip(rings.window, (h, w)))
        inside = np.flatnonzero((fy >= ya) & (fy < yb) & (fx >= xa) & (fx < xb))
        at = range_last_writer(rings.ranges, rings.window_parts)[fy[inside] - ya, fx[inside] - xa]
        oy, ox = np.divmod(np.maximum(at, 0), xb - xa)
        theirs = parts.visit_key((oy + ya) * w + ox + xa)
        key[inside] = np.maximum(key[inside], np.where(at >= 0, theirs, -1))
    image = np.full((h, w), -1, np.int32 if h * w < 2**31 else np.int64)
    written = key >= 0
    image[fy[written], fx[written]] = parts.visit_position(key[written])
    return image

# --- the tool's in-place passes ---------------------------------------------------------------------------

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


# --- the two weight maps ----------------------------------------------------------------------------------

def medial_normalisation(
    d: np.ndarray, skel: np.ndarray, skel_on_contour: np.ndarray, parts: Components
) -> tuple[np.ndarray, np.ndarray]:
    """(NR, medial factor), Eq. 3. Each pixel carrying a distance writes, on the skeleton pixels q of its
    first non-empty ring, factor[q] = D[q] + 1 if its own distance to the skeleton reaches D[q] (else D[q]),
    the last pixel in visiting order winning; end points then extend their neighbour's factor. NR of a
    pixel is the largest D x factor over its ring, its peaks then propagated along the stroke."""
    h, w = d.shape
    carries = (d >= 1) & (d <= MAX_DISTANCE)
    rings = first_rings(skel, parts, carries)
    factor = skel.astype(np.int32)
    writer = ring_last_writer(rings, parts)
    written = skel & (writer >= 0)
    dq, at = d[written], writer[written]  # the writing centre's distance to the skeleton:
    to_skeleton = np.where((skel & ~skel_on_contour).ravel()[at], 1, rings.distance.ravel()[at] & 0xFF)
    factor[written] = (dq + (to_skeleton >= dq)) & 0xFF
    extend_end_points(factor, skel, parts)
    nr = np.maximum(ring_max(d * factor, rings), 0)  # int32, read on the skeleton alone
    propagate_peaks(nr, carries)
    return nr, factor


def stroke_widths(factor: np.ndarray, skel: np.ndarray, parts: Components) -> np.ndarray:
    """Gsw_fg per component (Fig. 15a): twice the floored mean medial factor over its skeleton."""
    label = parts.labels[skel]
    total = np.bincount(label, weights=factor[skel], minlength=parts.count + 1).astype(np.int64)
    count = np.bincount(label, minlength=parts.count + 1)
    return np.where(count > 0, total // np.maximum(count, 1) * 2, 0)


def stroke_reach(ink: np.ndarray, parts: Components, width: np.ndarray) -> np.ndarray:
    """The Gsw_bg region (Fig. 15b): background inside some component's box grown by twice its stroke width."""
    h, w = ink.shape
    margin = 2 * width[1:]
    y0, x0, y1, x1 = parts.box[1:].T
    y0, x0 = np.maximum(y0 - margin, 0), np.maximum(x0 - margin, 0)
    y1, x1 = np.minimum(y1 + margin, h - 1), np.minimum(x1 + margin, w - 1)
    exact = np.float32 if parts.count < 2**24 else np.float64  # every partial sum is a count of boxes
    corners = np.zeros((h + 1, w + 1), exact)
    np.add.at(corners, (y0, x0), 1)
    np.add.at(corners, (y0, x1 + 1), -1)
    np.add.at(corners, (y1 + 1, x0), -1)
    np.add.at(corners, (y1 + 1, x1 + 1), 1)
    covered = cv2.integral(corners, sdepth=cv2.CV_32F if exact is np.float32 else cv2.CV_64F)
    return (covered[1 : h + 1, 1 : w + 1] > 0) & ~ink


def compute_pseudo_weights(gt_ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall weights GW, precision weights PW - 1) of a ground truth (True = ink), uncached."""
    ink = np.asarray(gt_ink, bool)
    h, w = ink.shape
    recall, precision = np.zeros((h, w)), np.zeros((h, w))
    if not ink.any():
        return recall, precision

    # Recall: D, NR, GW = D / NR (Eq. 2-3).
    fg = components(ink)
    contour = _contour(ink)
    fg_skel = skeleton(ink, fg)
    contour_distance = _chessboard(contour)
    d = np.where(ink, np.where(contour & fg_skel, 1, contour_distance & 0xFF), 0)
    raise_flat_ridges(d, fg_skel)
    nr, factor = medial_normalisation(d, fg_skel, fg_skel & contour, fg)
    weighted = (d > 0) & (nr > 0)
    recall[weighted] = d[weighted] / nr[weighted]

    # Precision: background D and NP on the background skeleton, NP = min(Gc_sw, Gsw_bg) (Eq. 10-11).
    width = stroke_widths(factor, fg_skel, fg)
    reach_region = stroke_reach(ink, fg, width)
    bg = components(~ink)
    seed = ~ink
    seed[[0, -1], :] = seed[:, [0, -1]] = False  # the tool thins the background inside the image frame
    bg_skel = skeleton(seed, bg)
    dp = np.where(ink, 0, np.where(reach_region, contour_distance & 0xFF, OUTSIDE_REACH))
    dp[fills_box_first(bg, contour_distance, reach_region)] = 0
    raise_flat_ridges(dp, bg_skel)
    np_area, _ = medial_normalisation(dp, bg_skel, np.zeros_like(ink), bg)
    centres = (dp >= 1) & (dp <= MAX_DISTANCE)
    cy, cx = _nonzero(centres)
    gap = np.floor(np.sqrt(np_area[cy, cx]) + 0.5).astype(np.int64)  # an area back to a width

    rings = first_rings(contour, bg, centres, contour_distance)
    around = np.zeros((3, h, w), np.int32)  # ring_max reads the values on the contour alone
    on = np.flatnonzero(contour)
    label = fg.labels.take(on)
    around.reshape(3, -1)[:, on] = (width & 0xFF)[label], label, fg.count + 1 - label
    reach, top_label, low_label = ring_max(around, rings, at=(cy, cx))
    low_label = fg.count + 1 - low_label
    dc = dp[cy, cx]
    within = rings.found[cy, cx] & (dc <= reach)
    marker = np.zeros((h, w), bool)
    marker[cy, cx] = within & (top_label != low_label) & ((gap & 0xFF) > 0)  # two components meet here
    slack = reach - dc
    merging = (slack > 0) & (_chessboard(marker)[cy, cx] <= slack)
    normaliser = np.where(within, np.where(merging & (gap < reach), gap, reach) & 0xFF, 0)
    kept = normaliser > 0
    precision[cy[kept], cx[kept]] = np.minimum(dc[kept] / normaliser[kept], PW_CAP)
    return recall, precision


WEIGHTS_CACHE: KeyedCache[tuple[tuple[int, ...], bytes], tuple[np.ndarray, np.ndarray]] = KeyedCache(
    "pseudo-FM weights per ground truth", CACHE_SIZE
)


def pseudo_weights(gt_ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall weights, precision weights) of a ground truth (True = ink), in the convention of the official
    ``_RWeights.dat`` / ``_PWeights.dat`` files that ``pseudo_f_measure`` consumes. The last CACHE_SIZE ground
    truths are remembered in :data:`WEIGHTS_CACHE` (by a hash of their pixels), so scoring several
    predictions against one GT computes its weights once; the returned arrays are read-only."""
    ink = np.asarray(gt_ink, bool)
    key = (ink.shape, hashlib.blake2b(np.packbits(ink).tobytes(), digest_size=16).digest())

    def computed() -> tuple[np.ndarray, np.ndarray]:
        weights = compute_pseudo_weights(ink)
        for array in weights:  # shared by every caller of the cache
            array.flags.writeable = False
        return weights

    return WEIGHTS_CACHE.get(key, computed)

"""Thinning as the official BinEvalWeights tool does it: Zhang & Suen (1984) to its fixed point, then the
Lee & Chen (1992) Table 1 clean-up, and a seed for every component thinned to nothing."""

from __future__ import annotations

import heapq

import cv2
import numpy as np
from numpy.lib.stride_tricks import as_strided

from docbin.metrics.weights.connectivity import Components

# Bit k of a neighbourhood code is the k-th neighbour in the order N, NE, E, SE, S, SW, W, NW.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


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
# The tile a deletion can affect, for a deletion anywhere in a tile, in its top row, bottom row, left column,
# right column and four corner pixels (the order of ``sides`` in _zhang_suen).
_SIDE_DY = np.array([0, -1, 1, 0, 0, -1, -1, 1, 1])
_SIDE_DX = np.array([0, 0, 0, -1, 1, -1, 1, -1, 1])


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
            sides = np.stack([hit, top[:, 1:-1].any(axis=1), bottom[:, 1:-1].any(axis=1), cols[:, 1],
                              cols[:, TILE_COLS], top[:, 1], top[:, TILE_COLS], bottom[:, 1], bottom[:, TILE_COLS]])
            side, tile = np.nonzero(sides)  # a change there -> that neighbour tile
            touched[ty[tile] + 1 + _SIDE_DY[side], tx[tile] + 1 + _SIDE_DX[side]] = True
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

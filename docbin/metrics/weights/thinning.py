"""Thinning as the official BinEvalWeights tool does it: Zhang & Suen (1984) to its fixed point, then the
Lee & Chen (1992) Table 1 clean-up, and a seed for every component thinned to nothing."""

from __future__ import annotations

import numpy as np
from numba import njit

from docbin.metrics.weights.connectivity import Components

# Bit k of a neighbourhood code is the k-th neighbour in the order N, NE, E, SE, S, SW, W, NW.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _bits(code: int) -> tuple[int, ...]:
    """(N, NE, E, SE, S, SW, W, NW) of a neighbourhood code."""
    return tuple((code >> k) & 1 for k in range(8))


def zhang_suen_deletes(code: int, subiteration: int) -> bool:
    """Zhang & Suen's deletion test of one pixel from its neighbourhood code.

    Delete a pixel with 2..6 neighbours, one 0 -> 1 transition around its ring and, in the first
    subiteration, N.E.S = E.S.W = 0 (second: N.E.W = N.S.W = 0).

    Parameters
    ----------
    code : int
        The 8 neighbours as bits 0..7 in the order N, NE, E, SE, S, SW, W, NW.
    subiteration : {1, 2}
        Which subiteration.

    Returns
    -------
    bool
        Whether the pixel is deleted.

    References
    ----------
    .. [1] T. Y. Zhang, C. Y. Suen, "A fast parallel algorithm for thinning digital patterns", Communications
       of the ACM 27(3), 1984.

    Examples
    --------
    >>> zhang_suen_deletes(0b00011100, 1)  # E, SE, S set: a north-west corner goes
    True
    >>> zhang_suen_deletes(0b00010001, 1)  # N and S set: two transitions, a line pixel stays
    False
    """
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
_ZHANG_SUEN = np.array([[zhang_suen_deletes(code, sub) for code in range(256)] for sub in (1, 2)], np.bool_)


@njit(cache=True, nogil=True)
def _code(image: np.ndarray, i: int, offsets: np.ndarray) -> int:
    """The neighbourhood code of flat pixel ``i`` of a 0/1 image (bit k: neighbour k of ``_NEIGHBOURS`` is
    set), without a branch per neighbour."""
    code = 0
    for bit in range(8):
        code |= image[i + offsets[bit]] << bit
    return code


@njit(cache=True, nogil=True)
def _zhang_suen_passes(image: np.ndarray, offsets: np.ndarray, deletes: np.ndarray) -> None:
    """Zhang-Suen subiterations on a flat, 1-pixel-framed image, in place, until two in a row delete nothing.
    Each subiteration decides on the image before it (parallel). A pixel is judged only when its
    neighbourhood changed in the last two subiterations (initially: every ink pixel beside the background):
    judged since on the same neighbourhood by the same rule, it would be kept again."""
    # Subiteration stamps, offset so that 0 (calloc'd, untouched pages) is "never": changed[i] = s + 3 when
    # subiteration s changed pixel i's neighbourhood, listed[i] = s + 1 when i is to be judged in s.
    changed = np.zeros(image.size, np.int32)
    listed = np.zeros(image.size, np.int32)
    todo = np.empty(image.size, offsets.dtype)
    gone = np.empty(image.size, offsets.dtype)
    n = 0
    for i in range(image.size):
        if image[i] and _code(image, i, offsets) != 255:
            changed[i], listed[i] = 2, 1  # as if changed just before the first subiteration
            todo[n] = i
            n += 1
    sub = 0
    while n:
        table = deletes[sub % 2]
        m = 0
        for k in range(n):
            i = todo[k]
            if table[_code(image, i, offsets)]:
                gone[m] = i
                m += 1
        for k in range(m):
            image[gone[k]] = 0
        kept = 0  # judged and kept, their neighbourhood changed in the last subiteration: judged once more
        for k in range(n):
            i = todo[k]
            if image[i] and changed[i] >= sub + 2:
                listed[i] = sub + 2
                todo[kept] = i
                kept += 1
        n = kept
        for k in range(m):
            for offset in offsets:
                j = gone[k] + offset
                if image[j]:
                    changed[j] = sub + 3
                    if listed[j] != sub + 2:
                        listed[j] = sub + 2
                        todo[n] = j
                        n += 1
        sub += 1


def _framed(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 0/1 copy of ``mask`` in a frame of background, and the flat offsets of the eight neighbours in it
    (int32 where every flat index fits)."""
    image = np.pad(np.asarray(mask, np.uint8), 1)
    index = np.int32 if image.size < 2**31 else np.int64
    return image, np.array([dy * image.shape[1] + dx for dy, dx in _NEIGHBOURS], index)


def _zhang_suen(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning to its fixed point, each subiteration deciding on the image before it (parallel),
    the image frame counting as background."""
    image, offsets = _framed(mask)
    _zhang_suen_passes(image.reshape(-1), offsets, _ZHANG_SUEN)
    return image[1:-1, 1:-1] > 0


@njit(cache=True, nogil=True)
def _lee_chen_passes(image: np.ndarray, offsets: np.ndarray, deletes: np.ndarray) -> None:
    """Sequential raster scans of a flat, 1-pixel-framed image that delete in place (a later pixel sees the
    holes), repeated until one deletes nothing."""
    removed = True
    while removed:
        removed = False
        for i in range(image.size):
            if image[i] and deletes[_code(image, i, offsets)]:
                image[i] = 0
                removed = True


def _lee_chen_cleanup(skeleton: np.ndarray) -> np.ndarray:
    """The Table 1 passes, each a sequential raster scan that deletes in place, until nothing changes."""
    image, offsets = _framed(skeleton)
    _lee_chen_passes(image.reshape(-1), offsets, _LEE_CHEN)
    return image[1:-1, 1:-1] > 0


def skeleton(mask: np.ndarray, parts: Components) -> np.ndarray:
    """The tool's skeleton: Zhang-Suen to its fixed point, then the Lee-Chen Table 1 clean-up.

    A component thinned to nothing (decided before any seed is placed) gets a seed one pixel down and right
    of its truncated mean position when that pixel belongs to some component, else at the mean itself (the
    reference files' convention).

    Parameters
    ----------
    mask : ndarray of bool, shape (H, W)
        The GT ink.
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    Returns
    -------
    ndarray of bool, shape (H, W)
        The skeleton, with at least one pixel per component.

    References
    ----------
    .. [1] T. Y. Zhang, C. Y. Suen, "A fast parallel algorithm for thinning digital patterns", Communications
       of the ACM 27(3), 1984.
    .. [2] Lee, Chen, 1992, Table 1 (the clean-up the official BinEvalWeights tool applies).
    .. [3] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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

"""First non-empty rings by propagation over the levels of the chessboard distance, with the range look-ups
for the centres whose square their component box cuts."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

from docbin.metrics.weights.connectivity import Components, _chessboard, _nonzero
from docbin.metrics.weights.ranges import (
    RangeRings,
    range_last_writer,
    range_ring_max,
    range_ring_max_at,
    range_rings,
)
from docbin.metrics.weights.thinning import _NEIGHBOURS

# Where the square of radius R = D (the chessboard distance to the nearest feature) about a centre is not cut
# by the centre's component box (or only where the box side is the image border), its first non-empty ring is
# the set N(p) of the features at distance D. Stepping from p towards any f in N(p) (one pixel along each
# coordinate that differs) reaches an 8-neighbour q with D(q) = D(p) - 1 that has f in N(q), and every feature
# of such an N(q) lies at distance D(p) from p: N(p) is the union of N(q) over the 8-neighbours q one level
# down. A ring maximum then propagates level by level outwards from the features, and the last ring writer of
# a feature (the largest key of a centre whose ring holds it) inwards, each pixel looking at its 8 neighbours
# once. Centres whose square the box cuts use the range look-ups of ``ranges``.


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


@njit(cache=True, nogil=True)
def _by_level(key: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds): the flat indices of the pixels of levels 0..``top`` of ``key``, sorted by level and in
    raster order within a level (a counting sort), level r being order[bounds[r]:bounds[r + 1]]."""
    bounds = np.zeros(top + 2, np.int64)
    for i in range(key.size):
        if key[i] <= top:
            bounds[key[i] + 1] += 1
    bounds = np.cumsum(bounds)
    order = np.empty(bounds[-1], np.int64)
    fill = bounds[:-1].copy()
    for i in range(key.size):
        if key[i] <= top:
            order[fill[key[i]]] = i
            fill[key[i]] += 1
    return order, bounds


@njit(cache=True, nogil=True)
def _leading_to(centres: np.ndarray, order: np.ndarray, bounds: np.ndarray,
                offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, bounds) cut down to the pixels a propagation to the ``centres`` reads: the centres and, level by
    level downwards, every 8-neighbour one level below a pixel kept. The ring values of the centres, and the
    last ring writers of the features, come out the same (a pixel cut off neither feeds nor is fed by one
    kept), for far fewer pixels: most of the image lies within the largest distance of some feature.
    ``offsets``: the 8 neighbours in the flat 1-padded image."""
    h, w = centres.shape
    kept = np.zeros((h + 2, w + 2), np.uint8)
    kept[1:-1, 1:-1] = centres
    kept = kept.ravel()
    picked = np.empty(order.size, np.int64)  # the levels kept, from the top one down
    size = np.zeros(bounds.size, np.int64)
    n = 0
    for r in range(bounds.size - 2, -1, -1):
        first = n
        for k in range(bounds[r], bounds[r + 1]):  # marked by the level above (its marks on levels r + 1
            if kept[order[k]]:  # and r + 2 came after those were cut, as do this level's marks on itself)
                picked[n] = order[k]
                n += 1
        size[r + 1] = n - first
        if r:
            for k in range(first, n):
                for o in offsets:
                    kept[picked[k] + o] = 1
    bounds = np.cumsum(size)
    out = np.empty(n, np.int64)
    end = n
    for r in range(bounds.size - 1):  # level r was picked right after the levels above it
        out[bounds[r] : bounds[r + 1]] = picked[end - size[r + 1] : end]
        end -= size[r + 1]
    return out, bounds


def first_rings(features: np.ndarray, parts: Components, centres: np.ndarray,
                chessboard: np.ndarray | None = None) -> Rings:
    """For every centre, the features on the smallest square about it, clamped to its component box, that holds any.

    ``simple`` centres (whose ring is that of the unclamped square of radius D) are served by propagation
    over the levels of the distance; the others by range look-ups
    (:func:`~docbin.metrics.weights.ranges.range_rings`).

    Parameters
    ----------
    features : ndarray of bool, shape (H, W)
        The feature pixels (skeleton or contour).
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).
    centres : ndarray of bool, shape (H, W)
        The pixels whose rings are wanted.
    chessboard : ndarray of int32, shape (H, W), optional
        The features' chessboard distance (``_chessboard``), when already known.

    Returns
    -------
    Rings
        What :func:`ring_max` and :func:`ring_last_writer` read.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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
    order, bounds = _leading_to(simple, *_by_level(key.ravel(), top), np.array(_padded_offsets(w)))
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
    """Per centre, the largest of ``values`` over the feature pixels of its ring.

    Parameters
    ----------
    values : ndarray, shape (H, W) or (K, H, W)
        An image or a stack, read on the features alone.
    rings : Rings
        The rings (:func:`first_rings`).
    at : (ndarray, ndarray), optional
        Rows and columns of centres in raster order: the maxima there only.

    Returns
    -------
    ndarray
        Without ``at``, the shape of ``values``: the maxima at the centres, -1 where a ring holds no feature
        and off the centres. With ``at``: (K, len(rows)) or (len(rows),).

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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
    """Per pixel, the last centre in the tool's visiting order whose ring holds it.

    The order is component, then row, then column; that centre's write survives a last-writer-wins pass
    over ring features.

    Parameters
    ----------
    rings : Rings
        The rings (:func:`first_rings`).
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    Returns
    -------
    ndarray of int32 (int64 for 2^31 pixels or more), shape (H, W)
        The centre's flat index; -1 where no ring holds the pixel.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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

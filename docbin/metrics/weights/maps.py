"""The two weight maps of the pseudo-F-measure: recall weights GW = D / NR (Eq. 2-3) and precision weights
PW - 1 = D / NP capped at 2 (Eq. 10-11), uncached."""

from __future__ import annotations

import cv2
import numpy as np

from docbin.metrics.weights.connectivity import (
    MAX_DISTANCE,
    Components,
    _chessboard,
    _contour,
    _nonzero,
    components,
    fills_box_first,
)
from docbin.metrics.weights.passes import extend_end_points, propagate_peaks, raise_flat_ridges
from docbin.metrics.weights.rings import first_rings, ring_last_writer, ring_max
from docbin.metrics.weights.thinning import skeleton

OUTSIDE_REACH = 250  # background beyond every component's stroke reach (PW = 1 there)
PW_CAP = 2.0  # the stored precision weight PW - 1 is capped at 2


def medial_normalisation(
    d: np.ndarray, skel: np.ndarray, skel_on_contour: np.ndarray, parts: Components
) -> tuple[np.ndarray, np.ndarray]:
    """(NR, medial factor) of the recall weights, Eq. 3 of Ntirogiannis et al. (2013).

    Each pixel carrying a distance writes, on the skeleton pixels q of its first non-empty ring,
    factor[q] = D[q] + 1 if its own distance to the skeleton reaches D[q] (else D[q]), the last pixel in
    visiting order winning; end points then extend their neighbour's factor. NR of a pixel is the largest
    D x factor over its ring, its peaks then propagated along the stroke.

    Parameters
    ----------
    d : ndarray of int32, shape (H, W)
        D, the chessboard distance of each ink pixel to the GT contour (1..``MAX_DISTANCE`` carry one).
    skel : ndarray of bool, shape (H, W)
        The GT skeleton.
    skel_on_contour : ndarray of bool, shape (H, W)
        Skeleton pixels on the contour.
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    Returns
    -------
    nr : ndarray of int32, shape (H, W)
        The normaliser NR (0 where none).
    factor : ndarray of int32, shape (H, W)
        The medial factor on the skeleton.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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
    """Gsw_fg per component (Fig. 15a of Ntirogiannis et al.): twice the floored mean medial factor over its skeleton.

    Parameters
    ----------
    factor : ndarray of int, shape (H, W)
        The medial factor (:func:`medial_normalisation`).
    skel : ndarray of bool, shape (H, W)
        The GT skeleton.
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).

    Returns
    -------
    ndarray of int64, shape (count + 1,)
        The stroke width per label (0 for a component without skeleton, and for label 0).

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
    label = parts.labels[skel]
    total = np.bincount(label, weights=factor[skel], minlength=parts.count + 1).astype(np.int64)
    count = np.bincount(label, minlength=parts.count + 1)
    return np.where(count > 0, total // np.maximum(count, 1) * 2, 0)


def stroke_reach(ink: np.ndarray, parts: Components, width: np.ndarray) -> np.ndarray:
    """The Gsw_bg region (Fig. 15b of Ntirogiannis et al.): background within a component's grown box.

    Each component's box is grown by twice its stroke width (clamped to the image); the region is the
    background covered by any grown box.

    Parameters
    ----------
    ink : ndarray of bool, shape (H, W)
        The GT ink.
    parts : Components
        The GT's 8-connected components (:func:`~docbin.metrics.weights.connectivity.components`).
    width : ndarray of int, shape (count + 1,)
        Stroke width per label (:func:`stroke_widths`).

    Returns
    -------
    ndarray of bool, shape (H, W)
        The region.

    References
    ----------
    .. [1] K. Ntirogiannis, B. Gatos, I. Pratikakis, "Performance evaluation methodology for historical
       document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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
    """The pseudo-F-measure's weight maps of a ground truth, as the official BinEvalWeights tool makes them.

    Parameters
    ----------
    gt_ink : ndarray
        ``(H, W)`` ground truth, True (non-zero) = ink.

    Returns
    -------
    recall : ndarray
        ``(H, W)`` float64 recall weights GW = D / NR on the ink (Eq. 2-3), 0 elsewhere.
    precision : ndarray
        ``(H, W)`` float64 precision weights as the ``_PWeights.dat`` files store them, PW - 1 = D / NP
        capped at ``PW_CAP`` on the background within the strokes' reach (Eq. 10-11), 0 elsewhere.

    See Also
    --------
    docbin.metrics.weights.pseudo_weights : the same, cached per ground truth.

    References
    ----------
    .. [1] Ntirogiannis, K., Gatos, B., Pratikakis, I., "Performance evaluation methodology for historical
           document image binarization", IEEE Transactions on Image Processing 22(2), 2013.
    """
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

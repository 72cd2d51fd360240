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
component, row by row) are replayed exactly, as compiled (numba) raster passes like the thinning.

The parts, each its own module: ``connectivity`` (8-connected components, chessboard distances, contours),
``thinning`` (the tool's skeleton), ``ranges`` and ``rings`` (first non-empty rings by range look-ups and by
propagation), ``passes`` (the replayed in-place passes), ``maps`` (the two weight maps) and ``cache`` (the
weights of the last few ground truths).
"""

from docbin.metrics.weights.cache import CACHE_SIZE, WEIGHTS_CACHE, pseudo_weights
from docbin.metrics.weights.connectivity import MAX_DISTANCE
from docbin.metrics.weights.maps import OUTSIDE_REACH, PW_CAP, compute_pseudo_weights

__all__ = [
    "CACHE_SIZE",
    "MAX_DISTANCE",
    "OUTSIDE_REACH",
    "PW_CAP",
    "WEIGHTS_CACHE",
    "compute_pseudo_weights",
    "pseudo_weights",
]

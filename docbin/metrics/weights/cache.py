"""The pseudo-FM weights of the last few ground truths, kept per process in :data:`WEIGHTS_CACHE`."""

from __future__ import annotations

import hashlib

import numpy as np

from docbin.caching import KeyedCache
from docbin.metrics.weights.maps import compute_pseudo_weights

CACHE_SIZE = 4  # ground truths whose weights stay cached (two float64 maps each)


WEIGHTS_CACHE: KeyedCache[tuple[tuple[int, ...], bytes], tuple[np.ndarray, np.ndarray]] = KeyedCache(
    "pseudo-FM weights per ground truth", CACHE_SIZE
)


def pseudo_weights(gt_ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-F-measure's weight maps of a ground truth, remembered for the next caller.

    The last ``CACHE_SIZE`` ground truths are kept in :data:`WEIGHTS_CACHE` (by shape and a hash of their
    pixels), so scoring several predictions against one GT computes its weights once.

    Parameters
    ----------
    gt_ink : ndarray
        ``(H, W)`` ground truth, True (non-zero) = ink.

    Returns
    -------
    recall, precision : ndarray
        :func:`~docbin.metrics.weights.maps.compute_pseudo_weights` of ``gt_ink``, in the convention of the
        official ``_RWeights.dat`` / ``_PWeights.dat`` files that ``pseudo_f_measure`` consumes; read-only
        (shared by every caller).

    References
    ----------
    .. [1] Ntirogiannis, K., Gatos, B., Pratikakis, I., "Performance evaluation methodology for historical
           document image binarization", IEEE Transactions on Image Processing 22(2), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((8, 8), bool)
    >>> gt[2:6, 2:6] = True
    >>> recall, precision = pseudo_weights(gt)
    >>> recall.shape, precision.shape, pseudo_weights(gt)[0] is recall  # the second call is cached
    ((8, 8), (8, 8), True)
    """
    ink = np.asarray(gt_ink, bool)
    key = (ink.shape, hashlib.blake2b(np.packbits(ink).tobytes(), digest_size=16).digest())

    def computed() -> tuple[np.ndarray, np.ndarray]:
        weights = compute_pseudo_weights(ink)
        for array in weights:  # shared by every caller of the cache
            array.flags.writeable = False
        return weights

    return WEIGHTS_CACHE.get(key, computed)

"""Sauvola-style local thresholds that scale the local mean by the normalised standard deviation.

References: J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition
33(2), 2000; N. Phansalkar et al., "Adaptive local thresholding for detection of nuclei in diversity
stained cytology images", ICCSP 2011.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.integral import Rule, Tile, local_threshold
from docbin.threshold.windowed import SAUVOLA, windowed_threshold


def sauvola(gray: np.ndarray, window: int = 75, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola binarization: ink where gray <= T = m * (1 + k * (s / R - 1)) (Sauvola & Pietikainen 2000).

    m and s are the mean and standard deviation of the window around each pixel, computed exactly from
    exact window sums in one compiled pass (:mod:`docbin.threshold.windowed`).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    k : float, optional
        Weight of the normalised standard deviation (default 0.2).
    r : float, optional
        Dynamic range R of the standard deviation (default 128, DoxaPy's).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition 33(2),
       2000.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = sauvola(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    return windowed_threshold(gray, window, SAUVOLA, (k, r))


def phansalkar_rule(k: float = 0.25, r: float = 0.5, p: float = 2.0, q: float = 10.0) -> Rule:
    """Phansalkar's threshold as a tile rule: T = m (1 + p exp(-q m) + k (s / R - 1)), m and s on [0, 1].

    On the 0..255 statistics of a :class:`~docbin.threshold.integral.Tile` this is
    T = m (1 - k + p exp(-q m / 255) + k s / (255 R)), computed in the tile's buffers.

    Parameters
    ----------
    k : float, optional
        Weight of the normalised standard deviation.
    r : float, optional
        R, the dynamic range of the standard deviation on the [0, 1] scale.
    p, q : float, optional
        Magnitude and decay of the exponential term that raises the threshold on dark, low-mean windows.

    Returns
    -------
    Rule
        A callable mapping a tile's statistics to its float32 threshold surface, for
        :func:`docbin.threshold.integral.local_threshold`.

    References
    ----------
    .. [1] N. Phansalkar, S. More, A. Sabale, M. Joshi, "Adaptive local thresholding for detection of nuclei
       in diversity stained cytology images", ICCSP 2011.
    """

    # With m and s on 0..255: T = m * (1 - k + p * exp(-q * m / 255) + k * s / (255 R)).
    def threshold(tile: Tile) -> np.ndarray:
        deviation = cv2.sqrt(tile.variance(), dst=tile.scratch)
        mean = tile.mean()
        exponent = np.multiply(mean, np.float32(-q / 255.0), out=tile.spare)  # cv2's scalar path is 4x slower
        boost = cv2.exp(exponent, dst=exponent)
        factor = cv2.addWeighted(deviation, k / (255.0 * r), boost, p, 1.0 - k, dst=deviation)
        return cv2.multiply(factor, mean, dst=factor)

    return threshold


def phansalkar(gray: np.ndarray, window: int = 75, k: float = 0.25, r: float = 0.5,
               p: float = 2.0, q: float = 10.0) -> np.ndarray:
    """Phansalkar binarization: ink where gray <= T = m * (1 + p * exp(-q * m) + k * (s / R - 1)), with m
    and s on intensities scaled to [0, 1] (Phansalkar et al. 2011): Sauvola with a boost for dark regions.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square local window in pixels, clipped at the image border (default 75, DoxaPy's).
    k : float, optional
        Weight of the normalised standard deviation (default 0.25).
    r : float, optional
        Dynamic range R of the standard deviation on [0, 1] intensities (default 0.5).
    p, q : float, optional
        Magnitude (default 2) and decay (default 10) of the exponential term.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] N. Phansalkar, S. More, A. Sabale, M. Joshi, "Adaptive local thresholding for detection of nuclei
       in diversity stained cytology images", ICCSP 2011.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = phansalkar(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    return local_threshold(gray, window, phansalkar_rule(k, r, p, q))

"""Sauvola-style local thresholds that scale the local mean by the normalised standard deviation.

References: J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition
33(2), 2000; N. Phansalkar et al., "Adaptive local thresholding for detection of nuclei in diversity
stained cytology images", ICCSP 2011.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.windowed import SAUVOLA, map_statistics, windowed_threshold


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


def phansalkar_threshold(mean: np.ndarray, deviation: np.ndarray, spare: np.ndarray, k: float = 0.25,
                         r: float = 0.5, p: float = 2.0, q: float = 10.0) -> np.ndarray:
    """Phansalkar's threshold T = m (1 + p exp(-q m) + k (s / R - 1)), m and s on [0, 1], in place.

    On 0..255 statistics this is T = m (1 - k + p exp(-q m / 255) + k s / (255 R)), computed with OpenCV
    (its exp) in the buffers given: T is returned in ``deviation``'s, ``spare`` is overwritten.

    Parameters
    ----------
    mean, deviation : ndarray of float32
        Local mean m and standard deviation s on 0..255 (:func:`docbin.threshold.windowed.map_statistics`).
    spare : ndarray of float32
        Scratch of the same shape.
    k : float, optional
        Weight of the normalised standard deviation.
    r : float, optional
        R, the dynamic range of the standard deviation on the [0, 1] scale.
    p, q : float, optional
        Magnitude and decay of the exponential term that raises the threshold on dark, low-mean windows.

    Returns
    -------
    ndarray of float32
        T, in ``deviation``'s buffer.

    References
    ----------
    .. [1] N. Phansalkar, S. More, A. Sabale, M. Joshi, "Adaptive local thresholding for detection of nuclei
       in diversity stained cytology images", ICCSP 2011.

    Examples
    --------
    >>> import numpy as np
    >>> mean, deviation = np.full((1, 2), 200, np.float32), np.zeros((1, 2), np.float32)
    >>> phansalkar_threshold(mean, deviation, np.empty_like(mean))  # 200 (0.75 + 2 exp(-7.84))
    array([[150.15698, 150.15698]], dtype=float32)
    """
    exponent = np.multiply(mean, np.float32(-q / 255.0), out=spare)  # cv2's scalar path is 4x slower
    boost = cv2.exp(exponent, dst=exponent)
    factor = cv2.addWeighted(deviation, k / (255.0 * r), boost, p, 1.0 - k, dst=deviation)
    return cv2.multiply(factor, mean, dst=factor)


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
    gray = np.ascontiguousarray(gray)
    out = np.empty(gray.shape, np.uint8)

    def binarize(top: int, mean: np.ndarray, deviation: np.ndarray, spare: np.ndarray) -> None:
        threshold = phansalkar_threshold(mean, deviation, spare[0], k, r, p, q)
        rows = slice(top, top + len(mean))
        np.copyto(spare[1], gray[rows])  # OpenCV compares float32 to float32 in one pass
        cv2.compare(spare[1], threshold, cv2.CMP_GT, dst=out[rows])

    map_statistics(gray, window, binarize)
    return out

"""Su, Lu and Tan's contrast-based binarization: local max/min contrast, Otsu on it, local stroke test.

The page is processed in stripes of rows (each read with a window halo), so besides the input and the
output only one page-sized uint8 image (the contrast, thresholded in place into the stroke-edge mask) is
held, and the float statistics stay stripe-sized.
Reference: B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum
and minimum", DAS 2010.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.bernsen import local_min_max
from docbin.threshold.integral import box_sum, parallel_map, split

# The paper's epsilon keeps the contrast finite where max + min = 0.
EPSILON = 1e-4
# Pixels per stripe: the stripe's float32 statistics stay in cache.
STRIPE_PIXELS = 1 << 18


def stripes(height: int, width: int) -> list[tuple[int, int]]:
    """Row ranges ``[top, bottom)`` of about ``STRIPE_PIXELS`` pixels each, covering the image.

    Parameters
    ----------
    height, width : int
        Image size.

    Returns
    -------
    list of tuple of int
        Consecutive row ranges (:func:`docbin.threshold.integral.split`).

    Examples
    --------
    >>> stripes(1000, 1000)
    [(0, 250), (250, 500), (500, 750), (750, 1000)]
    """
    return split(0, height, max(STRIPE_PIXELS // max(width, 1), 1))


def contrast_image(gray: np.ndarray) -> np.ndarray:
    """Su's local contrast D(x, y) = (max - min) / (max + min + eps) over 3 x 3 neighbourhoods, x 255 as uint8.

    Computed in row stripes on a thread per core; the neighbourhood is clipped to the image.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        ``255 (max - min) / (max + min + EPSILON)``, truncated.

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum and
       minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> contrast_image(gray)
    array([[  0,   0,   0,   0,   0],
           [  0, 254, 254, 254,   0],
           [  0, 254, 254, 254,   0],
           [  0, 254, 254, 254,   0],
           [  0,   0,   0,   0,   0]], dtype=uint8)
    """
    out = np.empty_like(gray)

    def stripe(bounds: tuple[int, int]) -> None:
        top, bottom = bounds
        lo, hi = max(top - 1, 0), min(bottom + 1, gray.shape[0])
        low, high = local_min_max(gray[lo:hi], 3)
        low, high = low[top - lo:bottom - lo].astype(np.float32), high[top - lo:bottom - lo].astype(np.float32)
        out[top:bottom] = (255.0 * (high - low) / (high + low + EPSILON)).astype(np.uint8)

    parallel_map(stripe, stripes(*gray.shape))
    return out


def high_contrast_mask(gray: np.ndarray) -> np.ndarray:
    """High-contrast (stroke edge) pixels: Otsu's threshold on the contrast image, as 0/1 uint8.

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        The image.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        1 where :func:`contrast_image` exceeds its Otsu threshold, else 0.

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum and
       minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.
    .. [2] N. Otsu, "A threshold selection method from gray-level histograms", IEEE Transactions on
       Systems, Man, and Cybernetics 9(1), 1979.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((5, 5), 200, np.uint8)
    >>> gray[2, 2] = 0
    >>> high_contrast_mask(gray)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    contrast = contrast_image(gray)
    cv2.threshold(contrast, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU, dst=contrast)
    return contrast


def su(gray: np.ndarray, window: int = 9, min_n: int = 9, deviation_weight: float = 0.5) -> np.ndarray:
    """Su binarization: ink where N_e >= N_min and I <= E_mean + E_std / 2 over the window's high-contrast
    pixels (Su, Lu & Tan 2010).

    The high-contrast pixels (stroke edges) are Otsu's threshold on the local contrast
    (max - min) / (max + min + eps) of 3 x 3 neighbourhoods (:func:`high_contrast_mask`); N_e counts them in
    the window, E_mean and E_std are the mean and standard deviation of their gray levels.

    ``deviation_weight`` is the paper's 1/2; DoxaPy 0.9.2 computes E_std as |sum(I - E_mean)| / sqrt(2),
    which is always 0, so it equals this rule with ``deviation_weight=0`` (for odd windows; DoxaPy widens
    an even window by one pixel, docbin keeps DoxaPy's Sauvola extent for every method).

    Parameters
    ----------
    gray : ndarray of uint8, shape (H, W)
        Gray image.
    window : int, optional
        Side of the square window in pixels, clipped at the image border (default 9).
    min_n : int, optional
        N_min, the least number of high-contrast pixels in the window for ink (default 9).
    deviation_weight : float, optional
        Weight of E_std (default 0.5, the paper's).

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0 where gray <= T, background 255.

    References
    ----------
    .. [1] B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum
       and minimum", Proc. 9th IAPR International Workshop on Document Analysis Systems (DAS), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40  # a dark stroke on light paper
    >>> binary = su(page, window=15)
    >>> binary[20, 5:15].tolist()  # across the stroke's left end
    [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]
    """
    mask = high_contrast_mask(gray)
    out = np.empty_like(gray)
    before, after = (window - 1) // 2, window // 2

    def binarize(bounds: tuple[int, int]) -> None:
        top, bottom = bounds
        lo, hi = max(top - before, 0), min(bottom + after, gray.shape[0])
        inner = slice(top - lo, bottom - lo)
        edge_gray = cv2.multiply(gray[lo:hi], mask[lo:hi])
        count = box_sum(mask[lo:hi], window, cv2.CV_32F)[inner]
        safe_count = np.maximum(count, 1.0)
        mean = box_sum(edge_gray, window, cv2.CV_32F)[inner] / safe_count
        square = cv2.multiply(edge_gray, edge_gray, dtype=cv2.CV_16U)
        mean_square = box_sum(square, window, cv2.CV_32F)[inner] / safe_count
        deviation = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
        ink = (count >= min_n) & (gray[top:bottom] <= mean + deviation_weight * deviation)
        out[top:bottom] = np.where(ink, np.uint8(0), np.uint8(255))

    parallel_map(binarize, stripes(*gray.shape))
    return out

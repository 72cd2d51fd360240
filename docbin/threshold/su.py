"""Su, Lu and Tan's contrast-based binarization: local max/min contrast, Otsu on it, local stroke test.

Reference: B. Su, S. Lu, C. L. Tan, "Binarization of historical document images using the local maximum
and minimum", DAS 2010.
"""

from __future__ import annotations

import cv2
import numpy as np

from docbin.threshold.bernsen import local_min_max
from docbin.threshold.integral import box_sum

# The paper's epsilon keeps the contrast finite where max + min = 0.
EPSILON = 1e-4


def contrast_image(gray: np.ndarray) -> np.ndarray:
    """D(x, y) = (max - min) / (max + min + eps) over a 3x3 neighbourhood, scaled to 0..255 (uint8)."""
    low, high = local_min_max(gray, 3)
    low, high = low.astype(np.float32), high.astype(np.float32)
    return (255.0 * (high - low) / (high + low + EPSILON)).astype(np.uint8)


def high_contrast_mask(gray: np.ndarray) -> np.ndarray:
    """High-contrast (stroke edge) pixels: Otsu's threshold on the contrast image, as 0/1 uint8."""
    _, mask = cv2.threshold(contrast_image(gray), 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return mask


def su(gray: np.ndarray, window: int = 9, min_n: int = 9, deviation_weight: float = 0.5) -> np.ndarray:
    """Su 2010: ink where N_e >= N_min and I <= E_mean + E_std / 2 over the window's high-contrast pixels.

    ``deviation_weight`` is the paper's 1/2; DoxaPy 0.9.2 computes E_std as |sum(I - E_mean)| / sqrt(2),
    which is always 0, so it equals this rule with ``deviation_weight=0`` (for odd windows; DoxaPy widens
    an even window by one pixel, docbin keeps DoxaPy's Sauvola extent for every method).
    """
    mask = high_contrast_mask(gray)
    edge_gray = cv2.multiply(gray, mask)
    count = box_sum(mask, window, cv2.CV_32F)
    safe_count = np.maximum(count, 1.0)
    mean = box_sum(edge_gray, window, cv2.CV_32F) / safe_count
    mean_square = box_sum(cv2.multiply(edge_gray, edge_gray, dtype=cv2.CV_16U), window, cv2.CV_32F) / safe_count
    deviation = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    ink = (count >= min_n) & (gray <= mean + deviation_weight * deviation)
    return np.where(ink, np.uint8(0), np.uint8(255))

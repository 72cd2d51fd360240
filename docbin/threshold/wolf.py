"""Wolf-Jolion local threshold, normalised by the global minimum grey level and the largest local std.

Reference: C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia
documents", Pattern Analysis and Applications 6(4), 2003 (ICPR 2002).
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.integral import Stripe, local_threshold, map_stripes


def wolf(gray: np.ndarray, window: int = 75, k: float = 0.5) -> np.ndarray:
    """Wolf 2002: T = m - k * (1 - s / max(s)) * (m - min(I)); ink where gray <= T."""
    if gray.size == 0:
        return np.empty_like(gray)
    darkest = float(gray.min())
    largest_variance = max(map_stripes(gray, window, lambda stripe: float(stripe.variance.max())))
    largest_deviation = np.sqrt(largest_variance) if largest_variance > 0 else 1.0

    def rule(stripe: Stripe) -> np.ndarray:
        threshold = np.sqrt(stripe.variance)
        threshold *= k / largest_deviation
        threshold -= k
        threshold *= stripe.mean - np.float32(darkest)
        threshold += stripe.mean
        return threshold

    return local_threshold(gray, window, rule)

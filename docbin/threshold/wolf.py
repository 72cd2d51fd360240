"""Wolf-Jolion local threshold, normalised by the global minimum grey level and the largest local std.

Reference: C. Wolf, J.-M. Jolion, "Extraction and recognition of artificial text in multimedia
documents", Pattern Analysis and Applications 6(4), 2003 (ICPR 2002).
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.integral import Rule, Stripe, local_threshold, map_stripes


def wolf_rule(gray: np.ndarray, window: int = 75, k: float = 0.5) -> Rule:
    """Wolf 2002: T = m - k * (1 - s / max(s)) * (m - min(I)), with min and max over the whole image."""
    darkest = np.float32(gray.min()) if gray.size else np.float32(0.0)
    largest_variance = max(map_stripes(gray, window, lambda stripe: float(stripe.variance.max())), default=0.0)
    largest_deviation = float(np.sqrt(largest_variance)) if largest_variance > 0 else 1.0

    def threshold(stripe: Stripe) -> np.ndarray:
        t = np.sqrt(stripe.variance)
        t *= k / largest_deviation
        t -= k
        t *= stripe.mean - darkest
        t += stripe.mean
        return t

    return threshold


def wolf(gray: np.ndarray, window: int = 75, k: float = 0.5) -> np.ndarray:
    """Wolf-Jolion binarization: ink where gray <= T (see :func:`wolf_rule`); two passes over the image."""
    return local_threshold(gray, window, wolf_rule(gray, window, k))

"""Niblack-style local thresholds: T = m + k * s (Niblack) and T = m + k * sqrt(s^2 + m^2) (NICK).

References: W. Niblack, "An Introduction to Digital Image Processing", Prentice-Hall 1986;
K. Khurshid et al., "Comparison of Niblack inspired binarization methods for ancient documents", DRR 2009.
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.integral import Stripe, local_threshold


def niblack(gray: np.ndarray, window: int = 75, k: float = -0.2) -> np.ndarray:
    """Niblack 1986: T(x, y) = m(x, y) + k * s(x, y); ink where gray <= T."""

    def rule(stripe: Stripe) -> np.ndarray:
        threshold = np.sqrt(stripe.variance)
        threshold *= k
        threshold += stripe.mean
        return threshold

    return local_threshold(gray, window, rule)


def nick(gray: np.ndarray, window: int = 75, k: float = -0.1) -> np.ndarray:
    """Khurshid 2009 (NICK): T = m + k * sqrt(s^2 + m^2), i.e. m + k * sqrt(sum(p^2) / NP); ink where gray <= T."""

    def rule(stripe: Stripe) -> np.ndarray:
        threshold = stripe.mean * stripe.mean
        threshold += stripe.variance
        np.sqrt(threshold, out=threshold)
        threshold *= k
        threshold += stripe.mean
        return threshold

    return local_threshold(gray, window, rule)

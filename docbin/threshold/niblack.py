"""Niblack-style local thresholds: T = m + k * s (Niblack) and T = m + k * sqrt(s^2 + m^2) (NICK).

References: W. Niblack, "An Introduction to Digital Image Processing", Prentice-Hall 1986;
K. Khurshid et al., "Comparison of Niblack inspired binarization methods for ancient documents", DRR 2009.
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.integral import Rule, Stripe, local_threshold


def niblack_rule(k: float = -0.2) -> Rule:
    """Niblack 1986: T = m + k * s."""

    def threshold(stripe: Stripe) -> np.ndarray:
        t = np.sqrt(stripe.variance)
        t *= k
        t += stripe.mean
        return t

    return threshold


def niblack(gray: np.ndarray, window: int = 75, k: float = -0.2) -> np.ndarray:
    """Niblack binarization: ink where gray <= T (see :func:`niblack_rule`)."""
    return local_threshold(gray, window, niblack_rule(k))


def nick_rule(k: float = -0.1) -> Rule:
    """Khurshid 2009 (NICK): T = m + k * sqrt(s^2 + m^2), i.e. m + k * sqrt(sum(p^2) / NP)."""

    def threshold(stripe: Stripe) -> np.ndarray:
        t = stripe.mean * stripe.mean
        t += stripe.variance
        np.sqrt(t, out=t)
        t *= k
        t += stripe.mean
        return t

    return threshold


def nick(gray: np.ndarray, window: int = 75, k: float = -0.1) -> np.ndarray:
    """NICK binarization: ink where gray <= T (see :func:`nick_rule`)."""
    return local_threshold(gray, window, nick_rule(k))

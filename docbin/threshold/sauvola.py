"""Sauvola-style local thresholds that scale the local mean by the normalised standard deviation.

References: J. Sauvola, M. Pietikainen, "Adaptive document image binarization", Pattern Recognition
33(2), 2000; N. Phansalkar et al., "Adaptive local thresholding for detection of nuclei in diversity
stained cytology images", ICCSP 2011.
"""

from __future__ import annotations

import numpy as np

from docbin.threshold.integral import Rule, Stripe, local_threshold


def sauvola_rule(k: float = 0.2, r: float = 128.0) -> Rule:
    """Sauvola 2000: T = m * (1 + k * (s / R - 1))."""

    def threshold(stripe: Stripe) -> np.ndarray:
        t = np.sqrt(stripe.variance)
        t *= k / r
        t += 1.0 - k
        t *= stripe.mean
        return t

    return threshold


def sauvola(gray: np.ndarray, window: int = 75, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola binarization: ink where gray <= T (see :func:`sauvola_rule`)."""
    return local_threshold(gray, window, sauvola_rule(k, r))


def phansalkar_rule(k: float = 0.25, r: float = 0.5, p: float = 2.0, q: float = 10.0) -> Rule:
    """Phansalkar 2011, on intensities scaled to [0, 1]: T = m * (1 + p * exp(-q * m) + k * (s / R - 1))."""

    def threshold(stripe: Stripe) -> np.ndarray:
        mean = stripe.mean / np.float32(255.0)
        deviation = np.sqrt(stripe.variance) / np.float32(255.0)
        return 255.0 * mean * (1.0 + p * np.exp(-q * mean) + k * (deviation / r - 1.0))

    return threshold


def phansalkar(gray: np.ndarray, window: int = 75, k: float = 0.25, r: float = 0.5,
               p: float = 2.0, q: float = 10.0) -> np.ndarray:
    """Phansalkar binarization: ink where gray <= T (see :func:`phansalkar_rule`)."""
    return local_threshold(gray, window, phansalkar_rule(k, r, p, q))

"""Classical binarization methods, registered in :mod:`docbin.registry` with typed parameters.

Every method maps a ``uint8`` gray image ``(H, W)`` to a binary ``uint8`` image (ink = 0, background = 255,
ink where gray <= T). Window-based defaults follow DoxaPy 0.9.2 (window 75, which suits 300 dpi scans);
the k of Wolf-Jolion (0.5) and NICK (-0.1) follow their papers.
"""

from __future__ import annotations

from docbin.registry import Method, Param, register
from docbin.threshold.bernsen import bernsen
from docbin.threshold.integral import MAX_EXACT_AREA
from docbin.threshold.niblack import niblack, nick
from docbin.threshold.otsu import otsu
from docbin.threshold.sauvola import phansalkar, sauvola
from docbin.threshold.su import su
from docbin.threshold.wolf import wolf

__all__ = ["bernsen", "niblack", "nick", "otsu", "phansalkar", "sauvola", "su", "wolf"]

# Largest window whose sums of squares OpenCV still accumulates exactly in int32.
MAX_WINDOW = int(MAX_EXACT_AREA**0.5)


def _window(default: int = 75, maximum: int = MAX_WINDOW) -> Param:
    return Param("window", int, default, "side of the square local window, in pixels", min=1, max=maximum,
                 label="Window (px)")


def _k(default: float, low: float, high: float, what: str) -> Param:
    return Param("k", float, default, what, min=low, max=high, label="k")


register(Method(
    name="otsu", func=otsu, description="global threshold maximising between-class variance",
    reference="N. Otsu, A threshold selection method from gray-level histograms, IEEE TSMC 1979",
))
register(Method(
    name="sauvola", func=sauvola, description="local T = m * (1 + k * (s / R - 1))",
    reference="J. Sauvola, M. Pietikainen, Adaptive document image binarization, Pattern Recognition 2000",
    params=(
        _window(),
        _k(0.2, 0.0, 1.0, "weight of the normalised local standard deviation"),
        Param("r", float, 128.0, "dynamic range R of the standard deviation (DoxaPy: 128)", min=1.0, max=255.0,
              label="R (std range)", advanced=True),
    ),
))
register(Method(
    name="niblack", func=niblack, description="local T = m + k * s",
    reference="W. Niblack, An Introduction to Digital Image Processing, Prentice-Hall 1986",
    params=(_window(), _k(-0.2, -2.0, 2.0, "weight of the local standard deviation")),
))
register(Method(
    name="nick", func=nick, description="local T = m + k * sqrt(s^2 + m^2)",
    reference="K. Khurshid et al., Comparison of Niblack inspired binarization methods for ancient documents, DRR 2009",
    params=(_window(), _k(-0.1, -1.0, 0.0, "weight of the local root mean square (paper: -0.1 .. -0.2)")),
))
register(Method(
    name="wolf", func=wolf, description="local T = m - k * (1 - s / max s) * (m - min I)",
    reference="C. Wolf, J.-M. Jolion, Extraction and recognition of artificial text in multimedia documents, PAA 2003",
    params=(_window(), _k(0.5, 0.0, 1.0, "weight of the contrast term (paper: a = 0.5)")),
))
register(Method(
    name="phansalkar", func=phansalkar, description="Sauvola with an exponential boost for dark regions",
    reference="N. Phansalkar et al., Adaptive local thresholding for detection of nuclei in diversity stained cytology images, ICCSP 2011",
    params=(
        _window(),
        _k(0.25, 0.0, 1.0, "weight of the normalised local standard deviation"),
        Param("r", float, 0.5, "dynamic range of the standard deviation on [0, 1] intensities", min=0.01, max=1.0,
              label="R (std range)", advanced=True),
        Param("p", float, 2.0, "magnitude of the exponential term", min=0.0, max=10.0, label="p", advanced=True),
        Param("q", float, 10.0, "decay of the exponential term", min=0.0, max=100.0, label="q", advanced=True),
    ),
))
register(Method(
    name="bernsen", func=bernsen, description="local mid-range (max + min) / 2 where the contrast exceeds a limit",
    reference="J. Bernsen, Dynamic thresholding of grey-level images, ICPR 1986",
    params=(
        _window(maximum=1001),
        Param("contrast_limit", int, 25, "below this local max - min the global threshold applies", min=0, max=255,
              label="Contrast limit"),
        Param("threshold", int, 100, "global threshold for low-contrast windows", min=0, max=255,
              label="Low-contrast threshold"),
    ),
))
register(Method(
    name="su", func=su, description="local max/min contrast, Otsu on it, mean + std/2 of nearby stroke edges",
    reference="B. Su, S. Lu, C. L. Tan, Binarization of historical document images using the local maximum and minimum, DAS 2010",
    params=(
        _window(9),
        Param("min_n", int, 9, "least number of high-contrast pixels in the window to call a pixel ink",
              min=1, max=MAX_WINDOW * MAX_WINDOW, label="Min. edge pixels"),
    ),
))

"""Pixel agreement of docbin's classical methods with DoxaPy, scikit-image and OpenCV on real scans.

Residual differences, where any, are explained next to each comparison; the bar is 99.9 % of pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from conftest import SHARED, exact_window_sums

from docbin.io import read_image
from docbin.preprocess import to_gray
from docbin.threshold import bernsen, niblack, nick, otsu, sauvola, su, wolf
from docbin.threshold.integral import ink_where_at_most
from docbin.threshold.windowed import NIBLACK, NICK, SAUVOLA, WOLF, threshold_surface
from docbin.threshold.wolf import wolf_parameters

# One page from each of several collections (handwritten and printed, different sizes and degradations).
SETS = ("dibco2013", "hdibco2016", "phibd", "nabuco")
MIN_AGREEMENT = 0.999

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="../shared data not available"),
]


def agreement(ours: np.ndarray, theirs: np.ndarray) -> float:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
    return float(np.mean(ours == theirs))


def interior(image: np.ndarray, window: int) -> np.ndarray:
    """Drop the border band where a window reaches outside the image (peers pad instead of clipping)."""
    margin = window // 2
    return image[margin:-margin, margin:-margin]


@pytest.fixture(scope="module", params=SETS)
def page(request: pytest.FixtureRequest) -> np.ndarray:
    images = sorted((SHARED / "data" / request.param / "images").glob("*.png"))
    if not images:
        pytest.skip(f"no images in {request.param}")
    return to_gray(read_image(images[0]))


# --- DoxaPy (C++): same clipped window, same `gray <= T` rule, double-precision statistics -----------

def doxa(algorithm: str, gray: np.ndarray, **params: float) -> np.ndarray:
    doxapy = pytest.importorskip("doxapy")
    binary = gray.copy()
    doxapy.Binarization.update_to_binary(getattr(doxapy.Binarization.Algorithms, algorithm), binary, params)
    return binary


DOXA_CASES: list[tuple[str, dict[str, float], Callable[[np.ndarray], np.ndarray]]] = [
    ("OTSU", {}, otsu),
    ("SAUVOLA", {"window": 75, "k": 0.2}, lambda g: sauvola(g, 75, 0.2)),
    ("SAUVOLA", {"window": 24, "k": 0.3}, lambda g: sauvola(g, 24, 0.3)),  # even window: asymmetric extent
    ("NIBLACK", {"window": 75, "k": -0.2}, lambda g: niblack(g, 75, -0.2)),
    ("NICK", {"window": 75, "k": -0.1}, lambda g: nick(g, 75, -0.1)),
    ("WOLF", {"window": 75, "k": 0.5}, lambda g: wolf(g, 75, 0.5)),
    ("BERNSEN", {"window": 75, "threshold": 100, "contrast-limit": 25}, lambda g: bernsen(g, 75, 25, 100)),
    # DoxaPy 0.9.2 computes Su's E_std as |sum(I - E_mean)| / sqrt(2), which is 0: compare that rule.
    ("SU", {"window": 9, "minN": 9}, lambda g: su(g, 9, 9, deviation_weight=0.0)),
]


@pytest.mark.parametrize("algorithm,params,ours", DOXA_CASES, ids=[f"{c[0]}-{c[1].get('window', '')}" for c in DOXA_CASES])
def test_agrees_with_doxapy(page: np.ndarray, algorithm: str, params: dict, ours: Callable) -> None:
    # Residual of the windowed rules: T in float32 here, in double in DoxaPy (see the near-tie test below).
    assert agreement(ours(page), doxa(algorithm, page, **params)) >= MIN_AGREEMENT


# DoxaPy's windowed rules in double, from the mean m and standard deviation s of each window.
DOUBLE_RULES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]] = {
    "SAUVOLA": lambda m, s, gray, k: m * (1 + k * (s / 128 - 1)),
    "NIBLACK": lambda m, s, gray, k: m + k * s,
    "NICK": lambda m, s, gray, k: m + k * np.sqrt(s * s + m * m),
    "WOLF": lambda m, s, gray, k: m - k * (1 - s / s.max()) * (m - gray.min()),
}


WINDOWED_CASES = [case for case in DOXA_CASES if case[0] in DOUBLE_RULES]


@pytest.mark.parametrize("algorithm,params,ours", WINDOWED_CASES,
                         ids=[f"{c[0]}-{c[1]['window']}" for c in WINDOWED_CASES])
def test_differs_from_doxapy_only_at_float32_near_ties(page: np.ndarray, algorithm: str, params: dict,
                                                       ours: Callable) -> None:
    # The statistics are exact (the variance too), so a pixel may differ only where DoxaPy's double T lies
    # within float32 precision of the pixel's own integer value.
    differing = ours(page) != doxa(algorithm, page, **params)
    sums, squares, counts = exact_window_sums(page, params["window"])
    deviation = np.sqrt((counts * squares - sums * sums) / counts.astype(np.float64) ** 2)
    threshold = DOUBLE_RULES[algorithm](sums / counts, deviation, page, params["k"])
    assert np.abs(threshold - page)[differing].max(initial=0.0) < 2e-5


def test_su_paper_rule_only_adds_ink_to_doxapys(page: np.ndarray) -> None:
    # The paper's T = E_mean + E_std / 2 is DoxaPy's T = E_mean raised by E_std / 2 >= 0.
    paper_ink = su(page, 9, 9) == 0
    doxa_ink = doxa("SU", page, window=9, minN=9) == 0
    assert not (doxa_ink & ~paper_ink).any()
    assert paper_ink.sum() > doxa_ink.sum()


# --- scikit-image: reflect-padded windows, so compare away from the border -----------------------

def test_otsu_agrees_with_scikit_image(page: np.ndarray) -> None:
    filters = pytest.importorskip("skimage.filters")
    theirs = np.where(page > filters.threshold_otsu(page), 255, 0).astype(np.uint8)
    assert agreement(otsu(page), theirs) >= MIN_AGREEMENT


@pytest.mark.parametrize("method", ["sauvola", "niblack"])
def test_local_methods_agree_with_scikit_image_inside_the_border(page: np.ndarray, method: str) -> None:
    filters = pytest.importorskip("skimage.filters")
    window = 75
    if method == "sauvola":
        ours, level = sauvola(page, window, 0.2, 128.0), filters.threshold_sauvola(page, window, 0.2, r=128)
    else:  # scikit-image writes Niblack as T = m - k * s
        ours, level = niblack(page, window, -0.2), filters.threshold_niblack(page, window, 0.2)
    theirs = np.where(page > level, 255, 0).astype(np.uint8)
    assert agreement(interior(ours, window), interior(theirs, window)) >= MIN_AGREEMENT


# --- OpenCV ximgproc.niBlackThreshold: replicate-padded float32 statistics, and T rounded to uint8 -------
# OpenCV converts T to the source depth (round to nearest) before `src > T`, so ours is compared with
# the same rounding applied to our threshold surface; the border band (BORDER_REPLICATE) is left out.
# Its NICK uses sqrt(variance + E[x^2]) = sqrt(2 s^2 + m^2) instead of the paper's sqrt(s^2 + m^2); the
# two thresholds agree on >= 99.9 % of pixels. Its Wolf takes max(s) over replicate-padded windows too,
# which on narrow pages (e.g. smadi's 330-row crops) changes the global term: pages here are full size.

def opencv_cases(page: np.ndarray) -> list[tuple[int, float, int, tuple[float, ...]]]:
    ximgproc = pytest.importorskip("cv2.ximgproc")
    return [
        (ximgproc.BINARIZATION_SAUVOLA, 0.2, SAUVOLA, (0.2, 128.0)),
        (ximgproc.BINARIZATION_NIBLACK, -0.2, NIBLACK, (-0.2,)),
        (ximgproc.BINARIZATION_NICK, -0.1, NICK, (-0.1,)),
        (ximgproc.BINARIZATION_WOLF, 0.5, WOLF, wolf_parameters(page, 75, 0.5)),
    ]


@pytest.mark.parametrize("case", range(4), ids=["sauvola", "niblack", "nick", "wolf"])
def test_local_methods_agree_with_opencv(page: np.ndarray, case: int) -> None:
    window = 75
    method, k, rule, params = opencv_cases(page)[case]
    theirs = cv2.ximgproc.niBlackThreshold(page, 255, cv2.THRESH_BINARY, window, k, binarizationMethod=method, r=128)
    ours = ink_where_at_most(page, np.rint(threshold_surface(page, window, rule, params)))
    assert agreement(interior(ours, window), interior(theirs, window)) >= MIN_AGREEMENT

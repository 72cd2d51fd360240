"""Unit tests of the classical thresholding methods on synthetic pages with known ink."""

from __future__ import annotations

import importlib
import multiprocessing

import cv2
import numpy as np
import pytest

from conftest import exact_window_sums

from docbin import registry
from docbin.errors import ParameterError
from docbin.threshold import integral, windowed

# The package exports the function su under the module's name, so take the module itself.
su = importlib.import_module("docbin.threshold.su")

CLASSICAL = ["otsu", "sauvola", "niblack", "nick", "wolf", "phansalkar", "bernsen", "su"]
# Windows a bit larger than the strokes (the defaults suit 300 dpi pages, larger than this synthetic one).
TEST_PARAMS = {name: {"window": 31} for name in ["sauvola", "niblack", "nick", "wolf", "phansalkar"]}
# Bernsen's contrast limit must exceed the background noise's local range (about 8 sigma here).
TEST_PARAMS["bernsen"] = {"window": 31, "contrast_limit": 80}
# Niblack marks background noise as ink in flat regions by design: high recall, low precision.
MIN_F_MEASURE = {"niblack": 0.35}


def synthetic_page(height: int = 240, width: int = 320, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dark text on a left-to-right gradient with a soft stain and noise; returns (gray, ink mask)."""
    ink = np.zeros((height, width), np.uint8)
    for row, text in enumerate(["Binarize me", "docbin 2026", "ink = 0 here"]):
        cv2.putText(ink, text, (10, 60 + 70 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 1, 3, cv2.LINE_8)
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 170.0 + 70.0 * xs[None, :] - 60.0 * np.exp(-((yy - 120) ** 2 + (xx - 200) ** 2) / 3000.0)
    noise = np.random.default_rng(seed).normal(0.0, 6.0, (height, width))
    page = np.where(ink > 0, 70.0, background) + noise
    return np.clip(page, 0, 255).astype(np.uint8), ink.astype(bool)


def f_measure(binary: np.ndarray, truth: np.ndarray) -> float:
    """F1 of the predicted ink (binary == 0) against the known ink mask."""
    predicted = binary == 0
    true_positive = np.count_nonzero(predicted & truth)
    if true_positive == 0:
        return 0.0
    precision = true_positive / np.count_nonzero(predicted)
    recall = true_positive / np.count_nonzero(truth)
    return 2 * precision * recall / (precision + recall)


def assert_binary(result: np.ndarray, shape: tuple[int, ...]) -> None:
    assert result.dtype == np.uint8
    assert result.shape == shape
    assert set(np.unique(result)) <= {0, 255}


@pytest.mark.parametrize("name", CLASSICAL)
def test_recovers_known_ink(name: str) -> None:
    page, truth = synthetic_page()
    result = registry.binarize(page, name, **TEST_PARAMS.get(name, {}))
    assert_binary(result, page.shape)
    assert np.count_nonzero((result == 0) & truth) >= 0.95 * np.count_nonzero(truth)
    assert f_measure(result, truth) >= MIN_F_MEASURE.get(name, 0.9)


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 9), (20, 40)])
def test_tiny_images_smaller_than_the_window(name: str, shape: tuple[int, int]) -> None:
    gray = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    assert_binary(registry.binarize(gray, name), shape)


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("level", [0, 128, 255])
def test_constant_image_is_uniform(name: str, level: int) -> None:
    result = registry.binarize(np.full((50, 60), level, np.uint8), name)
    assert_binary(result, (50, 60))
    assert len(np.unique(result)) == 1


@pytest.mark.parametrize("name", ["otsu", "sauvola", "nick", "phansalkar", "bernsen", "su"])
def test_blank_white_page_stays_background(name: str) -> None:
    assert (registry.binarize(np.full((40, 40), 255, np.uint8), name) == 255).all()


@pytest.mark.parametrize("name", CLASSICAL)
def test_sixteen_bit_and_rgb_input_through_the_registry(name: str) -> None:
    page, truth = synthetic_page()
    from_16 = registry.binarize(page.astype(np.uint16) * 257, name)
    from_rgb = registry.binarize(np.dstack([page] * 3), name)
    assert_binary(from_16, page.shape)
    np.testing.assert_array_equal(from_16, registry.binarize(page, name))
    np.testing.assert_array_equal(from_rgb, registry.binarize(page, name))


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("sauvola", {"window": "wide"}, "type int"),
        ("sauvola", {"window": 0}, ">= 1"),
        ("sauvola", {"window": 10_000}, "<="),
        ("sauvola", {"k": "x"}, "type float"),
        ("sauvola", {"k": 2.0}, "<= 1.0"),
        ("niblack", {"k": float("nan")}, "finite"),
        ("bernsen", {"contrast_limit": 300}, "<= 255"),
        ("su", {"min_n": 0}, ">= 1"),
        ("otsu", {"window": 15}, "no parameter"),
    ],
)
def test_registry_rejects_bad_parameters(name: str, params: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        registry.binarize(np.zeros((8, 8), np.uint8), name, **params)


def test_every_classical_method_is_registered_with_a_reference() -> None:
    for name in CLASSICAL:
        method = registry.get(name)
        assert method.reference and method.description and method.input == "gray"


def brute_force_mean_variance(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance over DoxaPy's clipped window, pixel by pixel."""
    height, width = gray.shape
    before, after = (window - 1) // 2, window // 2
    mean = np.empty(gray.shape)
    variance = np.empty(gray.shape)
    for y in range(height):
        for x in range(width):
            patch = gray[max(y - before, 0):y + after + 1, max(x - before, 0):x + after + 1].astype(float)
            mean[y, x], variance[y, x] = patch.mean(), patch.var()
    return mean, variance


def kernel_statistics(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The fused kernel's mean and standard deviation (float32), its blocks pasted into page-sized arrays."""
    mean, deviation = np.empty((2, *gray.shape), np.float32)

    def store(top: int, block_mean: np.ndarray, block_deviation: np.ndarray, spare: np.ndarray) -> None:
        mean[top:top + len(block_mean)], deviation[top:top + len(block_mean)] = block_mean, block_deviation

    windowed.map_statistics(gray, window, store)
    return mean, deviation


def assert_exact_statistics(gray: np.ndarray, window: int) -> None:
    """Mean and variance the exact quotients rounded once to float32 (the variance up to the double step
    spread * (1 / n^2): at most one float32 ulp); the deviation its float32 square root."""
    sums, squares, counts = exact_window_sums(gray, window)
    spread = counts * squares - sums * sums  # n^2 var, an exact integer
    mean, deviation = kernel_statistics(gray, window)
    np.testing.assert_array_equal(mean, (sums / counts).astype(np.float32))
    variance = (spread * (1.0 / counts.astype(np.float64) ** 2)).astype(np.float32)
    np.testing.assert_allclose(variance, spread / counts.astype(np.float64) ** 2, rtol=1.2e-7, atol=0)
    np.testing.assert_array_equal(deviation, np.sqrt(variance))
    assert ((deviation == 0) == (spread == 0)).all()  # flat windows, and only they, have var 0


def test_statistics_equal_brute_force() -> None:
    gray = np.random.default_rng(4).integers(0, 256, (19, 26), dtype=np.uint8)
    mean, variance = brute_force_mean_variance(gray, 6)
    kernel_mean, deviation = kernel_statistics(gray, 6)
    np.testing.assert_allclose(kernel_mean, mean, rtol=1e-6)
    np.testing.assert_allclose(deviation.astype(np.float64) ** 2, variance, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("window", [5, 24, 75])
@pytest.mark.parametrize("level", [0, 1, 128, 199, 255])
def test_flat_windows_have_zero_variance(monkeypatch: pytest.MonkeyPatch, window: int, level: int) -> None:
    # A flat region inside random pixels, across blocks, reaching the top border: its windows' variance is
    # exactly 0 (float32 E[x^2] - E[x]^2 leaves up to ~4e-3 there), so Niblack's T = m = level and the pixel
    # is ink.
    monkeypatch.setattr(windowed, "BLOCK_ROWS", window)
    gray = np.random.default_rng(5).integers(0, 256, (5 * window, 6 * window), dtype=np.uint8)
    gray[:4 * window, window:3 * window] = level
    assert_exact_statistics(gray, window)
    before, after = (window - 1) // 2, window // 2
    flat = (slice(0, 4 * window - after), slice(window + before, 3 * window - after))
    assert (kernel_statistics(gray, window)[1][flat] == 0).all()
    assert (registry.binarize(gray, "niblack", window=window)[flat] == 0).all()


def test_largest_window_stays_exact_on_a_white_page() -> None:
    # The largest sums (255 everywhere) at the largest window the registry allows.
    window = int(integral.MAX_EXACT_AREA**0.5)
    gray = np.full((3 * window, 4 * window), 255, np.uint8)
    gray[::7, ::5] = 254  # not quite flat, so the variance is small but positive
    assert_exact_statistics(gray, window)


def whole_image_su(gray: np.ndarray, window: int, min_n: int, deviation_weight: float) -> np.ndarray:
    """Su over the whole image at once (docbin's formula before it was streamed): the oracle."""
    kernel = np.ones((3, 3), np.uint8)
    low, high = cv2.erode(gray, kernel).astype(np.float32), cv2.dilate(gray, kernel).astype(np.float32)
    contrast = (255.0 * (high - low) / (high + low + su.EPSILON)).astype(np.uint8)
    _, mask = cv2.threshold(contrast, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    edge_gray = cv2.multiply(gray, mask)
    count = integral.box_sum(mask, window, cv2.CV_32F)
    safe_count = np.maximum(count, 1.0)
    mean = integral.box_sum(edge_gray, window, cv2.CV_32F) / safe_count
    square = cv2.multiply(edge_gray, edge_gray, dtype=cv2.CV_16U)
    mean_square = integral.box_sum(square, window, cv2.CV_32F) / safe_count
    deviation = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    ink = (count >= min_n) & (gray <= mean + deviation_weight * deviation)
    return np.where(ink, np.uint8(0), np.uint8(255))


@pytest.mark.parametrize("shape", [(101, 57), (37, 23), (4, 131), (57, 1), (1, 40)])
@pytest.mark.parametrize("stripe_rows", [1, 2, 7])
# Window 31: sums of squares above 2^24, rounded to float32 as OpenCV's box sums were.
@pytest.mark.parametrize("window,min_n", [(1, 1), (3, 2), (9, 9), (15, 20), (24, 30), (31, 40)])
def test_streamed_su_equals_the_whole_image_su(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, int],
                                               stripe_rows: int, window: int, min_n: int) -> None:
    # Stripes of 1, 2 and 7 rows put seams everywhere and make most windows taller than a stripe.
    monkeypatch.setattr(su, "STRIPE_PIXELS", stripe_rows * shape[1])
    gray = cv2.resize(synthetic_page(seed=4)[0], shape[::-1], interpolation=cv2.INTER_AREA)
    for weight in (0.5, 0.0):
        expected = whole_image_su(gray, window, min_n, weight)
        np.testing.assert_array_equal(su.su(gray, window, min_n, weight), expected)
    bounds = su.stripes(*shape)
    assert bounds[0][0] == 0 and bounds[-1][1] == shape[0] and max(b - t for t, b in bounds) < 2 * stripe_rows


def test_su_rejects_a_window_whose_sums_would_overflow() -> None:
    with pytest.raises(ParameterError, match="too large"):
        su.su(np.zeros((8, 8), np.uint8), int(integral.MAX_EXACT_AREA**0.5) + 1)


def otsu_cases(count: int, seed: int) -> list[np.ndarray]:
    """Small images with many exact Otsu ties (few pixels, few levels), one-level images and larger ones."""
    rng = np.random.default_rng(seed)
    images = []
    for case in range(count):
        shape = tuple(rng.integers(1, 6 if case % 2 else 60, 2))
        kind = case % 4
        if kind == 0:
            gray = rng.integers(0, 256, shape, dtype=np.uint8)
        elif kind == 1:
            gray = np.clip(rng.normal(rng.uniform(0, 255), rng.uniform(0.1, 60), shape), 0, 255).astype(np.uint8)
        elif kind == 2:
            gray = rng.choice(rng.integers(0, 256, rng.integers(1, 4)).astype(np.uint8), shape)
        else:
            gray = np.full(shape, rng.integers(0, 256), np.uint8)
        images.append(gray)
    return images + [synthetic_page(seed=5)[0], np.zeros((0, 7), np.uint8)]


def test_otsu_level_and_histogram_are_opencvs() -> None:
    # OpenCV's THRESH_OTSU ranks exact ties by its own roundings: docbin's level must be its level anyway.
    otsu = importlib.import_module("docbin.threshold.otsu")
    for gray in otsu_cases(4000, seed=11):
        level, expected = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        np.testing.assert_array_equal(otsu.histogram(gray), np.bincount(gray.ravel(), minlength=256))
        assert otsu.otsu_level(gray) == level, gray
        if gray.size:
            np.testing.assert_array_equal(otsu.otsu(gray), expected)


def test_otsu_histogram_in_stripes(monkeypatch: pytest.MonkeyPatch) -> None:
    otsu = importlib.import_module("docbin.threshold.otsu")
    gray = np.random.default_rng(2).integers(0, 256, (37, 23), dtype=np.uint8)[:, 1:]  # odd rows, a view
    monkeypatch.setattr(otsu, "STRIPE_PIXELS", 3 * gray.shape[1])
    monkeypatch.setenv("DOCBIN_THREADS", "2")  # one thread counts the whole image at once
    np.testing.assert_array_equal(otsu.histogram(gray), np.bincount(gray.ravel(), minlength=256))


def test_bernsen_equals_its_rule_in_numpy() -> None:
    # T = (max + min) // 2 where max - min > contrast limit, else the global threshold; ink where gray <= T.
    bernsen = importlib.import_module("docbin.threshold.bernsen")
    gray = cv2.resize(synthetic_page(seed=6)[0], (131, 57), interpolation=cv2.INTER_AREA)
    for window, limit, threshold in [(1, 0, 0), (4, 10, 255), (15, 25, 100), (75, 80, 128)]:
        low, high = bernsen.local_min_max(gray, window)
        low, high = low.astype(int), high.astype(int)
        level = np.where(high - low > limit, (high + low) // 2, threshold)
        np.testing.assert_array_equal(bernsen.bernsen(gray, window, limit, threshold), np.where(gray > level, 255, 0))
    with pytest.raises(ParameterError, match="0..255"):
        bernsen.bernsen(gray, 15, 25, 256)


def _binarize_in_child(gray: np.ndarray, queue: "multiprocessing.Queue[np.ndarray]") -> None:
    queue.put(registry.binarize(gray, "sauvola"))


def test_forked_worker_after_use_in_the_parent() -> None:
    # The batch CLI forks workers; the parent's stripe thread pool has no threads in the child.
    gray = np.random.default_rng(3).integers(0, 256, (3000, 400), dtype=np.uint8)
    expected = registry.binarize(gray, "sauvola")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_binarize_in_child, args=(gray, queue))
    child.start()
    try:
        np.testing.assert_array_equal(queue.get(timeout=60), expected)
    finally:
        child.join(timeout=10)

"""The fused Sauvola / Niblack / NICK / Wolf kernel against a numpy oracle built from exact int64 window sums.

The oracle rounds as the kernel documents: m = f32(S) / f32(n), var = f32((n Q - S^2) * (1 / n^2)),
E[x^2] = f32(Q * (1 / n)), each rule step one float32 operation, and a fused multiply-add where OpenCV's
scaleAdd / addWeighted fuse (emulated in double: a float32 product is exact there, so the sum is rounded
twice, which differs from one rounding only on a double-rounding tie, absent from these seeded images).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from conftest import exact_window_sums

from docbin.errors import ParameterError
from docbin.threads import THREADS_ENV
from docbin.threshold import integral, niblack, nick, phansalkar, sauvola, windowed, wolf
from docbin.threshold.sauvola import phansalkar_threshold
from docbin.threshold.wolf import wolf_parameters

f32 = np.float32


def fma(a: np.ndarray, b: np.ndarray | float, c: np.ndarray | float) -> np.ndarray:
    """a * b + c of float32 values, rounded to float32 (via an exact double product)."""
    return (np.float64(a) * np.float64(b) + np.float64(c)).astype(f32)


def oracle_statistics(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """m, s (float32, rounded as the kernel documents), Q and n from exact int64 window sums."""
    sums, squares, counts = exact_window_sums(gray, window)
    n = counts.astype(np.float64)
    mean = sums.astype(f32) / n.astype(f32)
    deviation = np.sqrt(((n * squares - np.float64(sums) * sums) * (1.0 / (n * n))).astype(f32))
    return mean, deviation, squares, n


def oracle_surface(gray: np.ndarray, window: int, rule: int, params: tuple[float, ...]) -> np.ndarray:
    mean, deviation, squares, n = oracle_statistics(gray, window)
    if rule == windowed.SAUVOLA:
        k, r = params
        return fma(mean, f32(1.0 - k), (f32(k / r) * deviation) * mean)
    if rule == windowed.NIBLACK:
        return fma(deviation, f32(params[0]), mean)
    if rule == windowed.NICK:
        return fma(np.sqrt((squares * (1.0 / n)).astype(f32)), f32(params[0]), mean)
    k, largest, darkest = params
    return fma(deviation, f32(k / largest), f32(-k)) * (mean - f32(darkest)) + mean


RULES = [(windowed.SAUVOLA, (0.2, 128.0)), (windowed.NIBLACK, (-0.2,)), (windowed.NICK, (-0.1,)),
         (windowed.WOLF, (0.5, 37.5, 12.0))]


@pytest.fixture(params=[(1, 1024), (2, 1024), (1, 7)], ids=["one-thread", "two-threads", "chunks-of-7"])
def threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    # Two threads cut the page into stripes of 3 rows: every stripe restarts its column sums. Chunks of 7
    # columns carry the running sums along a row across chunk ends, at and inside the window's borders.
    threads, chunk = request.param
    monkeypatch.setenv(THREADS_ENV, str(threads))
    monkeypatch.setattr(windowed, "STRIPE_ROWS", 3)
    monkeypatch.setattr(windowed, "CHUNK_COLUMNS", chunk)
    return threads


@pytest.mark.parametrize("rule,params", RULES, ids=["sauvola", "niblack", "nick", "wolf"])
@pytest.mark.parametrize("window", [1, 2, 5, 24, 75])
@pytest.mark.parametrize("shape", [(37, 23), (101, 57), (4, 131), (3, 3), (1, 1)])
def test_surface_and_binary_equal_the_oracle(threads: int, rule: int, params: tuple[float, ...], window: int,
                                             shape: tuple[int, int]) -> None:
    # Odd sizes, even windows (asymmetric extent) and windows larger than the image (all clipped).
    gray = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    expected = oracle_surface(gray, window, rule, params)
    surface = windowed.threshold_surface(gray, window, rule, params)
    np.testing.assert_array_equal(surface.view(np.uint32), expected.view(np.uint32))
    binary = windowed.windowed_threshold(gray, window, rule, params)
    np.testing.assert_array_equal(binary, integral.ink_where_at_most(gray, expected))


@pytest.mark.parametrize("window", [1, 2, 5, 24, 75])
@pytest.mark.parametrize("shape", [(37, 23), (101, 57), (4, 131), (1, 1)])
def test_statistics_equal_the_oracle(threads: int, window: int, shape: tuple[int, int],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 5 rows: every block restarts its column sums, the last one shorter.
    monkeypatch.setattr(windowed, "BLOCK_ROWS", 5)
    gray = np.random.default_rng(12).integers(0, 256, shape, dtype=np.uint8)
    expected_mean, expected_deviation = oracle_statistics(gray, window)[:2]
    mean, deviation = np.full((2, *shape), np.nan, f32)

    def store(top: int, block_mean: np.ndarray, block_deviation: np.ndarray, spare: np.ndarray) -> None:
        assert spare.shape == (2, *block_mean.shape)
        mean[top:top + len(block_mean)] = block_mean
        deviation[top:top + len(block_mean)] = block_deviation
        spare[:] = np.nan  # the job may overwrite its scratch

    windowed.map_statistics(gray, window, store)
    np.testing.assert_array_equal(mean.view(np.uint32), expected_mean.view(np.uint32))
    np.testing.assert_array_equal(deviation.view(np.uint32), expected_deviation.view(np.uint32))


@pytest.mark.parametrize("window", [2, 5, 24])
def test_phansalkar_applies_its_rule_to_the_statistics(threads: int, window: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windowed, "BLOCK_ROWS", 5)
    gray = np.random.default_rng(13).integers(0, 256, (43, 29), dtype=np.uint8)
    mean, deviation = oracle_statistics(gray, window)[:2]
    expected = phansalkar_threshold(mean, deviation, np.empty_like(mean), 0.25, 0.5, 2.0, 10.0)
    np.testing.assert_array_equal(phansalkar(gray, window, 0.25, 0.5, 2.0, 10.0),
                                  integral.ink_where_at_most(gray, expected))


@pytest.mark.parametrize("window", [1, 4, 9, 75])
def test_largest_variance_is_exact(threads: int, window: int) -> None:
    gray = np.random.default_rng(8).integers(0, 256, (61, 45), dtype=np.uint8)
    gray[20:40, 10:30] = 0  # a dark block next to random pixels: the largest spread sits on its edge
    sums, squares, counts = exact_window_sums(gray, window)
    spread = counts * squares - sums * sums
    assert windowed.largest_variance(gray, window) == (spread / np.float64(counts) ** 2).max()


def test_flat_windows_have_zero_variance() -> None:
    # var = 0 exactly where the window is flat: Niblack's T = m = the level, so the pixel is ink.
    gray = np.random.default_rng(9).integers(0, 256, (90, 120), dtype=np.uint8)
    gray[:60, 20:80] = 199
    assert (niblack(gray, 15, -0.2)[:53, 27:73] == 0).all()
    assert windowed.largest_variance(np.full((30, 40), 77, np.uint8), 15) == 0.0


@pytest.mark.parametrize("method", [sauvola, niblack, nick, wolf])
def test_public_methods_use_the_kernel(method: Callable[..., np.ndarray]) -> None:
    gray = np.random.default_rng(10).integers(0, 256, (50, 70), dtype=np.uint8)
    rule, params = {sauvola: (windowed.SAUVOLA, (0.2, 128.0)), niblack: (windowed.NIBLACK, (-0.2,)),
                    nick: (windowed.NICK, (-0.1,)), wolf: (windowed.WOLF, wolf_parameters(gray, 21, 0.5))}[method]
    expected = integral.ink_where_at_most(gray, oracle_surface(gray, 21, rule, params))
    np.testing.assert_array_equal(method(gray, 21), expected)


def test_empty_image_and_too_large_window() -> None:
    assert windowed.windowed_threshold(np.zeros((0, 5), np.uint8), 5, windowed.NIBLACK, (-0.2,)).shape == (0, 5)
    assert windowed.threshold_surface(np.zeros((3, 0), np.uint8), 5, windowed.NIBLACK, (-0.2,)).shape == (3, 0)
    windowed.map_statistics(np.zeros((0, 5), np.uint8), 5, lambda *block: pytest.fail("no block expected"))
    with pytest.raises(ParameterError, match="too large"):
        windowed.windowed_threshold(np.zeros((5, 5), np.uint8), 200, windowed.NIBLACK, (-0.2,))
    with pytest.raises(ParameterError, match="too large"):
        windowed.map_statistics(np.zeros((5, 5), np.uint8), 200, lambda *block: None)


def test_non_contiguous_input_is_read_not_modified() -> None:
    page = np.random.default_rng(11).integers(0, 256, (40, 60), dtype=np.uint8)
    view = page[::2, ::3]
    before = page.copy()
    np.testing.assert_array_equal(sauvola(view, 9), sauvola(np.ascontiguousarray(view), 9))
    np.testing.assert_array_equal(page, before)

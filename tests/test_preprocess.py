"""Tests of gray/channel conversion (docbin.preprocess), the Stage-1 Haar DWT (docbin.stage1) and tiling +
stitching (docbin.tiling)."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from docbin import preprocess as pp
from docbin import stage1, tiling


@pytest.fixture
def rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)


def test_to_uint8_scales_16_bit_and_keeps_extremes() -> None:
    x = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    assert pp.to_uint8(x).tolist() == [[0, 1, 255, 128]]


def test_to_uint8_bool_and_float() -> None:
    assert pp.to_uint8(np.array([[True, False]])).tolist() == [[255, 0]]
    assert pp.to_uint8(np.array([[0.0, 0.5, 1.2]])).tolist() == [[0, 128, 255]]


def test_to_gray_luma_matches_bt601(rgb: np.ndarray) -> None:
    expected = np.rint(rgb @ np.array([0.299, 0.587, 0.114])).astype(int)
    assert np.abs(pp.to_gray(rgb).astype(int) - expected).max() <= 1


def test_to_gray_channel_and_passthrough(rgb: np.ndarray) -> None:
    assert np.array_equal(pp.to_gray(rgb, "green"), rgb[:, :, 1])
    gray = rgb[:, :, 0].copy()
    assert pp.to_gray(gray) is gray


def test_to_rgb_rejects_odd_shapes() -> None:
    with pytest.raises(ValueError):
        pp.to_rgb(np.zeros((4, 4, 4), np.uint8))
    assert pp.to_rgb(np.full((2, 3), 7, np.uint8)).shape == (2, 3, 3)


def test_split_channels_names_and_views(rgb: np.ndarray) -> None:
    views = pp.split_channels(rgb)
    assert set(views) == {"gray", "red", "green", "blue"}
    assert np.array_equal(views["blue"], rgb[:, :, 2])


def test_haar_ll_is_scaled_block_sum() -> None:
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    ll = stage1.haar_ll(x)
    blocks = x.reshape(2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(ll, blocks / 2.0, rtol=1e-6)
    np.testing.assert_allclose(ll, pywt.dwt2(x, "haar")[0], rtol=1e-6)


@pytest.mark.parametrize("shape", [(64, 48), (63, 48), (64, 47), (33, 17), (1, 1)])
def test_haar_ll_equals_pywavelets_on_any_shape(shape: tuple[int, int]) -> None:
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    reference = pywt.dwt2(x.astype(np.float32), "haar")[0]
    assert stage1.haar_ll(x).shape == reference.shape
    np.testing.assert_allclose(stage1.haar_ll(x), reference, atol=1e-3)


def test_dwt_ll_channel_range_shape_and_clipping(rgb: np.ndarray) -> None:
    out = stage1.dwt_ll_channel(rgb[:, :, 0])
    assert out.shape == rgb.shape[:2] and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255  # min-max normalised, clipped (never wrapped)
    # A sharp edge overshoots under bicubic interpolation: clipping keeps dark stays dark.
    edge = np.zeros((16, 16), np.uint8)
    edge[:, 8:] = 255
    up = stage1.dwt_ll_channel(edge)
    assert up[:, :6].max() < 30 and up[:, 10:].min() > 225


def test_dwt_ll_channel_constant_input() -> None:
    assert stage1.dwt_ll_channel(np.full((8, 8), 90, np.uint8)).max() == 0


def test_stage1_inputs_gray_untouched(rgb: np.ndarray) -> None:
    inputs = stage1.stage1_inputs(rgb)
    assert np.array_equal(inputs["gray"], pp.to_gray(rgb))
    assert np.array_equal(inputs["red"], stage1.dwt_ll_channel(rgb[:, :, 0]))


def test_channel_target_unites_gt_and_dark_pixels() -> None:
    gt_ink = np.array([[True, False, False]])
    channel = np.array([[255, 50, 200]], np.uint8)
    assert stage1.channel_target(gt_ink, channel).tolist() == [[True, True, False]]


@pytest.mark.parametrize("length,tile,overlap", [(256, 256, 32), (300, 256, 32), (1000, 128, 16), (513, 64, 63)])
def test_tile_starts_cover_and_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tiling.tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + tile == length
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:]))


def test_tile_starts_rejects_overlap_ge_tile() -> None:
    with pytest.raises(ValueError):
        tiling.tile_starts(500, 64, 64)


@pytest.mark.parametrize("shape", [(1, 1), (5, 700), (300, 301), (513, 1025), (40, 33, 3)])
@pytest.mark.parametrize("merge", ["crop", "max", "mean"])
def test_apply_tiled_identity_reproduces_input(shape: tuple[int, ...], merge: str) -> None:
    rng = np.random.default_rng(1)
    image = rng.random(shape, dtype=np.float32)
    identity = (lambda b: b) if image.ndim == 2 else (lambda b: b[..., 0])
    out = tiling.apply_tiled(image, identity, tile=64, overlap=16, batch_size=3, merge=merge)
    expected = image if image.ndim == 2 else image[..., 0]
    assert out.shape == expected.shape
    if merge == "mean":
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    else:
        assert np.array_equal(out, expected)


def test_apply_tiled_crop_uses_each_tile_core() -> None:
    """A position-dependent "model" shows which tile each pixel came from: the one it is most central in."""
    image = np.zeros((200, 10), np.float32)

    def distance_to_tile_edge(batch: np.ndarray) -> np.ndarray:
        ys = np.arange(64, dtype=np.float32)[:, None]
        d = np.minimum(ys, 63 - ys) * np.ones((1, 64), np.float32)
        return np.repeat(d[None], len(batch), axis=0)

    out = tiling.apply_tiled(image, distance_to_tile_edge, tile=64, overlap=16, merge="crop")
    interior = out[16:-16]
    assert interior.min() >= 7  # no interior pixel is taken from near a tile edge


def test_apply_tiled_checks_predict_shape() -> None:
    with pytest.raises(ValueError, match="expected"):
        tiling.apply_tiled(np.zeros((70, 70), np.float32), lambda b: b[:, :10], tile=64, overlap=8)


def test_apply_tiled_max_merges_overlaps() -> None:
    image = np.zeros((100, 100), np.float32)
    calls = iter(range(1, 100))
    out = tiling.apply_tiled(image, lambda b: np.stack([np.full((64, 64), next(calls), np.float32) for _ in b]),
                         tile=64, overlap=28, batch_size=1, merge="max")
    assert out[0, 0] == 1 and out[99, 99] == 4 and out[50, 50] == 4


def test_each_module_states_its_public_api() -> None:
    from docbin.metrics import weights

    for module in (pp, stage1, tiling, weights):
        assert module.__all__ and all(hasattr(module, name) for name in module.__all__), module.__name__
    assert set(stage1.__all__).isdisjoint(pp.__all__) and set(tiling.__all__).isdisjoint(pp.__all__)

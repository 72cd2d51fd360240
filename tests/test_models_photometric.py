"""Photometric augmentation of training crops: ink stays ink, the paper stays paper, runs without it draw as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from docbin.errors import ParameterError
from docbin.models.data import Page, batch, sample
from docbin.models.photometric import Photometric, paper_colour, photometric


def page(size: int = 96) -> Page:
    """Brownish paper with a dark stroke grid as ink."""
    rgb = np.empty((size, size, 3), np.uint8)
    rgb[:] = (200, 185, 150)
    ink = np.zeros((size, size), bool)
    ink[::12] = ink[:, ::12] = True
    rgb[ink] = (40, 30, 20)
    return Page(rgb, ink)


def test_fading_alone_scales_the_ink_contrast_against_the_paper() -> None:
    """paper + c (x - paper): the paper keeps its colour, ink keeps the fraction c of its contrast."""
    p = page()
    look = Photometric(p=1.0, fade=[0.5, 0.5], gamma=[1.0, 1.0], tint=0.0, blur=0.0, noise=0.0)
    out = photometric(np.random.default_rng(0), p.rgb, p.gt_ink, look).astype(float)
    assert np.array_equal(out[~p.gt_ink], p.rgb[~p.gt_ink])
    assert np.allclose(out[p.gt_ink], (np.array([200, 185, 150]) + np.array([40, 30, 20])) / 2, atol=0.5)


@pytest.mark.parametrize("seed", range(5))
def test_every_change_keeps_ink_darker_than_its_paper(seed: int) -> None:
    p = page()
    out = photometric(np.random.default_rng(seed), p.rgb, p.gt_ink, Photometric(p=1.0, noise=0.0))
    gray = out.astype(float).mean(axis=2)
    assert gray[p.gt_ink].mean() < gray[~p.gt_ink].mean() - 10


def test_the_same_seed_gives_the_same_crop() -> None:
    p, look = page(), Photometric(p=1.0)
    first = photometric(np.random.default_rng(3), p.rgb, p.gt_ink, look)
    assert np.array_equal(first, photometric(np.random.default_rng(3), p.rgb, p.gt_ink, look))
    assert not np.array_equal(first, p.rgb)


def test_without_it_crops_and_random_draws_are_unchanged() -> None:
    """p = 0 (the default) returns the crop itself and draws nothing, so earlier recipes reproduce."""
    p = page()
    rng = np.random.default_rng(1)
    assert photometric(rng, p.rgb, p.gt_ink, Photometric()) is p.rgb
    assert rng.random() == np.random.default_rng(1).random()


@pytest.mark.parametrize("channel", ["gray", "red"])
def test_stage2_samples_change_and_their_targets_do_not(channel: str) -> None:
    pages = [page(160)]
    plain = batch(np.random.default_rng(4), pages, channel, 64, 1, scales=(1.0, 1.0))
    changed = batch(np.random.default_rng(4), pages, channel, 64, 1, scales=(1.0, 1.0), look=Photometric(p=1.0))
    assert not np.array_equal(plain[0], changed[0])
    if channel == "gray":  # the colour targets follow the transformed channel (dark in it), gray's is GT ink
        assert np.array_equal(plain[1], changed[1])


def test_the_local_generator_sees_its_maps_unchanged() -> None:
    """Stage 3's input is the Stage-2 maps M, not a scan: no photometric change applies to it."""
    p = page(160)
    plain = sample(np.random.default_rng(2), p, "local", 64)
    changed = sample(np.random.default_rng(2), p, "local", 64, look=Photometric(p=1.0))
    assert np.array_equal(plain[0], changed[0])


def test_an_all_ink_crop_has_no_paper_to_fade_toward() -> None:
    rgb = np.zeros((8, 8, 3), np.uint8)
    assert paper_colour(rgb, np.ones((8, 8), bool)) is None
    assert photometric(np.random.default_rng(0), rgb, np.ones((8, 8), bool), Photometric(p=1.0)).shape == rgb.shape


@pytest.mark.parametrize("values", [{"p": 1.5}, {"fade": [0.5, 1.2]}, {"gamma": [1.4, 0.7]}, {"tint": 1.0},
                                    {"blur": -0.5}, {"noise": -1.0}, {"strength": 2}, {"p": "half"}])
def test_settings_out_of_range_unknown_or_of_the_wrong_type_are_refused_by_name(values: dict) -> None:
    (name,) = values
    with pytest.raises(ParameterError, match=f"photometric.*{name}") as error:
        Photometric.from_mapping(values)
    assert not any(f"{other}=" in str(error.value) for other in ("p", "fade", "gamma", "tint", "blur", "noise")
                   if other != name)


def test_training_batches_carry_the_configs_photometric_setting(tmp_path: Path) -> None:
    """A typo fails when the config is read; a valid setting changes the trainer's batches."""
    torch = pytest.importorskip("torch")
    from conftest import tiny_dataset, tiny_train_config

    from docbin.models.data import load_pages
    from docbin.models.train import BatchStream

    root = tiny_dataset(tmp_path)
    with pytest.raises(ParameterError, match="photometric"):
        tiny_train_config(root, photometric={"q": 0.5})
    pages = load_pages(root, ["toy"])
    plain, _ = next(iter(BatchStream(pages, tiny_train_config(root), 0)))
    changed, _ = next(iter(BatchStream(pages, tiny_train_config(root, photometric={"p": 1.0}), 0)))
    assert plain.shape == changed.shape and not torch.equal(plain, changed)

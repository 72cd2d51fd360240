"""Training of a channel generator on a tiny synthetic dataset: losses fall, checkpoints resume."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import tiny_dataset, tiny_train_config  # noqa: E402

from docbin.models.data import batch, load_pages  # noqa: E402
from docbin.models.train import TrainConfig, Trainer, gradient_penalty, train  # noqa: E402
from docbin.threestage.pipeline import PipelineConfig  # noqa: E402


@pytest.mark.parametrize("channel", ["gray", "red"])
def test_batches_have_stage1_inputs_and_binary_targets(tmp_path: Path, channel: str) -> None:
    pages = load_pages(tiny_dataset(tmp_path), ["toy"])
    x, y = batch(np.random.default_rng(0), pages, channel, 32, 3)
    assert x.shape == y.shape == (3, 1, 32, 32) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) <= {0.0, 1.0}


def test_validation_sets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="validation"):
        load_pages(tmp_path, ["dibco2013"])


def test_validation_sets_load_only_when_allowed(tmp_path: Path) -> None:
    """A cross-validation fold or final fit opts in; validating on a set it trains on stays an error."""
    tiny = tiny_dataset(tmp_path)
    (tiny / "toy").rename(tiny / "dibco2013")
    assert len(load_pages(tiny, ["dibco2013"], allow_validation_sets=True)) == 2
    with pytest.raises(ValueError, match="trains on"):
        tiny_train_config(tiny, sets=["dibco2013"], allow_validation_sets=True, validate_every=5)
    assert tiny_train_config(tiny, sets=["dibco2013"], allow_validation_sets=True,
                             validate_every=5, val_sets=["dibco2011"]).allow_validation_sets


@pytest.mark.parametrize("adversarial", [False, True])
def test_a_few_steps_reduce_the_loss(tmp_path: Path, adversarial: bool) -> None:
    cfg = tiny_train_config(tiny_dataset(tmp_path), adversarial=adversarial, lr=3e-3, adversarial_lr=3e-3)
    trainer = Trainer(cfg)
    pages = load_pages(Path(cfg.data_root), cfg.sets)
    x, y = (torch.from_numpy(a) for a in batch(np.random.default_rng(1), pages, "gray", 32, 8))
    first = trainer.train_step(x, y)["bce"]
    for _ in range(40):
        last = trainer.train_step(x, y)["bce"]
    assert last < 0.7 * first


def test_gradient_penalty_is_finite(tmp_path: Path) -> None:
    trainer = Trainer(tiny_train_config(tmp_path))
    image, real = torch.rand(2, 1, 32, 32), torch.rand(2, 1, 32, 32)
    gp = gradient_penalty(trainer.critic, image, real, torch.rand(2, 1, 32, 32))
    assert torch.isfinite(gp) and gp >= 0


def test_train_checkpoints_and_resumes(tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_dataset(tmp_path), steps=6, adversarial=False)
    first = train(cfg)
    assert first.step == 6 and first.path.exists()
    resumed = train(tiny_train_config(tmp_path, steps=8, adversarial=False))
    assert resumed.step == 8
    state = torch.load(first.path, weights_only=False)
    assert state["step"] == 8 and state["config"]["name"] == "toy"


def test_resume_from_the_small_checkpoint_alone(tmp_path: Path) -> None:
    cfg = tiny_train_config(tiny_dataset(tmp_path), steps=5, adversarial=False)
    trained = train(cfg)
    trained.path.unlink()  # as on a fresh clone: only the committed *.small.pt is there
    again = Trainer(cfg)
    assert again.resume() and again.step == 5
    for name, tensor in trained.generator.state_dict().items():
        assert torch.equal(tensor, again.generator.state_dict()[name])


def test_ema_is_the_exponential_moving_average_of_the_weights(tmp_path: Path) -> None:
    """After steps with weights w_1, w_2, w_3 the average is d^2 w_1 + d(1-d) w_2 + (1-d) w_3 (Polyak averaging),
    BatchNorm statistics included."""
    decay = 0.6
    cfg = tiny_train_config(tiny_dataset(tmp_path), adversarial=False, lr=3e-3, ema=decay)
    trainer = Trainer(cfg)
    pages = load_pages(Path(cfg.data_root), cfg.sets)
    x, y = (torch.from_numpy(a) for a in batch(np.random.default_rng(1), pages, "gray", 32, 8))
    seen = []
    for _ in range(3):
        trainer.train_step(x, y)
        seen.append({k: v.clone() for k, v in trainer.generator.state_dict().items() if v.is_floating_point()})
    averaged = trainer.average.module.state_dict()
    for name in seen[0]:
        expected = decay**2 * seen[0][name] + decay * (1 - decay) * seen[1][name] + (1 - decay) * seen[2][name]
        assert torch.allclose(averaged[name], expected, atol=1e-6), name
    assert any(not torch.equal(averaged[name], seen[2][name]) for name in seen[2])  # not the last weights


def test_ema_checkpoint_exports_and_resumes(tmp_path: Path) -> None:
    from docbin.models.export import load_generator

    cfg = tiny_train_config(tiny_dataset(tmp_path), steps=6, adversarial=False, ema=0.9)
    first = train(cfg)
    generator, provenance = load_generator(first.average_path)
    assert provenance["ema_decay"] == 0.9 and provenance["step"] == 6
    for name, tensor in first.average.module.state_dict().items():
        assert torch.equal(tensor, generator.state_dict()[name])
    resumed = Trainer(cfg)  # from the full checkpoint: the average and its count as saved
    assert resumed.resume() and resumed.average.n_averaged.item() == first.average.n_averaged.item() == 6
    first.path.unlink()  # from the committed files alone: the average's weights, averaged on from there
    small = Trainer(cfg)
    assert small.resume() and small.average.n_averaged.item() == 1
    for name, tensor in first.average.module.state_dict().items():
        assert torch.equal(tensor, small.average.module.state_dict()[name])
    with pytest.raises(ValueError, match="ema"):
        tiny_train_config(tmp_path, ema=1.0)


def test_no_ema_checkpoint_before_the_first_step(tmp_path: Path) -> None:
    """A run stopped before any step has no average to save (not the untrained copy the average starts as)."""
    cfg = tiny_train_config(tiny_dataset(tmp_path), steps=0, adversarial=False, ema=0.9)
    trainer = train(cfg)
    assert trainer.path.exists() and not trainer.average_path.exists()


def test_validate_scores_a_checkpoint_like_inference(tmp_path: Path) -> None:
    from docbin.models.validate import Validator

    root = tiny_dataset(tmp_path)
    cfg = tiny_train_config(root, steps=2, adversarial=False, val_root=str(root), val_sets=["toy"])
    trainer = train(cfg)
    scores = Validator.for_config(cfg, torch.device("cpu")).run(trainer.generator)
    assert {"fm", "psnr", "drd"} <= set(scores["toy"]) and 0 <= scores["toy"]["fm"] <= 100
    assert scores["mean"] == scores["toy"] and trainer.generator.training  # back in training mode
    with pytest.raises(ValueError, match="not the global one"):
        Validator("global", [], PipelineConfig(), torch.device("cpu"))


@pytest.mark.parametrize("dwt", [True, False])
def test_validate_scores_a_colour_generator_on_its_channel(tmp_path: Path, dwt: bool) -> None:
    from docbin.models.validate import Validator

    root = tiny_dataset(tmp_path)
    cfg = tiny_train_config(root, channel="red", dwt=dwt, steps=2, adversarial=False, val_root=str(root), val_sets=["toy"])
    validator = Validator.for_config(cfg, torch.device("cpu"))
    assert validator.cfg.dwt is dwt and all(page.image.ndim == 2 for page in validator.pages)
    assert 0 <= validator.run(train(cfg).generator)["toy"]["fm"] <= 100


def test_synthetic_options_reach_the_pages_and_typos_fail_early() -> None:
    from docbin.errors import ParameterError
    from docbin.models.data import synthetic_options, synthetic_pages

    assert synthetic_options({"profile": "robust", "faint": 0.0}).surround == 0.5
    assert synthetic_options({"marks": 1.0}).marks == 1.0 and synthetic_options({}).surround == 0.0
    surrounded = synthetic_pages(1, 0, 160, 128, {"surround": 1.0})[0]
    plain = synthetic_pages(1, 0, 160, 128)[0]
    assert not np.array_equal(surrounded.rgb, plain.rgb)
    for bad in ({"surround": 2.0}, {"gloom": 1.0}, {"profile": "gloomy"}, {"profile": "robust", "gloom": 1.0}):
        with pytest.raises(ParameterError):
            TrainConfig(name="gray", synthetic_options=bad)


def test_synthetic_fraction_sets_the_share_of_synthetic_crops() -> None:
    from docbin.errors import ParameterError
    from docbin.models.train import page_odds

    assert page_odds([6], 4, 0.0) is None
    odds = page_odds([6], 4, 0.25)
    assert odds is not None and np.isclose(odds.sum(), 1.0) and np.isclose(odds[6:].sum(), 0.25)
    assert np.allclose(odds[:6], 0.75 / 6)
    for bad in ({"synthetic_fraction": 1.0, "synthetic_pages": 4}, {"synthetic_fraction": -0.1, "synthetic_pages": 4},
                {"synthetic_fraction": 0.5}):
        with pytest.raises(ParameterError, match="synthetic_fraction"):
            TrainConfig(name="gray", **bad)


def test_balanced_sets_share_the_real_crops_equally() -> None:
    from docbin.models.train import page_odds

    odds = page_odds([2, 6], 4, 0.25)  # two real sets of 2 and 6 pages, 4 synthetic pages
    assert odds is not None and odds.shape == (12,) and np.isclose(odds.sum(), 1.0)
    assert np.allclose(odds[:2], 0.375 / 2) and np.allclose(odds[2:8], 0.375 / 6) and np.allclose(odds[8:], 0.25 / 4)
    odds = page_odds([2, 0, 6], 4, 0.0)  # no fraction: the synthetic pages are a third set; an empty set drops out
    assert odds is not None and np.allclose(odds, [1 / 6] * 2 + [1 / 18] * 6 + [1 / 12] * 4)
    assert page_odds([], 4, 0.25) is None and page_odds([0, 0], 4, 0.25) is None  # synthetic pages alone


def test_balance_sets_reaches_the_batch_stream(tmp_path: Path) -> None:
    from docbin.models.train import BatchStream

    root = tiny_dataset(tmp_path)
    shutil.copytree(root / "toy", root / "one")
    for sub in ("images", "gt"):
        sorted((root / "one" / sub).iterdir())[0].unlink()  # a second set of one page beside toy's two
    pages = load_pages(root, ["toy", "one"])
    assert [page.source for page in pages] == ["toy", "toy", "one"]
    assert BatchStream(pages, tiny_train_config(root, sets=["toy", "one"]), 0).odds is None
    balanced = BatchStream(pages, tiny_train_config(root, sets=["toy", "one"], balance_sets=True), 0).odds
    assert balanced is not None and np.allclose(balanced, [0.25, 0.25, 0.5])


def test_batches_draw_pages_by_their_odds(tmp_path: Path) -> None:
    pages = load_pages(tiny_dataset(tmp_path), ["toy"])
    blank = type(pages[0])(np.full_like(pages[0].rgb, 255), np.zeros_like(pages[0].gt_ink))
    _, y = batch(np.random.default_rng(0), [pages[0], blank], "gray", 32, 16, odds=np.array([0.0, 1.0]))
    assert not y.any()  # every crop from the blank page
    _, y = batch(np.random.default_rng(0), [blank, pages[0]], "gray", 32, 16, odds=np.array([0.0, 1.0]))
    assert y.any()


def test_lr_from_sets_the_supervised_lr_of_later_steps(tmp_path: Path) -> None:
    from docbin.errors import ParameterError

    cfg = tiny_train_config(tiny_dataset(tmp_path), adversarial=False, lr=1e-3, lr_from={3: 5e-4, 5: 1e-4}, steps=6)
    assert [cfg.supervised_lr(step) for step in range(7)] == [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 1e-4, 1e-4]
    trainer = Trainer(cfg)
    pages = load_pages(Path(cfg.data_root), cfg.sets)
    x, y = (torch.from_numpy(a) for a in batch(np.random.default_rng(1), pages, "gray", 32, 2))
    seen = []
    for step in range(6):
        trainer.step = step
        trainer.train_step(x, y)
        seen.append(trainer.g_opt.param_groups[0]["lr"])
    assert seen == [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 1e-4]
    for bad in ({0: 1e-4}, {10: 0.0}, {2.5: 1e-4}):
        with pytest.raises(ParameterError, match="lr_from"):
            TrainConfig(name="gray", lr_from=bad)


def test_lr_scale_gives_named_parameters_a_multiple_of_the_rate(tmp_path: Path) -> None:
    from docbin.errors import ParameterError

    cfg = tiny_train_config(tiny_dataset(tmp_path), adversarial=False, lr=1e-3, lr_from={2: 1e-4},
                            lr_scale={"encoders.2": 10, "decoders.1": 0.5})
    trainer = Trainer(cfg)
    names = {id(p): n for n, p in trainer.generator.named_parameters()}
    pages = load_pages(Path(cfg.data_root), cfg.sets)
    x, y = (torch.from_numpy(a) for a in batch(np.random.default_rng(1), pages, "gray", 32, 2))
    before = trainer.generator.encoders[2][0].weight.detach().clone()
    for step in (0, 2):
        trainer.step = step
        trainer.train_step(x, y)
        rates = {names[id(p)]: g["lr"] for g in trainer.g_opt.param_groups for p in g["params"]}
        base = cfg.supervised_lr(step)
        assert all(rate == pytest.approx(base * (10 if n.startswith("encoders.2") else 0.5 if n.startswith("decoders.1")
                                                  else 1)) for n, rate in rates.items())
    assert len(rates) == len(names) and not torch.equal(before, trainer.generator.encoders[2][0].weight)
    trainer.save()
    resumed = Trainer(cfg)
    assert resumed.resume() and sorted(g["scale"] for g in resumed.g_opt.param_groups) == [0.5, 1.0, 10]
    with pytest.raises(ParameterError, match="other lr_scale groups"):
        Trainer(dataclasses.replace(cfg, lr_scale={"encoders.2": 10})).resume()  # two groups where it saved three
    with pytest.raises(ParameterError, match="name no parameter"):
        Trainer(tiny_train_config(tmp_path, lr_scale={"encoders.9": 10}))
    with pytest.raises(ParameterError, match="lr_scale"):
        TrainConfig(name="gray", lr_scale={"encoders.2": 0})


def test_global_generator_trains_on_its_own_view_size(tmp_path: Path) -> None:
    from docbin.models.train import BatchStream

    pages = load_pages(tiny_dataset(tmp_path), ["toy"])
    config = tiny_train_config(tmp_path, channel="global", global_size=48, generator={"in_channels": 3, "base": 4, "depth": 2})
    x, y = next(iter(BatchStream(pages, config, first_step=0)))
    assert x.shape == (4, 3, 48, 48) and y.shape == (4, 1, 48, 48)  # not the crop (32) or the default 512


def test_global_views_are_padded_square_above_the_trained_aspect() -> None:
    from docbin.models.data import Page

    wide = Page(np.full((100, 300, 3), 200, np.uint8), np.zeros((100, 300), bool))  # aspect 3; windows 2.1-4.3
    white = [(batch(np.random.default_rng(4), [wide], "global", 60, 8, pad_aspect=pad)[0] == 1.0).mean(axis=(1, 2, 3))
             for pad in (1.5, PipelineConfig.global_pad_aspect)]
    assert (white[0] > 0.5).all()  # each view padded: the page fills at most 1/2.1 of the square
    assert (white[1] < 0.5).any()  # by default, views below aspect 4 are squashed to the square, not padded

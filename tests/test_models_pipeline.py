"""Training samples of every generator, the trainer's schedule options, and the whole three-stage pipeline
trained for a few steps on a tiny synthetic set, exported, and run by docbin.threestage without torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")
from PIL import Image  # noqa: E402

from docbin.models.data import Page, channel_sample, global_view, load_pages, random_crop, sample  # noqa: E402
from docbin.models.pipeline import generator_configs, parse_overrides, run_pipeline, waves  # noqa: E402
from docbin.models.settings import read_config  # noqa: E402
from docbin.models.train import TrainConfig, Trainer, train  # noqa: E402
from docbin.stage1 import dwt_ll_channel  # noqa: E402
from docbin.threestage import models, pipeline  # noqa: E402
from docbin.threestage.pipeline import PipelineConfig  # noqa: E402


def page(height: int = 120, width: int = 160, seed: int = 0) -> Page:
    rng = np.random.default_rng(seed)
    ink = np.zeros((height, width), bool)
    for _ in range(12):
        y, x = rng.integers(4, height - 16), rng.integers(4, width - 8)
        ink[y : y + 12, x : x + 3] = True
    rgb = np.where(ink[..., None], [40, 30, 90], [210, 190, 160]).astype(np.uint8)
    rgb = (rgb + rng.normal(0, 6, rgb.shape)).clip(0, 255).astype(np.uint8)
    return Page(rgb, ink)


def write_set(root: Path, name: str = "toy", count: int = 2) -> Path:
    for sub in ("images", "gt"):
        (root / name / sub).mkdir(parents=True)
    for i in range(count):
        p = page(seed=i)
        Image.fromarray(p.rgb).save(root / name / "images" / f"p{i}.png")
        Image.fromarray(np.where(p.gt_ink, 0, 255).astype(np.uint8)).save(root / name / "gt" / f"p{i}.png")
    return root


def test_random_crop_resizes_only_the_window_and_keeps_binary_ink() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        crop = random_crop(rng, page(), 64, (0.75, 1.5))
        assert crop.rgb.shape == (64, 64, 3) and crop.gt_ink.shape == (64, 64) and crop.gt_ink.dtype == bool
    tiny = random_crop(rng, page(40, 50), 64, (1.0, 1.0))  # smaller than the crop: stretched to fill it
    assert tiny.rgb.shape == (64, 64, 3)


def test_colour_sample_uses_the_inference_stage1_and_raw_channel_without_dwt() -> None:
    crop = random_crop(np.random.default_rng(1), page(), 64, (1.0, 1.0))
    x, y = channel_sample(crop, "red")
    assert np.array_equal(x[0], dwt_ll_channel(crop.rgb[:, :, 0]) / np.float32(255))
    assert y[0][crop.gt_ink].all()  # the channel target contains the GT ink
    raw, _ = channel_sample(crop, "red", dwt=False)
    assert np.array_equal(raw[0], crop.rgb[:, :, 0] / np.float32(255))


def test_colour_context_normalises_stage1_over_the_window_around_the_crop() -> None:
    rng = np.random.default_rng(4)
    paper = (200 + rng.integers(-4, 5, (256, 256, 3))).astype(np.uint8)
    ink = np.zeros((256, 256), bool)
    ink[:32, :32] = True  # the only ink: one dark square in a corner
    paper[ink] = 0
    blank = Page(paper, ink)
    bare = 0
    for _ in range(10):  # window = the whole page: a crop of bare paper stays bright paper with no target
        x, y = sample(rng, blank, "green", 64, (1.0, 1.0), context=256)
        assert x.shape == y.shape == (1, 64, 64)
        if not (x[0] < 0.5).any():
            bare += 1
            assert x[0].min() > 0.8 and not y.any()
    assert bare >= 5
    crop = random_crop(np.random.default_rng(5), Page(paper[128:, 128:].copy(), ink[128:, 128:].copy()), 64, (1.0, 1.0))
    x, y = channel_sample(crop, "green")  # normalised over the crop alone: paper grain stretched into "ink"
    assert x[0].min() < 0.2 and y.any()
    gray, _ = sample(rng, blank, "gray", 64, (1.0, 1.0), context=256)  # gray ignores the context
    assert gray.shape == (1, 64, 64)


def test_local_and_global_samples_have_three_channels() -> None:
    rng = np.random.default_rng(2)
    x, y = sample(rng, page(), "local", 64)
    assert x.shape == (3, 64, 64) and y.shape == (1, 64, 64)
    cfg = PipelineConfig(global_size=96)
    view = global_view(rng, page(), cfg)
    assert view.rgb.shape == (96, 96, 3) and view.gt_ink.shape == (96, 96)
    assert view.gt_ink.any() and not view.gt_ink.all()


def test_global_target_marks_any_ink_in_the_area_a_pixel_covers() -> None:
    p = page(400, 400)
    p.gt_ink[:] = False
    p.gt_ink[200, 200] = True  # one ink pixel survives as a global ink pixel
    view = global_view(np.random.default_rng(3), p, PipelineConfig(global_size=64))
    assert 1 <= view.gt_ink.sum() <= 4


def test_overrides_and_generator_configs_merge_in_order() -> None:
    assert parse_overrides(["steps=5", "sets=[a, b]", "device=cpu"]) == {"steps": 5, "sets": ["a", "b"], "device": "cpu"}
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides(["steps"])
    spec = {"checkpoint_dir": "c", "common": {"steps": 10, "lr": 0.1}, "generators": {"gray": {"steps": 20}, "red": None}}
    configs = generator_configs(spec, {"lr": 0.5})
    assert configs["gray"] == {"checkpoint_dir": "c", "steps": 20, "lr": 0.5, "name": "gray"}
    assert configs["red"]["steps"] == 10
    with pytest.raises(ValueError, match="unknown generators"):
        generator_configs({**spec, "generators": {"purple": {}}}, {})


def test_waves_put_local_last_and_respect_only() -> None:
    assert waves({"parallel": 2}, ["gray", "red", "green", "blue", "global", "local"]) == [
        ["gray", "red"], ["green", "blue"], ["global"], ["local"]]
    spec = {"waves": [["gray"], ["red", "green"], ["local"]]}
    assert waves(spec, ["red", "local"]) == [["red"], ["local"]]
    with pytest.raises(ValueError, match="local last"):
        waves({"waves": [["local"], ["gray"]]}, ["gray", "local"])


def tiny_config(root: Path, **kw: object) -> TrainConfig:
    base = dict(name="gray", data_root=str(root), sets=["toy"], generator={"in_channels": 1, "base": 4, "depth": 2},
                batch_size=2, crop=32, checkpoint_dir=str(root / "ckpt"), checkpoint_every=100, threads=1)
    return TrainConfig(**(base | kw))


def test_init_from_starts_a_generator_from_another_checkpoint(tmp_path: Path) -> None:
    root = write_set(tmp_path)
    source = train(tiny_config(root, name="gray", steps=2, adversarial=False))
    red = train(tiny_config(root, name="red", channel="red", steps=0, init_from=str(source.path)))
    for a, b in zip(source.generator.state_dict().values(), red.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_adversarial_phase_starts_by_time_and_records_its_step(tmp_path: Path) -> None:
    root = write_set(tmp_path)
    trainer = train(tiny_config(root, steps=3, adversarial_from=10**6, adversarial_after_s=1e-9))
    assert trainer.config.adversarial_from == 0
    saved = torch.load(trainer.path, weights_only=False)
    assert saved["config"]["adversarial_from"] == 0 and "critic" in saved


def test_time_limit_stops_and_checkpoints(tmp_path: Path) -> None:
    root = write_set(tmp_path)
    trainer = train(tiny_config(root, steps=10**6, time_limit_s=1e-9))
    assert trainer.step == 0 and trainer.path.exists()


def test_data_loader_workers_feed_the_trainer(tmp_path: Path) -> None:
    root = write_set(tmp_path)
    trainer = train(tiny_config(root, steps=3, workers=1, adversarial=False))
    assert trainer.step == 3


def test_whole_pipeline_trains_exports_and_runs_without_torch(tmp_path: Path) -> None:
    root = write_set(tmp_path, count=2)
    common = dict(data_root=str(root), sets=["toy"], batch_size=2, crop=32, threads=1, steps=2,
                  adversarial_from=1, synthetic_pages=1, synthetic_size=[96, 128], validate_every=2,
                  val_root=str(root), val_sets=["toy"], cache_dir=str(tmp_path / "cache"))
    small = {"base": 4, "depth": 2}
    spec = {
        "name": "tiny", "checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"),
        "waves": [["gray"], ["red", "green"], ["blue", "global"], ["local"]], "common": common,
        "generators": {
            "gray": {"channel": "gray", "generator": {"in_channels": 1, **small}},
            **{c: {"channel": c, "generator": {"in_channels": 1, **small}, "validate_every": 0,
                   "init_from": str(tmp_path / "ckpt" / "gray.pt")} for c in ("red", "green", "blue")},
            "global": {"channel": "global", "generator": {"in_channels": 3, **small}, "validate_every": 0,
                       "global_size": 48, "global_pad_aspect": 1.25},
            "local": {"channel": "local", "generator": {"in_channels": 3, **small}},
        },
    }
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(spec))
    checkpoints = run_pipeline(config)
    assert sorted(checkpoints) == sorted(pipeline.GENERATORS) and all(p.exists() for p in checkpoints.values())
    logged = [__import__("json").loads(line) for line in (tmp_path / "logs" / "local.jsonl").read_text().splitlines()]
    assert logged[-1]["step"] == 2 and "critic" in logged[-1] and "fm" in logged[-1]["validation"]["mean"]
    assert len(list((tmp_path / "cache").glob("merged-*/*.png"))) == 2 + 1  # the local generator's M pages

    from docbin.models.export import export_checkpoints

    cfg = PipelineConfig(tile=64, overlap=16, global_min_side=64)
    export_checkpoints(tmp_path / "ckpt", tmp_path / "model", cfg)
    model = models.load_model(tmp_path / "model")
    assert (model.config.global_size, model.config.global_pad_aspect) == (48, 1.25)  # the global's training view
    binary = pipeline.run_threestage(page(130, 170, seed=9).rgb, model.runners(threads=1), model.config)
    assert binary.shape == (130, 170) and set(np.unique(binary)) <= {0, 255}


def test_training_pages_refuse_validation_sets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="validation"):
        load_pages(tmp_path, ["hdibco2014"])


def save_checkpoints(folder: Path, dwt: dict[str, bool]) -> None:
    from docbin.models.networks import build_generator

    folder.mkdir(parents=True, exist_ok=True)
    for name in pipeline.GENERATORS:
        spec = {"in_channels": pipeline.IN_CHANNELS[name], "base": 2, "depth": 1}
        config = {"generator": spec, "dwt": dwt.get(name, True)}
        torch.save({"state_dict": build_generator(spec).state_dict(), "config": config, "step": 1},
                   folder / f"{name}.small.pt")


def test_export_takes_stage1_from_the_colour_generators_training(tmp_path: Path) -> None:
    from docbin.models.export import export_checkpoints

    save_checkpoints(tmp_path / "raw", {"red": False, "green": False, "blue": False})
    manifest = export_checkpoints(tmp_path / "raw", tmp_path / "model", PipelineConfig())
    assert manifest["pipeline"]["dwt"] is False
    assert models.load_model(tmp_path / "model").config.dwt is False
    save_checkpoints(tmp_path / "mixed", {"red": False})
    with pytest.raises(ValueError, match="with and without the DWT"):
        export_checkpoints(tmp_path / "mixed", tmp_path / "model2", PipelineConfig())


def test_a_stopped_pipeline_checkpoints_and_does_not_start_the_next_wave(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = write_set(tmp_path)
    common = dict(data_root=str(root), sets=["toy"], batch_size=2, crop=32, threads=1, steps=10**6,
                  generator={"in_channels": 1, "base": 4, "depth": 2})
    spec = {"checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"), "common": common,
            "waves": [["gray"], ["local"]],
            "generators": {"gray": {"channel": "gray"}, "local": {"channel": "local"}}}
    config = tmp_path / "stop.yaml"
    config.write_text(yaml.safe_dump(spec))
    run = subprocess.Popen([sys.executable, "-m", "docbin", "train", "--config", str(config)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "logs" / "gray.jsonl"
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().count("\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130 and "resumes" in err
    assert torch.load(tmp_path / "ckpt" / "gray.pt", weights_only=False)["step"] >= 2
    assert not (tmp_path / "ckpt" / "local.pt").exists() and not (tmp_path / "logs" / "local.jsonl").exists()


def test_merged_maps_are_cached_per_stage2_checkpoints(tmp_path: Path) -> None:
    from docbin.models.stage3 import cache_key, cached_merged_pages

    pages = [Page(page(seed=1).rgb, page(seed=1).gt_ink, "toy"), page(seed=2)]
    calls = []

    def compute(raw: list[Page]) -> list[Page]:
        calls.append(len(raw))
        return [Page(np.roll(p.rgb, 1, axis=2), p.gt_ink, p.source) for p in raw]

    first = cached_merged_pages(pages, compute, tmp_path / "cache")
    again = cached_merged_pages(pages, compute, tmp_path / "cache")
    assert calls == [2] and all(np.array_equal(a.rgb, b.rgb) for a, b in zip(first, again))
    assert [p.source for p in again] == ["toy", ""]  # a page keeps its set, which balance_sets draws by
    save_checkpoints(tmp_path / "ckpt", {})
    key = cache_key(tmp_path / "ckpt", ["sets", 1])
    assert key == cache_key(tmp_path / "ckpt", ["sets", 1]) != cache_key(tmp_path / "ckpt", ["sets", 2])
    save_checkpoints(tmp_path / "ckpt", {"red": False})  # new weights / config bytes: a new key
    assert cache_key(tmp_path / "ckpt", ["sets", 1]) != key


def test_one_generator_config_built_on_a_base_trains_from_the_cli_with_overrides(tmp_path: Path) -> None:
    """``docbin train`` on one generator's config: its ``base:`` is read first, ``--set`` applies last."""
    from typer.testing import CliRunner

    from docbin.cli import app

    root = write_set(tmp_path)
    base = {"name": "gray", "data_root": str(root), "sets": ["toy"], "generator": {"in_channels": 1, "base": 4, "depth": 2},
            "batch_size": 2, "crop": 32, "checkpoint_dir": str(root / "base_ckpt"), "threads": 1, "steps": 50,
            "adversarial": False}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({"base": "base.yaml", "checkpoint_dir": str(root / "ckpt")}))
    result = CliRunner().invoke(app, ["train", "--config", str(tmp_path / "child.yaml"), "--set", "steps=2"])
    assert result.exit_code == 0, result.output
    assert "gray: step 2" in result.output
    assert (root / "ckpt" / "gray.pt").is_file() and not (root / "base_ckpt").exists()


def test_a_missing_checkpoint_to_start_from_is_refused_before_any_process(tmp_path: Path) -> None:
    spec = {"checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"),
            "generators": {"gray": {"channel": "gray", "init_from": str(tmp_path / "gone.small.pt")}}}
    config = tmp_path / "start.yaml"
    config.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match=r"gray: checkpoint not found: init_from .*gone\.small\.pt"):
        run_pipeline(config)
    assert not (tmp_path / "logs").exists()
    with pytest.raises(ValueError, match=r"binary\.distill_from .*teacher\.pt"):
        run_pipeline(config, {"binary": {"distill_from": str(tmp_path / "teacher.pt")}})


def test_init_from_is_only_needed_until_the_run_has_a_checkpoint_of_its_own(tmp_path: Path) -> None:
    root = write_set(tmp_path)
    gone = str(tmp_path / "gone.pt")
    with pytest.raises(ValueError, match="init_from"):
        train(tiny_config(root, steps=1, adversarial=False, init_from=gone))
    train(tiny_config(root, steps=1, adversarial=False))
    assert train(tiny_config(root, steps=2, adversarial=False, init_from=gone)).step == 2  # resumed, no start needed


def test_unknown_settings_are_refused_before_training_starts(tmp_path: Path) -> None:
    spec = {"checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"),
            "generators": {"gray": {"channel": "gray"}}}
    config = tmp_path / "typo.yaml"
    config.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match=r"unknown training setting\(s\) \['stpes'\] for gray"):
        run_pipeline(config, {"stpes": 5})
    assert not (tmp_path / "logs").exists()


def test_settings_of_the_wrong_type_are_refused_before_training_starts(tmp_path: Path) -> None:
    spec = {"checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"),
            "generators": {"gray": {"channel": "gray"}}}
    config = tmp_path / "types.yaml"
    config.write_text(yaml.safe_dump(spec))
    for bad in ({"lr": "abc"}, {"steps": 1.5}, {"synthetic_fraction": True}, {"adversarial": "no"},
                {"sets": "dibco2009"}, {"channel": "purple"}, {"binary": {"distill_weight": "x"}}):
        name = next(iter(bad["binary"] if "binary" in bad else bad))
        with pytest.raises(ValueError, match=rf"of the wrong type.*{name}="):
            run_pipeline(config, bad)
    assert not (tmp_path / "logs").exists()
    # an int is a float, None an unset optional
    assert TrainConfig.from_mapping({"name": "gray", "lr": 1, "init_from": None}).lr == 1


def test_crop_context_smaller_than_the_crop_is_refused_before_training_starts(tmp_path: Path) -> None:
    spec = {"checkpoint_dir": str(tmp_path / "ckpt"), "log_dir": str(tmp_path / "logs"),
            "generators": {"red": {"channel": "red", "crop": 256}}}
    config = tmp_path / "context.yaml"
    config.write_text(yaml.safe_dump(spec))
    for bad in (-5, 100):
        with pytest.raises(ValueError, match="crop_context must be 0"):
            run_pipeline(config, {"crop_context": bad})
    assert not (tmp_path / "logs").exists()


def test_local_training_maps_follow_the_configured_tiles(tmp_path: Path) -> None:
    """The local generator's maps M are made with the config's inference tiles and Stage-1 windows, and cached
    per setting."""
    from docbin.models.stage3 import stage2_runners
    from docbin.models.train import training_pages

    root = write_set(tmp_path)
    save_checkpoints(tmp_path / "ckpt", {})
    base = dict(channel="local", stage2_dir=str(tmp_path / "ckpt"), cache_dir=str(tmp_path / "cache"))
    config = tiny_config(root, name="local", tile=64, overlap=16, stage1_window=128, **base)
    device = torch.device("cpu")
    maps = training_pages(config, device)
    runners = stage2_runners(tmp_path / "ckpt", device)
    raw = load_pages(root, ["toy"])
    expected = pipeline.merged_maps(raw[0].rgb, runners, PipelineConfig(tile=64, overlap=16, stage1_window=128))
    assert np.array_equal(maps[0].rgb, expected)
    training_pages(tiny_config(root, name="local", tile=96, overlap=16, stage1_window=128, **base), device)
    training_pages(tiny_config(root, name="local", tile=64, overlap=16, stage1_window=0, **base), device)
    training_pages(config, device)  # the first maps again: from the cache
    assert len(list((tmp_path / "cache").glob("merged-*"))) == 3


SHIPPED_CONFIGS = sorted((Path(__file__).resolve().parents[1] / "models" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_gives_valid_training_settings(path: Path) -> None:
    configs = generator_configs(read_config(path), {})
    assert configs and all(TrainConfig.from_mapping(config).name == name for name, config in configs.items())


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_start_from_checkpoints_of_their_architecture(path: Path) -> None:
    """A config whose init_from / distill_from names a committed checkpoint builds that checkpoint's network (the
    fp32 gray became base 12 in the thirteenth round: a config left at base 8 would fail only when trained)."""
    repo = path.parents[2]
    for name, config in generator_configs(read_config(path), {}).items():
        settings = TrainConfig.from_mapping(config)
        for source in (config.get("init_from"), (config.get("binary") or {}).get("distill_from")):
            if source and (repo / source).is_file():
                saved = torch.load(repo / source, map_location="cpu", weights_only=False)["config"]["generator"]
                assert saved == settings.generator, f"{path.name}: {name} vs {source}"

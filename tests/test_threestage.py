"""The three-stage pipeline (docbin.threestage) and its ONNX export (docbin.models.export).

Torch is needed only to build and export generators; the inference module itself must never import it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import REPO, SAMPLES, SHARED, TINY, synthetic_page

from docbin.errors import ModelNotFoundError
from docbin.stage1 import dwt_ll_channel
from docbin.threestage import method, models, pipeline, sessions
from docbin.threestage.pipeline import GENERATORS, IN_CHANNELS, PipelineConfig

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from docbin.models.export import export_model_set, torch_runner  # noqa: E402

SHIPPED = REPO / "models" / "threestage"
CHECKPOINTS = REPO / "models" / "checkpoints" / "threestage"

class StandIn(nn.Module):
    """A two-level U-Net-shaped logits generator, small enough for fast tests (H, W multiples of 2)."""

    def __init__(self, in_channels: int, width: int = 6) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.mid = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(width, width, 2, stride=2)
        self.head = nn.Conv2d(2 * width, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.enc(x)
        deep = self.up(self.mid(nn.functional.max_pool2d(skip, 2)))
        return self.head(torch.cat([deep, skip], 1))


def fresh_generators(seed: int = 0) -> dict[str, nn.Module]:
    torch.manual_seed(seed)
    modules = {name: StandIn(IN_CHANNELS[name]) for name in GENERATORS}
    for module in modules.values():  # non-trivial BatchNorm statistics, as after training
        bn = module.enc[1]
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 2.0)
    return {name: m.eval() for name, m in modules.items()}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, nn.Module], Path]:
    out = tmp_path_factory.mktemp("model") / "threestage"
    generators = fresh_generators()
    export_model_set({n: (m, {"checkpoint": f"{n}.pt", "step": 0}) for n, m in generators.items()}, out, TINY)
    return generators, out


def torch_runners(generators: dict[str, nn.Module]) -> dict[str, pipeline.Runner]:
    return {name: torch_runner(module) for name, module in generators.items()}


# --- stages: shapes and value ranges ----------------------------------------------------------------


def test_predict_u8_feeds_nchw_pixel_over_255_and_returns_uint8_maps() -> None:
    seen = {}

    def runner(x: np.ndarray) -> np.ndarray:
        seen["x"] = x
        return x.mean(axis=1, keepdims=True)

    images = np.array([[[0, 255], [51, 102]]] * 2, dtype=np.uint8)[..., None].repeat(3, axis=3)
    maps = pipeline.predict_u8(runner, images)
    assert seen["x"].shape == (2, 3, 2, 2) and seen["x"].dtype == np.float32
    assert seen["x"].min() == 0.0 and seen["x"].max() == 1.0
    assert maps.dtype == np.uint8 and maps.shape == (2, 2, 2)
    np.testing.assert_array_equal(maps[0], [[0, 255], [51, 102]])


def test_stage1_tiles_gray_as_is_colour_through_haar_ll_per_tile() -> None:
    windows = np.random.default_rng(0).integers(0, 256, (2, 16, 16), dtype=np.uint8)
    assert pipeline.stage1_tiles("gray", windows) is windows
    red = pipeline.stage1_tiles("red", windows)
    np.testing.assert_array_equal(red[1], dwt_ll_channel(windows[1]))
    assert red.dtype == np.uint8 and red.shape == windows.shape
    assert pipeline.stage1_tiles("red", windows, dwt=False) is windows  # the "without DWT" ablation


def test_stage1_page_normalises_colour_channels_over_its_own_windows() -> None:
    view = synthetic_page(96, 224)[:, :, 0]
    cfg = replace(TINY, stage1_window=96)  # windows at x = 0, 72, 128; the first owns columns [0, 84)
    page = pipeline.stage1_page(view, "red", cfg)
    assert page.shape == view.shape and page.dtype == np.uint8
    np.testing.assert_array_equal(page[:, :84], dwt_ll_channel(view[:, :96])[:, :84])
    np.testing.assert_array_equal(pipeline.stage1_page(view[:, :96], "red", cfg), dwt_ll_channel(view[:, :96]))
    np.testing.assert_array_equal(pipeline.stage1_page(view, "red", replace(cfg, dwt=False)), view)


def test_channel_probability_stage1_windows_or_per_tile() -> None:
    view = synthetic_page(96, 224)[:, :, 2]
    runner = torch_runners(fresh_generators())["blue"]
    per_tile = pipeline.channel_probability(view, "blue", runner, replace(TINY, stage1_window=0))
    expected = pipeline.tiled_probability(
        view, lambda w: pipeline.predict_u8(runner, np.stack([dwt_ll_channel(t) for t in w])), TINY)
    np.testing.assert_array_equal(per_tile, expected)
    windowed = replace(TINY, stage1_window=96)
    expected = pipeline.tiled_probability(
        pipeline.stage1_page(view, "blue", windowed), lambda w: pipeline.predict_u8(runner, w), windowed)
    np.testing.assert_array_equal(pipeline.channel_probability(view, "blue", runner, windowed), expected)
    assert not np.array_equal(expected, per_tile)
    gray = pipeline.channel_probability(view, "gray", runner, windowed)  # gray has no Stage-1 transform
    np.testing.assert_array_equal(gray, pipeline.channel_probability(view, "gray", runner, replace(TINY, stage1_window=0)))


def test_stage2_tta_averages_each_channel_tile_with_its_mirror_image() -> None:
    view = synthetic_page(96, 224)[:, :, 2]
    runner = torch_runners(fresh_generators())["blue"]
    per_tile, windowed = (replace(TINY, stage1_window=w, stage2_tta=True) for w in (0, 96))
    expected = pipeline.tiled_probability(
        view, lambda w: pipeline.mirrored_mean_u8(runner, pipeline.stage1_tiles("blue", w)), per_tile)
    np.testing.assert_array_equal(pipeline.channel_probability(view, "blue", runner, per_tile), expected)
    expected = pipeline.tiled_probability(
        pipeline.stage1_page(view, "blue", windowed), lambda w: pipeline.mirrored_mean_u8(runner, w), windowed)
    np.testing.assert_array_equal(pipeline.channel_probability(view, "blue", runner, windowed), expected)
    plain = pipeline.channel_probability(view, "blue", runner, replace(windowed, stage2_tta=False))
    assert not np.array_equal(expected, plain)


def test_local_tta_averages_each_tile_with_its_mirror_image() -> None:
    windows = np.random.default_rng(1).integers(0, 256, (3, 8, 10, 3), dtype=np.uint8)

    def ramp(x: np.ndarray) -> np.ndarray:  # ignores the image: P grows from left to right
        return np.broadcast_to(np.linspace(0, 1, x.shape[3], dtype=np.float32), (x.shape[0], 1, *x.shape[2:]))

    def channel_mean(x: np.ndarray) -> np.ndarray:  # mirror-equivariant
        return x.mean(axis=1, keepdims=True)

    np.testing.assert_array_equal(pipeline.mirrored_mean_u8(channel_mean, windows), pipeline.predict_u8(channel_mean, windows))
    flat = pipeline.mirrored_mean_u8(ramp, windows)
    assert flat.shape == (3, 8, 10) and flat.min() >= 127 and flat.max() <= 128


def test_merge_maps_is_the_rounded_mean_of_channel_and_gray() -> None:
    p_c = np.array([0, 255, 100, 101], dtype=np.uint8)
    p_gray = np.array([0, 255, 200, 200], dtype=np.uint8)
    np.testing.assert_array_equal(pipeline.merge_maps(p_c, p_gray), [0, 255, 150, 151])


def test_merge_maps_in_8_bits_matches_the_widened_mean_on_every_pair_of_bytes() -> None:
    a, b = (v.astype(np.uint8) for v in np.meshgrid(np.arange(256), np.arange(256)))
    merged = pipeline.merge_maps(a, b)
    assert merged.dtype == np.uint8
    np.testing.assert_array_equal(merged, (a.astype(np.int32) + b + 1) // 2)


def test_to_binary_maps_ink_to_0_and_background_to_255_in_any_layout() -> None:
    ink = np.random.default_rng(2).random((7, 9)) < 0.5
    for view in (ink, ink[::-1, ::2], ink.T):
        binary = pipeline.to_binary(view)
        assert binary.dtype == np.uint8 and binary.shape == view.shape
        np.testing.assert_array_equal(binary, np.where(view, 0, 255))


def test_every_stage_keeps_page_shape_and_8bit_range() -> None:
    page = synthetic_page()
    runners = torch_runners(fresh_generators())
    merged = pipeline.merged_maps(page, runners, TINY)
    assert merged.shape == (*page.shape[:2], 3) and merged.dtype == np.uint8
    assert merged.std() > 0
    local = pipeline.local_probability(merged, runners["local"], TINY)
    glob = pipeline.global_probability(page, runners["global"], TINY)
    assert local.shape == glob.shape == page.shape[:2]
    assert local.dtype == glob.dtype == np.uint8
    binary = pipeline.run_threestage(page, runners, TINY)
    assert binary.shape == page.shape[:2] and set(np.unique(binary)) <= {0, 255}


def test_pixel_fusion_keeps_local_ink_only_near_global_ink() -> None:
    local = np.ones((20, 20), dtype=bool)
    glob = np.zeros((20, 20), dtype=bool)
    glob[10, 10] = True
    fused = pipeline.fuse(local, glob, 7, "pixel")
    assert fused.sum() == 49 and fused[7:14, 7:14].all()


def test_component_fusion_keeps_touched_local_components_whole() -> None:
    local = np.zeros((40, 60), dtype=bool)
    local[5, 2:58] = True  # a long stroke the global branch sees only at its left end
    local[20:23, 20:23] = True  # a speck the global branch does not see
    local[30, 10] = local[31, 11] = True  # diagonal neighbours: one 8-connected component, touched at one end
    glob = np.zeros_like(local)
    glob[5, 0] = glob[33, 8] = True  # dilated 7 x 7: reaches (5, 2..3) and (30..36, 5..11)
    fused = pipeline.fuse(local, glob, 7, "component")
    expected = local.copy()
    expected[20:23, 20:23] = False
    assert np.array_equal(fused, expected)
    assert pipeline.fuse(local, glob, 7, "pixel").sum() == 4  # the paper's rule keeps only the touched pixels
    assert not pipeline.fuse(local, np.zeros_like(local), 7, "component").any()


@pytest.mark.parametrize(
    ("shape", "applies"), [((600, 800), True), ((500, 800), False), ((600, 3700), False), ((600, 3500), True)]
)
def test_global_branch_skipped_on_small_or_very_elongated_pages(shape: tuple[int, int], applies: bool) -> None:
    assert pipeline.global_applies(*shape, PipelineConfig()) is applies


def test_global_branch_minimum_side_is_its_own_setting() -> None:
    # a generator trained at 768^2 still sees pages of 600 px a side (upscaled), as a 512^2 one did
    assert pipeline.global_applies(600, 800, PipelineConfig(global_size=768))
    assert not pipeline.global_applies(600, 800, PipelineConfig(global_min_side=700))


def test_global_branch_pads_elongated_pages_to_a_white_square() -> None:
    seen = {}

    def runner(x: np.ndarray) -> np.ndarray:
        seen["x"] = x
        return 1.0 - x[:, :1]  # dark = ink

    page = np.zeros((100, 500, 3), dtype=np.uint8)  # aspect 5: padded to 500 x 500, page = top fifth
    p = pipeline.global_probability(page, runner, replace(TINY, global_size=50))
    x = seen["x"]
    assert x.shape == (1, 3, 50, 50)
    assert x[0, :, :10].max() == 0.0 and x[0, :, 10:].min() == 1.0
    assert p.shape == (100, 500) and p.min() == 255


# --- export and parity ------------------------------------------------------------------------------


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def test_export_writes_checked_dynamic_onnx_and_manifest(exported: tuple[dict, Path]) -> None:
    import onnx

    _, out = exported
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["versions"]["opset"] >= 17
    assert manifest["pipeline"]["tile"] == TINY.tile
    for name in GENERATORS:
        entry = manifest["generators"][name]
        assert entry["in_channels"] == IN_CHANNELS[name]
        assert entry["bytes"] == (out / entry["file"]).stat().st_size
        assert entry["max_abs_diff_vs_torch"] <= 1e-4
        graph = onnx.load(str(out / entry["file"])).graph
        dims = [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
        assert dims == ["batch", "", "height", "width"]
        assert any(node.op_type == "Sigmoid" for node in graph.node)


def test_export_refuses_an_incomplete_set_and_leaves_no_files(tmp_path: Path) -> None:
    generators = fresh_generators()
    del generators["global"]
    with pytest.raises(ModelNotFoundError, match="global"):
        export_model_set({n: (m, {}) for n, m in generators.items()}, tmp_path / "m", TINY)
    assert not (tmp_path / "m").exists() and not list(tmp_path.iterdir())


def median_thresholds(page: np.ndarray, runners: dict[str, pipeline.Runner], cfg: PipelineConfig) -> PipelineConfig:
    """Thresholds at the median P(ink) of each branch: untrained generators then mark about half the
    page as ink, the case where rounding differences between runtimes would show most."""
    local = pipeline.local_probability(pipeline.merged_maps(page, runners, cfg), runners["local"], cfg)
    glob = pipeline.global_probability(page, runners["global"], cfg)
    return replace(cfg, threshold=float(np.median(local)) / 255, global_threshold=float(np.median(glob)) / 255)


def test_export_command_turns_checkpoints_into_a_model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``docbin export`` on training checkpoints (state_dict + config + step), with the network builder
    replaced by the stand-in so the test pins the exporter's side of the contract."""
    import types

    from typer.testing import CliRunner

    from docbin.cli import app

    networks = types.ModuleType("docbin.models.networks")
    networks.build_generator = lambda spec, binary=None: StandIn(spec["in_channels"])
    monkeypatch.setitem(sys.modules, "docbin.models.networks", networks)
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    for name, module in fresh_generators(seed=7).items():
        config = {"generator": {"in_channels": IN_CHANNELS[name]}}
        torch.save({"state_dict": module.state_dict(), "config": config, "step": 42}, checkpoints / f"{name}.small.pt")
    out = tmp_path / "threestage"
    result = CliRunner().invoke(app, ["export", "--checkpoints", str(checkpoints), "--out", str(out), "--tile", "128"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pipeline"]["tile"] == 128
    assert {e["checkpoint"] for e in manifest["generators"].values()} == {f"{n}.small.pt" for n in GENERATORS}
    assert {e["step"] for e in manifest["generators"].values()} == {42}
    (checkpoints / "local.small.pt").unlink()
    result = CliRunner().invoke(app, ["export", "--checkpoints", str(checkpoints), "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "local.pt" in result.output
    assert not (tmp_path / "x").exists()


def test_onnx_pipeline_matches_torch_pipeline(exported: tuple[dict, Path]) -> None:
    generators, out = exported
    model = models.load_model(out)
    page = synthetic_page(380, 520, seed=3)  # runtimes differ on a few pixels per page, not a share of its area
    runners = torch_runners(generators)
    cfg = median_thresholds(page, runners, model.config)
    via_torch = pipeline.run_threestage(page, runners, cfg)
    via_onnx = pipeline.run_threestage(page, model.runners(threads=1), cfg)
    assert 0.05 < (via_onnx == 0).mean() < 0.95
    assert agreement(via_onnx, via_torch) >= 0.9999


def test_load_model_names_missing_files(tmp_path: Path, exported: tuple[dict, Path]) -> None:
    with pytest.raises(ModelNotFoundError, match="manifest.json"):
        models.load_model(tmp_path)
    _, out = exported
    (tmp_path / "manifest.json").write_text((out / "manifest.json").read_text())
    with pytest.raises(ModelNotFoundError, match="gray.onnx"):
        models.load_model(tmp_path)


def test_a_missing_or_corrupt_model_is_listed_unavailable_with_the_reason(
    exported: tuple[dict, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbin import registry
    from docbin.errors import MethodUnavailableError

    _, out = exported
    model = tmp_path / "model"
    shutil.copytree(out, model)
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(model))
    assert registry.get("threestage").describe()["available"]
    (model / "local.onnx").write_bytes((out / "local.onnx").read_bytes()[:-1])  # a truncated download
    listed = {m.name: m.describe() for m in registry.available()}["threestage"]
    assert not listed["available"] and "corrupt local.onnx" in listed["unavailable"]
    flipped = bytearray((out / "local.onnx").read_bytes())
    flipped[len(flipped) // 2] ^= 1  # same size, other bytes: only the SHA-256 tells
    (model / "local.onnx").write_bytes(bytes(flipped))
    assert "corrupt local.onnx" in models.model_problem()
    with pytest.raises(MethodUnavailableError, match="'threestage' is unavailable: corrupt local.onnx"):
        registry.get("threestage")
    (model / "local.onnx").unlink()
    assert "missing local.onnx" in models.model_problem()
    (model / "manifest.json").write_text("{not json")
    assert "unreadable" in models.model_problem()
    result = run_cli(model, ["methods"])
    assert result.returncode == 0, result.stderr
    assert "threestage" in result.stdout and "UNAVAILABLE: unreadable" in result.stdout
    cv2.imwrite(str(tmp_path / "page.png"), synthetic_page(40, 60))
    result = run_cli(model, ["binarize", str(tmp_path / "page.png"), "-o", str(tmp_path / "out"), "-m", "threestage"])
    assert result.returncode == 2 and "method 'threestage' is unavailable: unreadable" in result.stderr
    assert not (tmp_path / "out").exists()


def test_sessions_are_cached_clearable_and_a_broken_file_is_a_model_error(
    exported: tuple[dict, Path], tmp_path: Path
) -> None:
    import docbin

    _, out = exported
    path = str(out / "gray.onnx")
    session = sessions.onnx_session(path)
    assert sessions.onnx_session(path) is session
    docbin.clear_caches()
    assert len(sessions.SESSIONS) == 0 and sessions.onnx_session(path) is not session
    (tmp_path / "broken.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(ModelNotFoundError, match="onnxruntime cannot load"):
        sessions.onnx_session(str(tmp_path / "broken.onnx"))


def test_sessions_allocate_from_the_shared_arena_without_memory_patterns(exported: tuple[dict, Path]) -> None:
    """Memory patterns held a run's whole planned block beside per-call scratch: the 1-bit model's extra peak RSS."""
    _, out = exported
    session = sessions.new_onnx_session(str(out / "gray.onnx"))
    options = session.get_session_options()
    assert not options.enable_mem_pattern
    assert options.get_session_config_entry("session.use_env_allocators") == "1"
    x = np.random.default_rng(0).random((1, 1, 64, 64), dtype=np.float32)
    first = session.run(None, {session.get_inputs()[0].name: x})[0]
    session.run(None, {session.get_inputs()[0].name: np.ones((2, 1, 32, 96), dtype=np.float32)})
    assert np.array_equal(session.run(None, {session.get_inputs()[0].name: x})[0], first)


def test_method_entry_point_checks_tiles_and_model(
    exported: tuple[dict, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbin.errors import ParameterError

    _, out = exported
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(out))
    page = synthetic_page(80, 100)
    assert method.binarize_threestage(page, threads=1).shape == (80, 100)
    with pytest.raises(ParameterError, match="multiple of 32"):
        method.binarize_threestage(page, tile=48)
    with pytest.raises(ParameterError, match="larger than overlap"):
        method.binarize_threestage(page, tile=64, overlap=64)
    with pytest.raises(ParameterError, match="stage1_window"):
        method.binarize_threestage(page, stage1_window=16)
    assert method.binarize_threestage(page, threads=1, stage1_window=0, local_tta=False).shape == (80, 100)
    assert method.binarize_threestage(page, threads=1, stage2_tta=True).shape == (80, 100)
    assert method.binarize_threestage(page, threads=1, fusion="pixel").shape == (80, 100)
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=re.escape(models.HOW_TO_GET[models.DEFAULT_PRECISION])):
        method.binarize_threestage(page)


def run_python(code: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, models.MODEL_DIR_ENV: str(model_dir)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def run_cli(model_dir: Path, args: list[str], before: str = "") -> subprocess.CompletedProcess[str]:
    """``docbin ARGS`` in a fresh interpreter, after the Python statements ``before``."""
    code = ("import sys, numpy as np\nfrom docbin import registry\nfrom docbin.cli import app\n"
            f"{before}sys.argv = ['docbin', *{args!r}]\napp()\n")
    return run_python(code, model_dir)


def test_inference_never_imports_torch(exported: tuple[dict, Path]) -> None:
    _, out = exported
    code = (
        "import sys, numpy as np\n"
        "from docbin import registry\n"
        "page = np.full((70, 90, 3), 200, np.uint8); page[30:40, 10:80] = 20\n"
        "binary = registry.binarize(page, 'threestage', threads=1)\n"
        "assert binary.shape == (70, 90), binary.shape\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    result = run_python(code, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_threestage_through_the_batch_cli(exported: tuple[dict, Path], tmp_path: Path) -> None:
    _, out = exported
    src = tmp_path / "page.png"
    cv2.imwrite(str(src), cv2.cvtColor(synthetic_page(), cv2.COLOR_RGB2BGR))
    result = run_cli(out, ["binarize", str(src), "-o", str(tmp_path / "out"), "--method", "threestage",
                           "-p", "threads=1", "-j", "1", "-q"])
    assert result.returncode == 0, result.stderr
    binary = cv2.imread(str(tmp_path / "out" / "page.png"), cv2.IMREAD_GRAYSCALE)
    assert binary.shape == synthetic_page().shape[:2]
    assert set(np.unique(binary)) <= {0, 255}


def test_batch_workers_started_after_the_caller_ran_threestage(exported: tuple[dict, Path], tmp_path: Path) -> None:
    """Batch workers must not inherit the caller's inference or OpenCV threads (a forked worker gets the
    pools without their threads and waits forever on them)."""
    _, out = exported
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"page{i}.png"), cv2.cvtColor(synthetic_page(seed=i), cv2.COLOR_RGB2BGR))
    warm_up = "registry.binarize(np.full((70, 90, 3), 200, np.uint8), 'threestage', threads=2)\n"
    result = run_cli(out, ["binarize", str(tmp_path), "-o", str(tmp_path / "out"), "--method", "threestage",
                           "-p", "threads=2", "-j", "2", "-q"], before=warm_up)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["page0.png", "page1.png", "page2.png"]


# --- the shipped model ------------------------------------------------------------------------------

shipped = pytest.mark.skipif(not (SHIPPED / "manifest.json").is_file(), reason="no shipped model yet")


@shipped
def test_shipped_onnx_matches_its_torch_checkpoints() -> None:
    from docbin.models.export import checkpoint_path, load_generator

    try:
        generators = {n: load_generator(checkpoint_path(CHECKPOINTS, n))[0] for n in GENERATORS}
    except (ModelNotFoundError, ImportError) as exc:
        pytest.skip(f"checkpoints not available: {exc}")
    model = models.load_model(SHIPPED)
    page = synthetic_page(300, 400, seed=5)
    via_torch = pipeline.run_threestage(page, torch_runners(generators), model.config)
    via_onnx = pipeline.run_threestage(page, model.runners(threads=2), model.config)
    assert agreement(via_onnx, via_torch) >= 0.9999


@pytest.mark.parametrize("precision", models.PRECISIONS)
def test_shipped_models_binarize_the_bundled_sample_through_the_cli(tmp_path: Path, precision: str) -> None:
    from typer.testing import CliRunner

    from docbin.cli import app

    if not (REPO / "models" / models.SHIPPED_MODELS[precision] / "manifest.json").is_file():
        pytest.skip(f"no shipped {precision} model")
    result = CliRunner().invoke(app, ["binarize", str(SAMPLES / "sample_scan.png"), "-o", str(tmp_path),
                                      "--method", "threestage", "-p", f"precision={precision}", "-q"])
    assert result.exit_code == 0, result.output
    binary = cv2.imread(str(tmp_path / "sample_scan.png"), cv2.IMREAD_GRAYSCALE)
    gt = cv2.imread(str(SAMPLES / "sample_gt.png"), cv2.IMREAD_GRAYSCALE)
    assert binary.shape == gt.shape and set(np.unique(binary)) <= {0, 255}
    assert f_measure(binary, gt) > 0.7  # fp32 0.761, 1-bit 0.757 measured (Sauvola: 0.796 on this synthetic page)


def test_the_cli_default_is_the_1bit_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from docbin.cli import app

    assert models.DEFAULT_PRECISION == "1bit"
    if not (REPO / "models" / models.SHIPPED_MODELS["1bit"] / "manifest.json").is_file():
        pytest.skip("no shipped 1bit model")
    outputs = {}
    for name, extra in (("default", []), ("1bit", ["-p", "precision=1bit"]), ("fp32", ["-p", "precision=fp32"])):
        result = CliRunner().invoke(app, ["binarize", str(SAMPLES / "sample_scan.png"), "-o", str(tmp_path / name),
                                          "--method", "threestage", "-q", *extra])
        assert result.exit_code == 0, result.output
        outputs[name] = cv2.imread(str(tmp_path / name / "sample_scan.png"), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(outputs["default"], outputs["1bit"])
    assert not np.array_equal(outputs["default"], outputs["fp32"])


def f_measure(binary: np.ndarray, gt: np.ndarray) -> float:
    pred, truth = binary == 0, gt == 0
    tp = float((pred & truth).sum())
    return 2 * tp / max(float(pred.sum() + truth.sum()), 1.0)


@shipped
@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared data not available")
@pytest.mark.parametrize("dataset", ["dibco2011", "hdibco2016"])
def test_shipped_model_beats_sauvola_on_a_real_validation_set(dataset: str) -> None:
    """Mean FM over every page of a validation set (never trained on), so no page is picked to suit the model."""
    from docbin import registry

    model = models.load_model(SHIPPED)
    ours, sauvola = [], []
    for scan in sorted((SHARED / "data" / dataset / "images").glob("*.png")):
        image = cv2.cvtColor(cv2.imread(str(scan)), cv2.COLOR_BGR2RGB)
        gt = cv2.imread(str(SHARED / "data" / dataset / "gt" / scan.name), cv2.IMREAD_GRAYSCALE)
        ours.append(f_measure(pipeline.run_threestage(image, model.runners(threads=2), model.config), gt))
        sauvola.append(f_measure(registry.binarize(image, "sauvola"), gt))
    assert np.mean(ours) > np.mean(sauvola)

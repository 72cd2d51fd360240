"""The three-stage DWT+GAN binarizer (Ju et al., Knowledge-Based Systems 2024) run with onnxruntime.

No torch here: the pipeline is written against *generator runners* (a callable mapping a float32 batch
``(N, C, H, W)`` of pixel/255 values to P(ink) of shape ``(N, 1, H, W)`` or ``(N, H, W)``), so the same
code runs onnxruntime sessions in production and torch modules in the parity test and in training.

Probability maps between stages are 8-bit images, P(ink) x 255 rounded: the local generator's input
M_c = (P_c + P_gray) / 2 is then an ordinary 3-channel image fed as /255 like every other input, and a
50 MP page holds a few bytes per pixel. Stages (docs/ARCHITECTURE.md, "The three-stage pipeline"):

1. Stage 1, per tile: gray as is; R, G, B through :func:`docbin.stage1.dwt_ll_channel`.
2. Stage 2: four channel generators over overlapping tiles, stitched by :func:`apply_tiled`.
3. Stage 3: the local generator over tiles of M; the global generator on the page resized to 512 x 512;
   fused with the 7 x 7-dilated global ink: per pixel as the paper does (local AND global), or per
   connected component of the local ink (``fusion="component"``, the default: a stroke the global
   branch touches is kept whole).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from docbin.caching import KeyedCache
from docbin.errors import ModelNotFoundError, ParameterError
from docbin.preprocess import to_gray, to_rgb
from docbin.stage1 import dwt_ll_channel
from docbin.threads import default_threads, shared_pool
from docbin.tiling import Merge, apply_tiled

Runner = Callable[[np.ndarray], np.ndarray]
Fusion = Literal["component", "pixel"]
FUSIONS: tuple[Fusion, ...] = ("component", "pixel")

CHANNEL_GENERATORS = ("gray", "red", "green", "blue")
COLOUR_CHANNELS = ("red", "green", "blue")
GENERATORS = (*CHANNEL_GENERATORS, "local", "global")
IN_CHANNELS = {"gray": 1, "red": 1, "green": 1, "blue": 1, "local": 3, "global": 3}

MANIFEST = "manifest.json"
MODELS_PACKAGE = "docbin.models"  # shipped model folders are its package data (docs/ARCHITECTURE.md)
# The model folders per precision: the fp32 export and the 1-bit one (sign bits packed 8 per byte, int8
# activations: docbin.models.export_binary), each overridden by its environment variable
PRECISIONS = ("fp32", "1bit")
SHIPPED_MODELS = {"fp32": "threestage", "1bit": "threestage_1bit"}
MODEL_DIR_ENVS = {"fp32": "DOCBIN_THREESTAGE_DIR", "1bit": "DOCBIN_THREESTAGE_1BIT_DIR"}
# What the threestage method runs by default: fp32 until a trained 1-bit model meets issue 14's bars (README)
DEFAULT_PRECISION = "fp32"
MODEL_DIR_ENV = MODEL_DIR_ENVS[DEFAULT_PRECISION]  # overrides the default model folder
# U-Net generators halve the resolution up to 5 times: tile sides must divide evenly.
TILE_MULTIPLE = 32


@dataclass(frozen=True)
class PipelineConfig:
    """Inference settings; the shipped values live in ``manifest.json``."""

    tile: int = 512
    overlap: int = 64
    # Colour channels' Haar LL is min-max normalised over windows of this side overlapping by a quarter,
    # crop-stitched (0: per generator tile): the window moves the mean Avg-Score by tenths (model card)
    stage1_window: int = 1024
    batch: int = 2  # tiles per call (at least one per thread); 4 tiles of 512^2 cost +300 MB RSS, no speed
    merge: Merge = "max"
    threshold: float = 0.5
    global_threshold: float = 0.5
    global_size: int = 512
    global_pad_aspect: float = 4.0
    global_max_aspect: float = 6.0
    fusion_dilation: int = 7
    # "pixel": the paper's local AND dilated global; "component": keep each local ink component that the
    # dilated global ink touches (+0.21 mean Avg-Score over "pixel" on the validation sets, model card)
    fusion: Fusion = "component"
    fuse_global: bool = True
    local_tta: bool = True  # the local generator also sees each tile mirrored, P(ink) averaged: +0.09, ~20% time
    dwt: bool = True  # False: colour generators see the raw channel (the "without DWT" ablation)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PipelineConfig:
        """The config from a manifest's ``pipeline`` section (unknown keys ignored, missing ones default)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


# ---------------------------------------------------------------------------------------------------
# One generator call on 8-bit images
# ---------------------------------------------------------------------------------------------------


def to_probability_u8(p_ink: np.ndarray) -> np.ndarray:
    """P(ink) in [0, 1] -> ``uint8`` map P x 255 rounded."""
    return np.rint(np.clip(p_ink, 0.0, 1.0) * 255.0).astype(np.uint8)


def predict_u8(runner: Runner, images: np.ndarray) -> np.ndarray:
    """Run a generator on ``uint8`` images ``(N, H, W)`` or ``(N, H, W, C)``; returns ``uint8`` P(ink)
    maps ``(N, H, W)``. The network input is pixel/255, float32, NCHW."""
    x = images.astype(np.float32) * np.float32(1.0 / 255.0)
    x = x[:, None] if x.ndim == 3 else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    p = np.asarray(runner(x))
    n, _, h, w = x.shape
    return to_probability_u8(p.reshape(n, h, w))


def stage1_tiles(channel: str, windows: np.ndarray, dwt: bool = True) -> np.ndarray:
    """Stage 1 on a batch of single-channel tiles: gray as is, colour channels' Haar LL per tile (raw when
    ``dwt`` is off)."""
    if channel == "gray" or not dwt:
        return windows
    return np.stack([dwt_ll_channel(w) for w in windows])


def ink_mask(p_u8: np.ndarray, threshold: float) -> np.ndarray:
    """Ink where P(ink) exceeds ``threshold`` (on the 8-bit map: P x 255 > threshold x 255)."""
    return p_u8 > np.float32(threshold * 255.0)


def merge_maps(p_channel: np.ndarray, p_gray: np.ndarray) -> np.ndarray:
    """Stage 3 input of Ju et al. (KBS 2024): M_c = (P_c + P_gray) / 2 on 8-bit maps (rounded half up)."""
    return ((p_channel.astype(np.uint16) + p_gray + 1) >> 1).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------
# The stages
# ---------------------------------------------------------------------------------------------------


def tiled_probability(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], cfg: PipelineConfig) -> np.ndarray:
    """``uint8`` P(ink) ``(H, W)`` of ``image`` from ``predict`` over streamed, overlapping tiles merged per
    ``cfg.merge``."""
    return apply_tiled(
        image, predict, tile=cfg.tile, overlap=cfg.overlap, batch_size=cfg.batch, merge=cfg.merge, out_dtype=np.uint8
    )


def stage1_page(view: np.ndarray, channel: str, cfg: PipelineConfig) -> np.ndarray:
    """Stage 1 of a whole channel view over overlapping ``cfg.stage1_window`` windows, crop-stitched: each
    pixel normalised with the window where it lies farthest from an edge."""
    return apply_tiled(
        view, lambda windows: stage1_tiles(channel, windows, cfg.dwt), tile=cfg.stage1_window,
        overlap=cfg.stage1_window // 4, batch_size=1, merge="crop", out_dtype=np.uint8,
    )


def channel_probability(view: np.ndarray, channel: str, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stage 1 + 2 for one channel view ``(H, W)``: the Stage-1 transform over its own windows (or per
    generator tile when ``cfg.stage1_window`` is 0), then the channel generator per tile."""
    if cfg.stage1_window and channel != "gray" and cfg.dwt:
        return tiled_probability(stage1_page(view, channel, cfg), lambda windows: predict_u8(runner, windows), cfg)
    return tiled_probability(view, lambda windows: predict_u8(runner, stage1_tiles(channel, windows, cfg.dwt)), cfg)


def merged_maps(rgb: np.ndarray, runners: Mapping[str, Runner], cfg: PipelineConfig) -> np.ndarray:
    """Stages 1-2 of a page: the ``(H, W, 3)`` ``uint8`` map M with M_c = (P_c + P_gray) / 2, c = R, G, B."""
    rgb = to_rgb(rgb)
    p_gray = channel_probability(to_gray(rgb), "gray", runners["gray"], cfg)
    merged = np.empty((*p_gray.shape, 3), dtype=np.uint8)
    for i, channel in enumerate(COLOUR_CHANNELS):  # strided views: no page-sized copies of the channels
        p_c = channel_probability(rgb[:, :, i], channel, runners[channel], cfg)
        merged[:, :, i] = merge_maps(p_c, p_gray)
    return merged


def mirrored_mean_u8(runner: Runner, windows: np.ndarray) -> np.ndarray:
    """Flip test-time augmentation: the mean of the generator's ``uint8`` maps of the tiles and of their
    mirror images (mirrored back); two calls, so a call holds no more tiles than without it."""
    maps, mirrored = predict_u8(runner, windows), predict_u8(runner, windows[:, :, ::-1])
    return ((maps.astype(np.uint16) + mirrored[:, :, ::-1] + 1) >> 1).astype(np.uint8)


def local_probability(merged: np.ndarray, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stage 3, local branch: the local generator over tiles of M (with ``cfg.local_tta``, the mean with its
    maps of the mirrored tiles), ``uint8`` P(ink) ``(H, W)``."""
    predict = mirrored_mean_u8 if cfg.local_tta else predict_u8
    return tiled_probability(merged, lambda windows: predict(runner, windows), cfg)


def global_applies(height: int, width: int, cfg: PipelineConfig) -> bool:
    """The global branch runs on pages at least ``global_size`` a side with aspect <= 6 (docs/ARCHITECTURE.md)."""
    aspect = max(height, width) / min(height, width)
    return min(height, width) >= cfg.global_size and aspect <= cfg.global_max_aspect


def global_square(image: np.ndarray, cfg: PipelineConfig) -> tuple[np.ndarray, float, float]:
    """The global branch's view of a page: padded with white to a square when its aspect exceeds 4, resized
    (area) to ``global_size``^2; returns it with the page's height and width fractions of the square."""
    h, w = image.shape[:2]
    if max(h, w) / min(h, w) > cfg.global_pad_aspect:
        side = max(h, w)
        square = np.full((side, side, *image.shape[2:]), 255, dtype=image.dtype)
        square[:h, :w] = image
        fh, fw = h / side, w / side
    else:
        square, fh, fw = image, 1.0, 1.0
    size = cfg.global_size
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), fh, fw


def global_probability(rgb: np.ndarray, runner: Runner, cfg: PipelineConfig) -> np.ndarray:
    """Stage 3, global branch: one generator call on :func:`global_square`, the page's part of the map
    resized back: ``uint8`` ``(H, W)``."""
    h, w = rgb.shape[:2]
    small, fh, fw = global_square(rgb, cfg)
    size = cfg.global_size
    p_small = predict_u8(runner, small[None])[0]
    page_part = p_small[: max(1, round(size * fh)), : max(1, round(size * fw))]
    return cv2.resize(page_part, (w, h), interpolation=cv2.INTER_LINEAR)


def fuse(local_ink: np.ndarray, global_ink: np.ndarray, dilation: int, fusion: Fusion) -> np.ndarray:
    """Fusion of the two Stage-3 branches with the global ink dilated by a ``dilation`` x ``dilation``
    square. ``"pixel"``, Ju et al. (KBS 2024): ink where the local branch AND the dilated global branch say
    ink. ``"component"``: every 8-connected component of the local ink that the dilated global ink touches,
    whole (morphological reconstruction of the local ink from the pixel rule's ink)."""
    kernel = np.ones((dilation, dilation), dtype=np.uint8)
    seeds = local_ink & cv2.dilate(global_ink.view(np.uint8), kernel).view(bool)
    if fusion == "pixel":
        return seeds
    count, labels = cv2.connectedComponents(local_ink.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    touched = np.zeros(count, dtype=bool)
    touched[labels[seeds]] = True
    touched[0] = False  # the background label
    return touched[labels]


def to_binary(ink: np.ndarray) -> np.ndarray:
    """Boolean ink mask -> docbin binary image (ink 0, background 255)."""
    return np.where(ink, 0, 255).astype(np.uint8)


def run_threestage(rgb: np.ndarray, runners: Mapping[str, Runner], cfg: PipelineConfig) -> np.ndarray:
    """The whole three-stage pipeline on an RGB ``uint8`` page; binary ``uint8`` (ink 0, background 255)."""
    local_ink = ink_mask(local_probability(merged_maps(rgb, runners, cfg), runners["local"], cfg), cfg.threshold)
    if not (cfg.fuse_global and global_applies(*rgb.shape[:2], cfg)):
        return to_binary(local_ink)
    global_ink = ink_mask(global_probability(rgb, runners["global"], cfg), cfg.global_threshold)
    return to_binary(fuse(local_ink, global_ink, cfg.fusion_dilation, cfg.fusion))


# ---------------------------------------------------------------------------------------------------
# onnxruntime runners and the shipped model
# ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def register_shared_arena() -> None:
    """Register, once per process, one CPU arena that every docbin session allocates from, growing by exactly
    what is requested (``kSameAsRequested``) and keeping what it holds for the next call.

    Measured on the 2-core machine (four Stage-2 generators, 2 tiles of 512^2 per call): 1.3x faster than no
    arena (each call then maps and faults in fresh pages for its activations) at lower peak RSS (261 vs
    394 MB); a default arena per session was as fast but held ~0.6 GB more at 3 MP (power-of-two growth,
    one arena for each of the six sessions)."""
    import onnxruntime as ort

    memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    # OrtArenaCfg(max_mem 0 = no cap, extend strategy 1 = kSameAsRequested, default chunk sizes)
    ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, 1, -1, -1))


SESSIONS: KeyedCache[str, Any] = KeyedCache("onnxruntime sessions per model file", maxsize=None)


def onnx_session(path: str) -> Any:
    """This process's session of the model file ``path``, created once and kept in :data:`SESSIONS`
    (``docbin.clear_caches()`` releases them); :class:`ModelNotFoundError` when onnxruntime cannot load it."""
    return SESSIONS.get(path, lambda: new_onnx_session(path))


def new_onnx_session(path: str) -> Any:
    """A single-threaded onnxruntime CPU session (graph optimisation ALL) allocating from the process's
    :func:`register_shared_arena`.

    Parallelism comes from :func:`onnx_runner` running slices of a tile batch on worker threads instead:
    on 2 cores, 2 threads x ``intra_op_num_threads=1`` ran the generators 1.2x faster than one call with
    ``intra_op_num_threads=2`` (5.6 vs 4.6 MP/s, measured here)."""
    import onnxruntime as ort

    register_shared_arena()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.use_env_allocators", "1")
    try:
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's pybind errors (InvalidProtobuf, Fail, ...) share no base class
        raise ModelNotFoundError(f"onnxruntime cannot load {path}: {exc}") from exc


def onnx_runner(path: Path, threads: int = 0) -> Runner:
    """A runner over the cached session of ``path`` that splits each batch into up to ``threads`` slices
    run concurrently (``threads=0``: :func:`docbin.threads.default_threads`)."""
    session = onnx_session(str(path))
    input_name = session.get_inputs()[0].name
    workers = threads or default_threads()

    def run_slice(x: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: x})[0]

    def run(x: np.ndarray) -> np.ndarray:
        if workers == 1 or len(x) == 1:
            return run_slice(x)
        slices = np.array_split(x, min(workers, len(x)))
        return np.concatenate(list(shared_pool("onnx", workers).map(run_slice, slices)))

    return run


@dataclass(frozen=True)
class ThreeStageModel:
    """A model folder: ``manifest.json`` and one ONNX file per generator."""

    directory: Path
    manifest: dict[str, Any]

    @property
    def config(self) -> PipelineConfig:
        return PipelineConfig.from_mapping(self.manifest.get("pipeline", {}))

    def path(self, generator: str) -> Path:
        return self.directory / self.manifest["generators"][generator]["file"]

    def runners(self, threads: int = 0) -> dict[str, Runner]:
        return {name: onnx_runner(self.path(name), threads) for name in GENERATORS}

    @property
    def precision(self) -> str:
        """``fp32`` or ``1bit-int8`` (format-1 manifests predate the key: every one of them is an fp32 export)."""
        return str(self.manifest.get("precision", "fp32"))


def shipped_model_dir(name: str = SHIPPED_MODELS[DEFAULT_PRECISION]) -> Path:
    """The model folder ``name`` shipped as package data of :mod:`docbin.models`, found with
    :mod:`importlib.resources`: the checkout's ``models/NAME`` in an editable install, the installed
    package's ``docbin/models/NAME`` from a wheel."""
    return Path(str(resources.files(MODELS_PACKAGE).joinpath(name)))


def model_dir(precision: str = DEFAULT_PRECISION) -> Path:
    """The model folder of ``precision`` (one of :data:`PRECISIONS`): its environment variable
    (``$DOCBIN_THREESTAGE_DIR`` for fp32, ``$DOCBIN_THREESTAGE_1BIT_DIR`` for 1bit) if set, else the shipped
    :func:`shipped_model_dir`."""
    if precision not in PRECISIONS:
        raise ParameterError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return Path(os.environ.get(MODEL_DIR_ENVS[precision]) or shipped_model_dir(SHIPPED_MODELS[precision]))


DIGESTS: KeyedCache[tuple[str, int, int], str] = KeyedCache("SHA-256 of model files", maxsize=64)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of ``path``, kept in :data:`DIGESTS` per (path, size, modification time)."""

    def digest() -> str:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()

    stat = path.stat()
    return DIGESTS.get((str(path), stat.st_size, stat.st_mtime_ns), digest)


def differs_from_record(path: Path, entry: Mapping[str, Any]) -> bool:
    """Whether the size or SHA-256 of ``path`` differs from its manifest ``entry`` (what it omits is not
    checked)."""
    if "bytes" in entry and path.stat().st_size != entry["bytes"]:
        return True
    return "sha256" in entry and file_sha256(path) != entry["sha256"]


def model_problem(directory: Path | None = None, precision: str = DEFAULT_PRECISION) -> str | None:
    """What makes ``directory`` (default :func:`model_dir` of ``precision``) unusable as a three-stage model folder, or None:
    a missing or unreadable manifest, generators it does not list, missing generator files, or files whose
    size or SHA-256 differs from the manifest's record (a truncated download, a Git LFS pointer)."""
    directory = Path(directory) if directory is not None else model_dir(precision)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return f"missing {MANIFEST} in {directory}"
    try:
        generators = json.loads(manifest_path.read_text())["generators"]
        entries = {name: generators[name] for name in GENERATORS if name in generators}
        files = {name: directory / entry["file"] for name, entry in entries.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable {manifest_path}: {type(exc).__name__}: {exc}"
    unlisted = [name for name in GENERATORS if name not in entries]
    if unlisted:
        return f"{manifest_path} lists no {', '.join(f'{name}.onnx' for name in unlisted)}"
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        return f"missing {', '.join(missing)} in {directory}"
    corrupt = [path.name for name, path in files.items() if differs_from_record(path, entries[name])]
    if corrupt:
        return f"corrupt {', '.join(corrupt)} in {directory}: size or SHA-256 differs from {MANIFEST}"
    return None


HOW_TO_GET = {
    "fp32": "train with `docbin train --config models/configs/threestage.yaml`, then `docbin export`",
    "1bit": "train with `docbin train --config models/configs/binary.yaml`, then `python -m "
            "docbin.models.export_binary`",
}


def load_model(directory: Path | None = None, precision: str = DEFAULT_PRECISION) -> ThreeStageModel:
    """The three-stage model in ``directory`` (default :func:`model_dir` of ``precision``);
    :class:`ModelNotFoundError` says what is missing or corrupt (:func:`model_problem`) and how to get a model."""
    directory = Path(directory) if directory is not None else model_dir(precision)
    problem = model_problem(directory)
    if problem is not None:
        raise ModelNotFoundError(
            f"three-stage {precision} model unusable: {problem} (reinstall docbin, point "
            f"${MODEL_DIR_ENVS[precision]} at a model folder, or {HOW_TO_GET[precision]})"
        )
    return ThreeStageModel(directory, json.loads((directory / MANIFEST).read_text()))


def binarize_threestage(
    rgb: np.ndarray,
    tile: int = 0,
    overlap: int = -1,
    threshold: float = -1.0,
    threads: int = 0,
    fuse_global: bool = True,
    stage1_window: int = -1,
    local_tta: bool = True,
    fusion: str = "model",
    precision: str = DEFAULT_PRECISION,
) -> np.ndarray:
    """Registry entry point: the shipped model of ``precision`` with optional overrides (0 / -1 keep the
    manifest's values)."""
    model = load_model(precision=precision)
    cfg = _overridden(model.config, tile, overlap, threshold, threads, fuse_global, stage1_window, local_tta, fusion)
    return run_threestage(rgb, model.runners(threads), cfg)


def _overridden(base: PipelineConfig, tile: int, overlap: int, threshold: float, threads: int, fuse_global: bool,
                stage1_window: int, local_tta: bool, fusion: str) -> PipelineConfig:
    """``base`` with :func:`binarize_threestage`'s overrides; :class:`ParameterError` for a tile side the
    generators cannot use (a multiple of their down-sampling, larger than the overlap)."""
    cfg = replace(
        base,
        batch=max(base.batch, threads),  # at least one tile per inference thread
        tile=tile or base.tile,
        overlap=overlap if overlap >= 0 else base.overlap,
        threshold=threshold if threshold >= 0 else base.threshold,
        fuse_global=fuse_global,
        fusion=base.fusion if fusion == "model" else fusion,
        local_tta=local_tta,
        stage1_window=stage1_window if stage1_window >= 0 else base.stage1_window,
    )
    if cfg.tile % TILE_MULTIPLE or cfg.overlap >= cfg.tile:
        raise ParameterError(
            f"tile must be a multiple of {TILE_MULTIPLE} larger than overlap, got tile={cfg.tile} overlap={cfg.overlap}"
        )
    if 0 < cfg.stage1_window < TILE_MULTIPLE:
        raise ParameterError(f"stage1_window must be 0 (per tile) or at least {TILE_MULTIPLE}, got {cfg.stage1_window}")
    return cfg


def check_params(params: Mapping[str, Any]) -> None:
    """The checks :func:`binarize_threestage` makes on the model's configuration, before any page (nothing
    to check while the model is unusable: choosing the method says why)."""
    settings = dict(params)
    precision = settings.pop("precision", DEFAULT_PRECISION)
    if model_problem(precision=precision) is None:
        _overridden(load_model(precision=precision).config, **settings)


def about_model() -> dict[str, Any]:
    """The served model as users see it (``GET /v1/methods``, the upload page): its precision, a version (the
    first 12 hex digits of the SHA-256 over its generators' SHA-256s), training steps, and the values the
    0 / -1 parameter defaults of :func:`binarize_threestage` stand for."""
    model = load_model()
    cfg = model.config
    return {
        "model": describe_model(model) | {"precisions": {p: precision_status(p) for p in PRECISIONS}},
        "defaults": {
            "tile": cfg.tile, "overlap": cfg.overlap, "threshold": cfg.threshold, "threads": default_threads(),
            "fusion": cfg.fusion, "stage1_window": cfg.stage1_window,
        },
    }


def describe_model(model: ThreeStageModel) -> dict[str, Any]:
    """A model folder as users see it: name, precision, version (the first 12 hex digits of the SHA-256 over
    its generators' SHA-256s), training steps and total bytes of its generator files."""
    generators = model.manifest["generators"]
    digest = hashlib.sha256("".join(generators[name].get("sha256", "") for name in GENERATORS).encode())
    return {
        "name": model.directory.name,
        "precision": model.precision,
        "version": digest.hexdigest()[:12],
        "steps": {name: generators[name].get("step") for name in GENERATORS},
        "bytes": sum(generators[name].get("bytes", 0) for name in GENERATORS),
    }


def precision_status(precision: str) -> dict[str, Any]:
    """Whether the ``precision`` parameter value can run here: its model (name, version, bytes) or the reason
    it cannot."""
    problem = model_problem(precision=precision)
    if problem is not None:
        return {"available": False, "unavailable": problem}
    model = describe_model(load_model(precision=precision))
    return {"available": True} | {k: model[k] for k in ("name", "precision", "version", "bytes")}


def _register() -> None:
    from docbin.registry import Method, Param, register

    register(
        Method(
            name="threestage",
            func=binarize_threestage,
            description="Three-stage DWT+GAN colour-channel generators (trained here) on onnxruntime",
            reference="Ju et al., Knowledge-Based Systems 2024 (arXiv 2211.16098)",
            params=(
                Param("tile", int, 0, "tile side in pixels (0: the model's, 512)", min=0, max=4096,
                      label="Tile size (px)"),
                Param("overlap", int, -1, "tile overlap in pixels (-1: the model's)", min=-1, max=1024,
                      label="Tile overlap (px)"),
                Param("threshold", float, -1.0, "P(ink) threshold of the local branch (-1: the model's)",
                      min=-1.0, max=1.0, label="Ink probability threshold"),
                Param("threads", int, 0, "inference threads, each running a slice of a tile batch (0: $DOCBIN_THREADS or one per core)",
                      min=0, max=256, label="Inference threads", advanced=True),
                Param("fuse_global", bool, True, "fuse the local branch with the dilated global branch",
                      label="Fuse the global branch", advanced=True),
                Param("fusion", str, "model",
                      "fusion rule: component (keep local ink components the global ink touches), pixel (the "
                      "paper's local AND global), model (the model's)", choices=("model", *FUSIONS),
                      label="Fusion rule", advanced=True),
                Param("local_tta", bool, True, "average the local generator's maps of each tile and its mirror image",
                      label="Mirror augmentation", advanced=True),
                Param("stage1_window", int, -1,
                      "window of the colour channels' Haar-LL normalisation (-1: the model's; 0: each tile)",
                      min=-1, max=16384, label="Stage-1 window (px)", advanced=True),
                Param("precision", str, DEFAULT_PRECISION,
                      "model weights: fp32 (models/threestage) or 1bit (1-bit convs, int8 activations: "
                      "models/threestage_1bit, where installed)", choices=PRECISIONS, label="Model precision",
                      advanced=True),
            ),
            input="rgb",
            family="learned",
            about=about_model,
            check=model_problem,
            check_params=check_params,
        )
    )


_register()

"""Torch generators -> ONNX files for :mod:`docbin.threestage` (opset >= 17, dynamic N/H/W, sigmoid inside).

Every file is checked twice at export time: ``onnx.checker`` on the graph, and onnxruntime against torch
on a batch of a different spatial size than the tracing input (so the dynamic axes are exercised).
A model set is exported into a temporary folder and moved into place only when all six generators and
the manifest are written, so a failed export never leaves a half-written model folder behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from docbin.errors import ExportError, ModelNotFoundError, ParameterError
from docbin.threestage.models import MANIFEST
from docbin.threestage.pipeline import GENERATORS, IN_CHANNELS, PipelineConfig, Runner

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "p_ink"
# Largest |P_onnx - P_torch| accepted at export time (float32 kernels differ in summation order only).
MAX_ABS_DIFF = 1e-4


class InkProbability(nn.Module):
    """A logits generator followed by the sigmoid: the exported graph outputs P(ink)."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.generator(x))


def torch_runner(generator: nn.Module, device: str | torch.device = "cpu") -> Runner:
    """A :data:`docbin.threestage.pipeline.Runner` over a torch logits generator (eval mode, no grad) on ``device``, for
    the parity test and for training Stage 3 on maps computed exactly as inference computes them."""
    model = InkProbability(generator).to(device).eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(x).to(device)).cpu().numpy()

    return run


def export_generator(generator: nn.Module, path: Path, in_channels: int, opset: int = OPSET) -> float:
    """Write ``generator`` (logits, input pixel/255 NCHW) as an ONNX graph outputting P(ink) with dynamic
    batch/height/width; verify it and return the max |onnxruntime - torch| on a fresh input size."""
    import onnx

    model = InkProbability(generator).eval()
    rng = torch.Generator().manual_seed(0)
    trace_input = torch.rand(1, in_channels, 64, 64, generator=rng)
    dynamic = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but exports these plain conv nets in ~0.1 s, against
        # ~4 s per generator for the torch.export-based one (measured here), with the same graph.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (trace_input,),
            str(path),
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic},
            dynamo=False,
        )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return verify_against_torch(model, path, in_channels)


def verify_against_torch(model: nn.Module, path: Path, in_channels: int) -> float:
    """Max |P_onnxruntime - P_torch| on a 2 x C x 96 x 160 batch; raises :class:`~docbin.errors.ExportError` above tolerance."""
    import onnxruntime as ort

    x = torch.rand(2, in_channels, 96, 160, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: x.numpy()})[0]
    if got.shape != expected.shape:
        raise ExportError(f"{path.name}: onnxruntime output shape {got.shape} != torch {expected.shape}")
    diff = float(np.abs(got - expected).max())
    if diff > MAX_ABS_DIFF:
        raise ExportError(f"{path.name}: onnxruntime differs from torch by {diff:.2e} > {MAX_ABS_DIFF:.0e}")
    return diff


def checkpoint_path(checkpoints: Path, name: str) -> Path:
    """``<name>.pt`` (full, local) if present, else the committed ``<name>.small.pt``."""
    for candidate in (checkpoints / f"{name}.pt", checkpoints / f"{name}.small.pt"):
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(f"no checkpoint {name}.pt or {name}.small.pt in {checkpoints}")


def load_generator(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    """A trained generator from a training checkpoint (``state_dict`` + ``config`` + ``step``), built with
    :func:`docbin.models.networks.build_generator`; returns the module and the checkpoint's metadata."""
    from docbin.models.networks import build_generator

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    config = checkpoint["config"]
    generator = build_generator(config.get("generator", config), config.get("binary"))
    generator.load_state_dict(checkpoint["state_dict"])
    provenance = {"checkpoint": path.name, "step": checkpoint.get("step"), "config": config}
    if "averaged_from" in checkpoint:  # a weight soup (docbin.models.average): the steps of its sources
        provenance["averaged_steps"] = [source["step"] for source in checkpoint["averaged_from"]]
    if "ema_decay" in checkpoint:  # the moving average of a run's weights (TrainConfig.ema)
        provenance["ema_decay"] = checkpoint["ema_decay"]
    return generator.eval(), provenance


def grow_checkpoint(source: Path, out: Path, grow: Callable[[nn.Module], nn.Module],
                    provenance: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``grow`` of ``source``'s float generator as a small checkpoint that ``init_from`` can start the
    grown generator from: its ``state_dict``, ``config`` with the grown base width and depth, ``step`` and
    ``grown_from`` (``provenance`` with the source's path and step). 1-bit checkpoints are refused: grow their
    fp32 source."""
    generator, loaded = load_generator(source)
    if loaded["config"].get("binary") is not None:
        raise ParameterError("only float generators can be grown (widened, deepened): grow a 1-bit one's fp32 source")
    grown = grow(generator)
    config = dict(loaded["config"])
    stem = grown.encoders[0][0]
    config["generator"] = {"in_channels": stem.in_channels, "base": stem.out_channels, "depth": grown.depth}
    small = {
        "state_dict": grown.state_dict(),
        "config": config,
        "step": loaded["step"],
        "grown_from": {"path": str(source), "step": loaded["step"], **provenance},
    }
    save_checkpoint(small, out)
    return small


def save_checkpoint(checkpoint: Mapping[str, Any], out: Path) -> None:
    """Write a (small) checkpoint atomically: to a temporary sibling, then renamed over ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(dict(checkpoint), tmp)
    tmp.replace(out)


def file_entry(path: Path, in_channels: int, provenance: Mapping[str, Any], checks: Mapping[str, Any]) -> dict[str, Any]:
    """One generator's manifest entry: file, input channels, size, sha256, provenance, export checks."""
    data = path.read_bytes()
    return {
        "file": path.name,
        "in_channels": in_channels,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "checkpoint": provenance.get("checkpoint"),
        "step": provenance.get("step"),
        **({"averaged_steps": provenance["averaged_steps"]} if "averaged_steps" in provenance else {}),
        **checks,
    }


def versions(opset: int) -> dict[str, Any]:
    import onnx
    import onnxruntime

    return {"opset": opset, "torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}


ExportOne = Callable[[str, nn.Module, Path], dict[str, Any]]


def export_model_set(
    generators: Mapping[str, tuple[nn.Module, Mapping[str, Any]]],
    out: Path,
    pipeline: PipelineConfig,
    opset: int = OPSET,
    export_one: ExportOne | None = None,
    about: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Export the six generators (name -> (module, provenance)) and ``manifest.json`` into ``out``
    atomically (temporary sibling folder, then rename); returns the manifest. ``export_one(name, module,
    path)`` writes one file and returns its checks (default: the fp32 :func:`export_generator`); ``about``
    adds manifest keys (the 1-bit export's precision, estimator, calibration)."""
    missing = [name for name in GENERATORS if name not in generators]
    if missing:
        raise ModelNotFoundError(f"cannot export a three-stage model without generator(s) {missing}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as staging_name:
        staging = Path(staging_name)
        entries = {}
        for name in GENERATORS:
            module, provenance = generators[name]
            path = staging / f"{name}.onnx"
            if export_one is None:
                checks = {"max_abs_diff_vs_torch": export_generator(module, path, IN_CHANNELS[name], opset)}
            else:
                checks = export_one(name, module, path)
            entries[name] = file_entry(path, IN_CHANNELS[name], provenance, checks)
        manifest = {
            "format": 1,
            **(about or {}),
            "pipeline": asdict(pipeline),
            "input": "float32 NCHW pixel/255; local: M_c = (P_c + P_gray)/2 as 8-bit maps /255",
            "output": "P(ink) in [0, 1], shape (N, 1, H, W); H, W multiples of 2**depth",
            "generators": entries,
            "versions": versions(opset),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n")
        install(staging, out)
    return manifest


def install(staging: Path, out: Path) -> None:
    """Move the exported files from ``staging`` into ``out`` (other files in ``out``, e.g. the model card,
    stay); the manifest goes last so readers never see a manifest naming files not yet in place."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir(), key=lambda p: p.name == MANIFEST):
        shutil.move(str(path), str(out / path.name))


def export_checkpoints(checkpoints: Path, out: Path, pipeline: PipelineConfig, opset: int = OPSET) -> dict[str, Any]:
    """Export ``<checkpoints>/{gray,red,green,blue,local,global}[.small].pt`` into ``out``, the pipeline
    following the generators' training (:func:`trained_pipeline`)."""
    generators = {name: load_generator(checkpoint_path(checkpoints, name)) for name in GENERATORS}
    return export_model_set(generators, out, trained_pipeline(generators, pipeline), opset)


def trained_pipeline(generators: Mapping[str, tuple[nn.Module, Mapping[str, Any]]], pipeline: PipelineConfig) -> PipelineConfig:
    """``pipeline`` with the settings the generators were trained for: Stage 1 with or without the DWT (the
    colour generators' ``dwt``) and the global branch's square (the global generator's ``global_size`` and
    ``global_pad_aspect``)."""
    dwt = {generators[c][1]["config"].get("dwt", True) for c in ("red", "green", "blue")}
    if len(dwt) > 1:
        raise ParameterError("the colour generators were trained with and without the DWT Stage 1: export one kind")
    trained = generators["global"][1]["config"]
    return replace(pipeline, dwt=dwt.pop(), global_size=trained.get("global_size", PipelineConfig.global_size),
                   global_pad_aspect=trained.get("global_pad_aspect", PipelineConfig.global_pad_aspect))

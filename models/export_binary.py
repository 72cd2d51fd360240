"""1-bit generators -> int8 ONNX files for stock onnxruntime, with the sign bits packed 8 per byte.

Per generator (docs/ARCHITECTURE.md, "Binarized weights and ONNX"):

1. BatchNorm folds into the conv before it: a 1-bit conv alpha_c * sign(w) followed by BN is
   (alpha_c gamma_c / sigma_c) * sign(w) + b_c, still one scale per output channel times the signs
   (:func:`docbin.models.binary_deploy.deploy_generator`).
2. U-Net levels narrower than 16 channels (the first, 8 wide) get zero channels in front of their feature
   maps (:func:`docbin.models.binary_deploy.widen_narrow_levels`): the same outputs, but their 1-bit convs
   have the 16 output channels that onnxruntime's fast symmetric int8 conv kernel needs (the 8-channel ones
   ran 3x slower). Then each 2 x 2 stride-2 transposed conv becomes a 1 x 1 conv to 4x its outputs and a pixel
   shuffle done channels-last (:func:`docbin.models.binary_deploy.shuffle_upsampling`): onnxruntime has no int8
   transposed conv, so it ran them in float, between DequantizeLinear, QuantizeLinear and transposes to NCHW.
3. The folded float network is exported (:func:`docbin.models.export.export_generator`) and quantized by
   onnxruntime's static QDQ quantizer (here): int8 activations calibrated on tiles of real training pages
   (never the validation sets), per-channel symmetric int8 weights. A 1-bit conv's weights become exactly
   +-127 with its |scale_c| / 127 as the DequantizeLinear scale. The stem conv and the 1x1 head stay float.
4. The 1-bit convs' +-127 int8 initializers are replaced by their signs packed 8 per byte into one ``uint8``
   initializer and the standard integer ops that rebuild them in the graph, which onnxruntime constant-folds
   at session creation before running the convs as QLinearConv
   (:func:`docbin.models.binary_onnx.pack_binary_weights`, :func:`docbin.models.binary_onnx.optimized_op_types`);
   the pixel shuffles' ``Shape`` nodes read the int8 tensors
   (:func:`docbin.models.binary_onnx.shapes_before_dequantize`), each bias scale is computed as the product of the
   conv's input and weight scales it equals (:func:`docbin.models.binary_onnx.bias_scales_as_products`) and
   identical initializers are stored once (:func:`docbin.models.binary_onnx.deduplicate_initializers`): the
   same numbers in 7 % fewer bytes.

This module holds the calibration, the quantization and the export of a generator, a model set and a
checkpoint folder, and the command line.

The transposed convs (9 % of the weights) are trained real and stored int8 (per-channel, as their 1 x 1 convs),
not 1-bit.

    python -m docbin.models.export_binary --checkpoints models/checkpoints/threestage_1bit --out models/threestage_1bit
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from docbin.errors import ParameterError
from docbin.models.binary_deploy import deploy_generator, shuffle_upsampling, widen_narrow_levels
from docbin.models.binary_onnx import (
    bias_scales_as_products,
    compact_names,
    deduplicate_initializers,
    optimized_op_types,
    pack_binary_weights,
    shapes_before_dequantize,
)
from docbin.models.data import STAGE2, Page, load_pages
from docbin.models.export import (
    INPUT_NAME,
    InkProbability,
    checkpoint_path,
    export_generator,
    export_model_set,
    load_generator,
    torch_runner,
    trained_pipeline,
)
from docbin.preprocess import split_channels
from docbin.threestage.pipeline import (
    GENERATORS,
    IN_CHANNELS,
    TILE_MULTIPLE,
    PipelineConfig,
    Runner,
    global_square,
    merged_maps,
    stage1_page,
)

__all__ = [
    "CALIBRATION_TILE",
    "CALIBRATION_TILES",
    "PRECISION",
    "BatchReader",
    "binary_settings",
    "calibration_batches",
    "export_binary_checkpoints",
    "export_binary_generator",
    "export_binary_model_set",
    "generator_inputs",
    "ink_agreement",
    "quantize",
]

PRECISION = "1bit-int8"
QUANTIZED_OPS = ["Conv", "Relu", "MaxPool", "Concat", "Transpose", "Reshape"]  # the last two: the pixel shuffles
CALIBRATION_TILE = 256
CALIBRATION_TILES = 32


# ---------------------------------------------------------------------------------------------------
# Calibration: tiles of real training pages as each generator sees them
# ---------------------------------------------------------------------------------------------------


CALIBRATION_WINDOW = 1024  # calibration pages are cropped to one Stage-1 window (the global branch sees them whole)


def generator_inputs(name: str, pages: Sequence[Page], cfg: PipelineConfig, stage2: Mapping[str, Runner],
                     seed: int = 0) -> list[np.ndarray]:
    """Each page as the generator ``name`` sees it (``uint8``, (H, W) or (H, W, 3)): the global branch's
    square of the whole page, or for the others a random ``CALIBRATION_WINDOW`` crop of it as its Stage-1
    channel view or (local) the merged map M of the ``stage2`` runners."""
    if name == "global":
        return [global_square(page.rgb, cfg)[0] for page in pages]
    rng = np.random.default_rng(seed)
    crops = []
    for page in pages:
        h, w = page.rgb.shape[:2]
        y = int(rng.integers(max(1, h - CALIBRATION_WINDOW + 1)))
        x = int(rng.integers(max(1, w - CALIBRATION_WINDOW + 1)))
        crops.append(page.rgb[y : y + CALIBRATION_WINDOW, x : x + CALIBRATION_WINDOW])
    if name == "local":
        return [merged_maps(crop, stage2, cfg) for crop in crops]
    views = [split_channels(crop)[name] for crop in crops]
    return views if name == "gray" else [stage1_page(view, name, cfg) for view in views]


def calibration_batches(images: Sequence[np.ndarray], tile: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` random ``tile`` x ``tile`` crops of ``images`` (whole images when smaller), cut to sides the
    U-Nets take (multiples of :data:`docbin.threestage.pipeline.TILE_MULTIPLE`), as float32 NCHW pixel/255 batches of one."""
    rng = np.random.default_rng(seed)
    batches = []
    for i in range(count):
        image = images[i % len(images)]
        h, w = image.shape[:2]
        y, x = int(rng.integers(max(1, h - tile + 1))), int(rng.integers(max(1, w - tile + 1)))
        crop = image[y : y + tile, x : x + tile].astype(np.float32) / 255.0
        crop = crop[: crop.shape[0] // TILE_MULTIPLE * TILE_MULTIPLE, : crop.shape[1] // TILE_MULTIPLE * TILE_MULTIPLE]
        batches.append(crop[None, None] if crop.ndim == 2 else crop.transpose(2, 0, 1)[None].copy())
    return batches


class BatchReader:
    """An onnxruntime ``CalibrationDataReader`` over a list of input batches."""

    def __init__(self, batches: Sequence[np.ndarray]) -> None:
        self.batches: Iterator[np.ndarray] = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        x = next(self.batches, None)
        return None if x is None else {INPUT_NAME: x}


# ---------------------------------------------------------------------------------------------------
# Quantization of the ONNX graph
# ---------------------------------------------------------------------------------------------------


def float_conv_nodes(model: Any, upsampling: bool = False) -> list[str]:
    """Names of the convs kept in float: the stem (it reads the graph input) and the head (its output goes to
    the sigmoid), and with ``upsampling`` the 1 x 1 convs of the pixel shuffles (their output is transposed)."""
    graph = model.graph
    into_sigmoid = {n.input[0] for n in graph.node if n.op_type == "Sigmoid"}
    into_transpose = {n.input[0] for n in graph.node if n.op_type == "Transpose"} if upsampling else set()
    return [n.name for n in graph.node if n.op_type == "Conv"
            and (n.input[0] == graph.input[0].name or n.output[0] in into_sigmoid | into_transpose)]


def quantize(fp32_path: Path, out_path: Path, batches: Sequence[np.ndarray], float_transposed: bool = False) -> None:
    """Static QDQ quantization of ``fp32_path`` (int8 activations calibrated with MinMax on ``batches``,
    per-channel int8 weights), the stem and head convs left float, and the up-sampling (transposed) convs too
    when ``float_transposed`` (fp32 weights: the reference that shows what their int8 storage changes)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(
        str(fp32_path), str(out_path), BatchReader(batches), quant_format=QuantFormat.QDQ,
        op_types_to_quantize=QUANTIZED_OPS, per_channel=True, activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8, nodes_to_exclude=float_conv_nodes(onnx.load(str(fp32_path)), float_transposed),
        calibrate_method=CalibrationMethod.MinMax,
    )


def ink_agreement(generator: nn.Module, path: Path, batches: Sequence[np.ndarray], threshold: float = 0.5) -> float:
    """Fraction of pixels of ``batches`` where torch's 1-bit ``generator`` (float activations) and the int8
    ONNX file agree on ink (P(ink) > ``threshold``)."""
    import onnxruntime as ort

    model = InkProbability(generator).eval()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    same = total = 0
    for x in batches:
        with torch.inference_mode():
            expected = model(torch.from_numpy(x)).numpy() > threshold
        got = session.run(None, {INPUT_NAME: x})[0] > threshold
        same, total = same + int((expected == got).sum()), total + expected.size
    return same / total


def export_binary_generator(generator: nn.Module, path: Path, in_channels: int, batches: Sequence[np.ndarray],
                            float_transposed: bool = False) -> dict[str, Any]:
    """Write the 1-bit ``generator`` as a packed-bit int8 ONNX file calibrated on ``batches`` (transposed convs
    in float with ``float_transposed``, :func:`quantize`); returns its export checks: packed weights, torch
    agreement on the ink of ``batches``, optimised op counts."""
    import onnx

    deploy, binary = deploy_generator(generator)
    if not binary:
        raise ParameterError("the generator has no 1-bit convs: export it with docbin.models.export instead")
    widened = widen_narrow_levels(deploy)
    shuffle_upsampling(deploy)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32, qdq = Path(tmp) / "fp32.onnx", Path(tmp) / "qdq.onnx"
        max_diff = export_generator(deploy, fp32, in_channels)
        quantize(fp32, qdq, batches, float_transposed)
        model = onnx.load(str(qdq))
        packed = pack_binary_weights(model, binary)
        shapes_before_dequantize(model)
        bias_scales_as_products(model)
        deduplicate_initializers(model)
        compact_names(model)
        onnx.checker.check_model(model, full_check=True)
        staged = Path(tmp) / path.name
        onnx.save(model, str(staged))
        staged.replace(path)
    ops = optimized_op_types(path)
    return {
        "binary_convs": len(binary),
        "zero_channels_added": widened,
        "packed_weights": packed,
        "deploy_max_abs_diff": max_diff,
        "ink_agreement_vs_torch": ink_agreement(generator, path, batches),
        "optimized_ops": {op: ops[op] for op in sorted(ops) if op.startswith(("QLinear", "Conv", "Quantize", "Dequantize"))},
    }


# ---------------------------------------------------------------------------------------------------
# A model set
# ---------------------------------------------------------------------------------------------------


def export_binary_model_set(
    generators: Mapping[str, tuple[nn.Module, Mapping[str, Any]]],
    out: Path,
    pipeline: PipelineConfig,
    pages: Sequence[Page],
    tiles: int = CALIBRATION_TILES,
    tile: int = CALIBRATION_TILE,
    about: Mapping[str, Any] | None = None,
    float_transposed: bool = False,
) -> dict[str, Any]:
    """Export the six 1-bit generators (name -> (module, provenance)) as packed-bit int8 files and the
    manifest (``precision: 1bit-int8``) into ``out`` atomically; each generator is calibrated on ``tiles``
    crops of ``pages`` as it sees them (local: the maps of the 1-bit Stage-2 generators run by torch); the
    transposed convs' weights are int8 per channel, or fp32 with ``float_transposed``."""
    stage2 = {name: torch_runner(generators[name][0]) for name in STAGE2 if name in generators}

    def export_one(name: str, module: nn.Module, path: Path) -> dict[str, Any]:
        batches = calibration_batches(generator_inputs(name, pages, pipeline, stage2), tile, tiles)
        return export_binary_generator(module, path, IN_CHANNELS[name], batches, float_transposed)

    calibration = {"pages": len(pages), "tiles": tiles, "tile": tile, "method": "MinMax"}
    transposed = f"{'fp32' if float_transposed else 'int8 per channel'} (1x1 conv + channels-last pixel shuffle)"
    return export_model_set(generators, out, pipeline, export_one=export_one,
                            about={"precision": PRECISION, **(about or {}), "calibration": calibration,
                                   "transposed_convs": transposed})


def binary_settings(generators: Mapping[str, tuple[nn.Module, Mapping[str, Any]]]) -> dict[str, Any]:
    """The 1-bit training settings of a model set (estimator, alpha, ...) for its manifest; ``ValueError``
    when a generator was not trained 1-bit."""
    settings = {name: provenance["config"].get("binary") for name, (_, provenance) in generators.items()}
    fp32 = [name for name, value in settings.items() if value is None]
    if fp32:
        raise ParameterError(f"{fp32} are fp32 checkpoints: export them with docbin export")
    estimators = sorted({value["estimator"] for value in settings.values()})
    return {"estimator": estimators[0] if len(estimators) == 1 else estimators,
            "binary": {name: {k: v for k, v in value.items() if k != "distill_from"} for name, value in settings.items()}}


def export_binary_checkpoints(checkpoints: Path, out: Path, data_root: Path, sets: Sequence[str],
                              pipeline: PipelineConfig, pages: int = 8, tiles: int = CALIBRATION_TILES,
                              seed: int = 0, float_transposed: bool = False) -> dict[str, Any]:
    """Export ``<checkpoints>/{gray,...,global}[.small].pt`` (1-bit) into ``out``, calibrated on ``pages``
    pages drawn (``seed``) from the training ``sets`` under ``data_root`` (:func:`export_binary_model_set`)."""
    generators = {name: load_generator(checkpoint_path(checkpoints, name)) for name in GENERATORS}
    about = binary_settings(generators)
    loaded = load_pages(data_root, sets)
    chosen = np.random.default_rng(seed).choice(len(loaded), size=min(pages, len(loaded)), replace=False)
    calibration_pages = [loaded[i] for i in sorted(chosen)]
    about = about | {"calibration_sets": list(sets)}
    return export_binary_model_set(generators, out, trained_pipeline(generators, pipeline), calibration_pages, tiles,
                                   about=about, float_transposed=float_transposed)


def main() -> None:
    from docbin.models.train import TRAIN_SETS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", type=Path, default=Path("models/checkpoints/threestage_1bit"))
    parser.add_argument("--out", type=Path, default=Path("models/threestage_1bit"))
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sets", nargs="+", default=TRAIN_SETS, help="training sets to calibrate on (never dev sets)")
    parser.add_argument("--pages", type=int, default=8, help="calibration pages drawn from the sets")
    parser.add_argument("--tiles", type=int, default=CALIBRATION_TILES, help="calibration tiles per generator")
    parser.add_argument("--pipeline", type=Path, default=None,
                        help="take the pipeline settings from this manifest (default: the fp32 model's)")
    parser.add_argument("--float-transposed", action="store_true",
                        help="keep the transposed convs' weights fp32 (a reference for their int8 storage)")
    args = parser.parse_args()
    from docbin.threestage.models import load_model

    pipeline = (PipelineConfig.from_mapping(json.loads(args.pipeline.read_text())["pipeline"]) if args.pipeline
                else load_model(precision="fp32").config)
    manifest = export_binary_checkpoints(args.checkpoints, args.out, args.data_root, args.sets, pipeline,
                                         args.pages, args.tiles, float_transposed=args.float_transposed)
    for name, entry in manifest["generators"].items():
        print(f"{name:<7} {entry['bytes'] / 1e3:7.1f} kB  packed {entry['packed_weights']} weights  ink agreement "
              f"{entry['ink_agreement_vs_torch']:.5f}  {entry['optimized_ops']}")


if __name__ == "__main__":
    main()

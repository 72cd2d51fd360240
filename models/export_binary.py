"""1-bit generators -> int8 ONNX files for stock onnxruntime, with the sign bits packed 8 per byte.

Per generator (docs/ARCHITECTURE.md, "Binarized weights and ONNX"):

1. BatchNorm folds into the conv before it: a 1-bit conv alpha_c * sign(w) followed by BN is
   (alpha_c gamma_c / sigma_c) * sign(w) + b_c, still one scale per output channel times the signs.
2. U-Net levels narrower than 16 channels (the first, 8 wide) get zero channels in front of their feature
   maps (:func:`widen_narrow_levels`): the same outputs, but their 1-bit convs have the 16 output channels
   that onnxruntime's fast symmetric int8 conv kernel needs (the 8-channel ones ran 3x slower).
3. The folded float network is exported (:func:`docbin.models.export.export_generator`) and quantized by
   onnxruntime's static QDQ quantizer: int8 activations calibrated on tiles of real training pages (never
   the validation sets), per-channel symmetric int8 weights. A 1-bit conv's weights become exactly +-127
   with its |scale_c| / 127 as the DequantizeLinear scale. The stem conv and the 1x1 head stay float.
4. The 1-bit convs' +-127 int8 initializers are replaced by their signs packed 8 per byte into one ``uint8``
   initializer and the integer ops that rebuild them in the graph (bit k = byte // 2^k mod 2, then
   254 bit - 127, once for all; then per conv a Slice, a Reshape and, for a widened conv, a Pad with its zero
   channels): standard ops that onnxruntime constant-folds at session creation, after which its QDQ fusion
   runs the convs as QLinearConv (:func:`optimized_op_types` checks it).

The transposed convs (9 % of the weights) are trained real and stored int8 (per-channel), not 1-bit.

    python -m docbin.models.export_binary --checkpoints models/checkpoints/threestage_1bit --out models/threestage_1bit
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from docbin.errors import ParameterError
from docbin.models.binary import BinaryConv2d
from docbin.models.data import STAGE2, Page, load_pages
from docbin.models.export import (
    INPUT_NAME,
    InkProbability,
    checkpoint_path,
    export_generator,
    export_model_set,
    load_generator,
    torch_runner,
)
from docbin.models.networks import UNetGenerator
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

PRECISION = "1bit-int8"
BIT_VALUES = [1 << k for k in range(8)]  # bit k of a packed byte (least significant first) weighs 2^k
QUANTIZED_OPS = ["Conv", "Relu", "ConvTranspose", "MaxPool", "Concat"]
CALIBRATION_TILE = 256
CALIBRATION_TILES = 32


def pack_signs(weights: np.ndarray) -> np.ndarray:
    """The signs of ``weights`` (> 0 is a set bit), flattened in C order and packed 8 per byte, least
    significant bit first (``uint8``, ceil(size / 8) bytes)."""
    return np.packbits(weights.reshape(-1) > 0, bitorder="little")


def unpack_signs(packed: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``int8`` +-127 weights of ``shape`` from :func:`pack_signs` bytes: what the graph computes."""
    count = int(np.prod(shape))
    bits = packed.astype(np.int32)[:, None] // np.array(BIT_VALUES, dtype=np.int32) % 2
    return (bits * 254 - 127).astype(np.int8).reshape(-1)[:count].reshape(shape)


# ---------------------------------------------------------------------------------------------------
# The float deploy network: BN folded, 1-bit convs as plain convs with alpha'_c * sign(w)
# ---------------------------------------------------------------------------------------------------


def plain_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A plain ``nn.Conv2d`` with ``conv``'s effective weights (alpha_c * sign(w) for a 1-bit conv)."""
    plain = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,  # type: ignore[arg-type]
                      conv.dilation, conv.groups, bias=conv.bias is not None)
    weight = conv.binary_weight() if isinstance(conv, BinaryConv2d) else conv.weight
    plain.weight.data.copy_(weight.detach())
    plain.eval()
    if conv.bias is not None:
        plain.bias.data.copy_(conv.bias.detach())
    return plain


def deploy_generator(generator: nn.Module) -> tuple[nn.Module, list[str]]:
    """A float copy of ``generator`` (eval mode) with every conv -> BatchNorm pair folded into one conv and
    the 1-bit convs' weights alpha_c * sign(w) in place; returns it with the names of its 1-bit convs."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    deploy = copy.deepcopy(generator).eval()
    binary = []
    for name, module in list(deploy.named_modules()):
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(module, conv_name, fuse_conv_bn_eval(plain_conv(conv), bn.eval()))
                setattr(module, bn_name, nn.Identity())
                if isinstance(conv, BinaryConv2d):
                    binary.append(f"{name}.{conv_name}")
    return deploy, binary


# ---------------------------------------------------------------------------------------------------
# Narrow levels widened with zero channels, for onnxruntime's fast int8 conv kernel
# ---------------------------------------------------------------------------------------------------


# MLAS's symmetric int8 conv (the indirect-GEMM kernel QLinearConv uses with zero weight zero-points) takes
# convs with >= 16 output channels (MlasConvSymPackWSize, onnxruntime/core/mlas/lib/convsym.cpp); an 8-channel
# conv falls back to im2col + GEMM, ~3x slower here at 512^2 than the same conv zero-padded to 16 outputs.
FAST_INT8_OUT_CHANNELS = 16


def padded(layer: nn.Conv2d | nn.ConvTranspose2d, out_before: int = 0, in_before: int = 0) -> nn.Module:
    """A copy of the (transposed, ungrouped) conv ``layer`` with ``out_before`` zero output channels in front
    of its own and ``in_before`` leading input channels that it ignores (zero weights): the same numbers,
    shifted."""
    transposed = isinstance(layer, nn.ConvTranspose2d)
    out_axis, in_axis = (1, 0) if transposed else (0, 1)
    weight = layer.weight.detach()
    shape = list(weight.shape)
    shape[out_axis] += out_before
    shape[in_axis] += in_before
    wide = copy.deepcopy(layer)
    wide.weight = nn.Parameter(torch.zeros(shape, dtype=weight.dtype))
    block = wide.weight.data.narrow(out_axis, out_before, weight.shape[out_axis])
    block.narrow(in_axis, in_before, weight.shape[in_axis]).copy_(weight)
    wide.in_channels, wide.out_channels = layer.in_channels + in_before, layer.out_channels + out_before
    if layer.bias is not None:
        wide.bias = nn.Parameter(torch.cat([torch.zeros(out_before, dtype=weight.dtype), layer.bias.detach()]))
    return wide


def widen_narrow_levels(deploy: UNetGenerator, minimum: int = FAST_INT8_OUT_CHANNELS) -> dict[int, int]:
    """Give every U-Net level narrower than ``minimum`` channels ``minimum - width`` zero channels in front of
    its feature maps (the convs that write them get zero output channels, the ones that read them ignore
    them), so its 1-bit convs have ``minimum`` outputs; the float stem's output, the transposed convs'
    outputs and the network's output are unchanged. Returns the zero channels added per level."""
    widths = [deploy.encoders[level][3].out_channels for level in range(deploy.depth + 1)]
    pad = {level: max(0, minimum - width) for level, width in enumerate(widths)}
    for level in range(deploy.depth + 1):
        encoder = deploy.encoders[level]
        below = pad[level - 1] if level else 0  # channels in front of this level's input (the pooled maps)
        if level:  # the stem (encoder 0's first conv) keeps its output: it stays float
            encoder[0] = padded(encoder[0], pad[level], below)
        encoder[3] = padded(encoder[3], pad[level], pad[level] if level else 0)
    for level in range(deploy.depth):
        deploy.ups[level] = padded(deploy.ups[level], in_before=pad[level + 1])
        decoder = deploy.decoders[level]  # reads cat(skip with its zero channels in front, upsampled)
        decoder[0] = padded(decoder[0], pad[level], pad[level])
        decoder[3] = padded(decoder[3], pad[level], pad[level])
    deploy.head = padded(deploy.head, in_before=pad[0])
    return {level: count for level, count in pad.items() if count}


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
# Quantization and bit packing of the ONNX graph
# ---------------------------------------------------------------------------------------------------


def float_conv_nodes(model: Any) -> list[str]:
    """Names of the convs kept in float: the stem (it reads the graph input) and the head (its output goes to
    the sigmoid)."""
    graph = model.graph
    into_sigmoid = {n.input[0] for n in graph.node if n.op_type == "Sigmoid"}
    return [n.name for n in graph.node if n.op_type == "Conv"
            and (n.input[0] == graph.input[0].name or n.output[0] in into_sigmoid)]


def quantize(fp32_path: Path, out_path: Path, batches: Sequence[np.ndarray], float_transposed: bool = False) -> None:
    """Static QDQ quantization of ``fp32_path`` (int8 activations calibrated with MinMax on ``batches``,
    per-channel int8 weights), the stem and head convs left float, and the transposed convs too when
    ``float_transposed`` (fp32 weights: the reference that shows what their int8 storage changes)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    op_types = [op for op in QUANTIZED_OPS if not (float_transposed and op == "ConvTranspose")]
    quantize_static(
        str(fp32_path), str(out_path), BatchReader(batches), quant_format=QuantFormat.QDQ,
        op_types_to_quantize=op_types, per_channel=True, activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8, nodes_to_exclude=float_conv_nodes(onnx.load(str(fp32_path))),
        calibrate_method=CalibrationMethod.MinMax,
    )


UNPACK_CONSTANTS = {
    "bit_values": np.array([BIT_VALUES], dtype=np.int32),  # (1, 8): byte // 2^k % 2 is bit k
    "two": np.array(2, dtype=np.int32),
    "to_sign": np.array(254, dtype=np.int32),  # bit * 254 - 127: 0 -> -127, 1 -> +127
    "offset": np.array(127, dtype=np.int32),
    "column": np.array([-1, 1], dtype=np.int64),
    "flat": np.array([-1], dtype=np.int64),
}
SIGNS = "unpack_signs"  # every 1-bit conv's +-127 signs, flattened one after the other


def unpack_nodes(bits: str, out: str) -> list[Any]:
    """The standard-op graph that rebuilds the flat +-127 ``int8`` tensor ``out`` from the packed ``uint8``
    ``bits`` (:func:`pack_signs`): bit k of byte b is b // 2^k mod 2 (integer Div and Mod)."""
    from onnx import TensorProto

    c = {key: f"unpack_{key}" for key in UNPACK_CONSTANTS}
    return chain(bits, out, [
        ("Cast", [None], {"to": TensorProto.INT32}),
        ("Reshape", [None, c["column"]], {}),
        ("Div", [None, c["bit_values"]], {}),
        ("Mod", [None, c["two"]], {}),
        ("Mul", [None, c["to_sign"]], {}),
        ("Sub", [None, c["offset"]], {}),
        ("Cast", [None], {"to": TensorProto.INT8}),
        ("Reshape", [None, c["flat"]], {}),
    ])


def chain(first: str, out: str, steps: Sequence[tuple[str, Sequence[str | None], Mapping[str, Any]]]) -> list[Any]:
    """ONNX nodes applying ``steps`` (op, inputs with ``None`` for the previous step's output, attributes)
    one after the other to ``first``; the last one writes ``out``."""
    from onnx import helper

    nodes, previous = [], first
    for i, (op, inputs, attributes) in enumerate(steps):
        output = out if i == len(steps) - 1 else f"{out}_{i}"
        nodes.append(helper.make_node(op, [previous if x is None else x for x in inputs], [output], **attributes))
        previous = output
    return nodes


def sign_block(weight: np.ndarray) -> tuple[slice, slice]:
    """The (output, input) channel ranges of a 1-bit conv's int8 ``weight`` that hold its +-127 signs, the
    rest being the zero channels of :func:`widen_narrow_levels`; ``ValueError`` when it is not of that form
    (the quantizer did not see a per-channel scale times signs)."""
    nonzero = weight != 0
    rows, cols = np.flatnonzero(nonzero.any(axis=(1, 2, 3))), np.flatnonzero(nonzero.any(axis=(0, 2, 3)))
    block = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)) if rows.size else (slice(0, 0), slice(0, 0))
    if weight.dtype != np.int8 or not np.isin(weight[block], (-127, 127)).all() or nonzero.sum() != weight[block].size:
        raise ValueError("quantized weights are not +-127 signs (in a block of channels)")
    return block


def pack_binary_weights(model: Any, binary: Sequence[str]) -> int:
    """Replace the int8 initializers of the 1-bit convs in ``binary`` (module names) by their signs packed 8
    per byte into one ``uint8`` initializer and the nodes that rebuild them: :func:`unpack_nodes` once, then
    per conv a Slice of the flat signs, a Reshape and (for a widened conv) a Pad with its zero channels.
    Returns the number of signs packed; ``ValueError`` when a weight is not +-127 (:func:`sign_block`)."""
    from onnx import numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    signs, offset, nodes, constants = [], 0, [], []
    for module in binary:
        name = next((n for n in initializers if n.startswith(f"generator.{module}.weight") and n.endswith("_quantized")),
                    None)
        if name is None:
            raise ValueError(f"no quantized weight for the 1-bit conv {module}")
        weight = numpy_helper.to_array(initializers[name])
        try:
            outputs, inputs = sign_block(weight)
        except ValueError as exc:
            raise ValueError(f"{module}: {exc}, cannot store them as bits") from None
        block = weight[outputs, inputs]
        graph.initializer.remove(initializers[name])
        signs.append(block.reshape(-1))
        pads = [outputs.start, inputs.start, 0, 0, weight.shape[0] - outputs.stop, weight.shape[1] - inputs.stop, 0, 0]
        values = {"start": [offset], "end": [offset + block.size], "shape": block.shape}
        if any(pads):
            values["pads"] = pads
        constants += [numpy_helper.from_array(np.array(v, dtype=np.int64), f"{name}_{k}") for k, v in values.items()]
        steps = [("Slice", [None, f"{name}_start", f"{name}_end"], {}), ("Reshape", [None, f"{name}_shape"], {})]
        nodes += chain(SIGNS, name, steps + ([("Pad", [None, f"{name}_pads"], {})] if "pads" in values else []))
        offset += block.size
    constants.append(numpy_helper.from_array(pack_signs(np.concatenate(signs)), f"{SIGNS}_bits"))
    constants += [numpy_helper.from_array(v, f"unpack_{k}") for k, v in UNPACK_CONSTANTS.items()]
    graph.initializer.extend(constants)
    for i, node in enumerate(unpack_nodes(f"{SIGNS}_bits", SIGNS) + nodes):  # before their users (topological order)
        graph.node.insert(i, node)
    return offset


def compact_names(model: Any) -> None:
    """Rename every node (to nothing) and every tensor but the graph's input and output (to ``t<i>``): the
    quantizer's descriptive names are a third of a 1-bit file's bytes."""
    graph = model.graph
    keep = {v.name for v in (*graph.input, *graph.output)}
    names: dict[str, str] = {}

    def short(name: str) -> str:
        if not name or name in keep:
            return name
        return names.setdefault(name, f"t{len(names)}")

    for init in graph.initializer:
        init.name = short(init.name)
    for node in graph.node:
        node.name = ""
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]
    del graph.value_info[:]


def optimized_op_types(path: Path, optimized: Path | None = None) -> dict[str, int]:
    """Op type counts of onnxruntime's optimised graph of ``path`` (level ALL, CPU), written to
    ``optimized`` (or a temporary file)."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        target = optimized or Path(tmp) / "optimized.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(target)
        options.log_severity_level = 3  # not the warning that an NCHWc-optimised graph is machine-specific
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        counts: dict[str, int] = {}
        for node in onnx.load(str(target)).graph.node:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


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
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32, qdq = Path(tmp) / "fp32.onnx", Path(tmp) / "qdq.onnx"
        max_diff = export_generator(deploy, fp32, in_channels)
        quantize(fp32, qdq, batches, float_transposed)
        model = onnx.load(str(qdq))
        packed = pack_binary_weights(model, binary)
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
    transposed = "fp32" if float_transposed else "int8 per channel"
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
    dwt = {generators[c][1]["config"].get("dwt", True) for c in ("red", "green", "blue")}
    if len(dwt) > 1:
        raise ParameterError("the colour generators were trained with and without the DWT Stage 1: export one kind")
    loaded = load_pages(data_root, sets)
    chosen = np.random.default_rng(seed).choice(len(loaded), size=min(pages, len(loaded)), replace=False)
    calibration_pages = [loaded[i] for i in sorted(chosen)]
    about = about | {"calibration_sets": list(sets)}
    return export_binary_model_set(generators, out, replace(pipeline, dwt=dwt.pop()), calibration_pages, tiles,
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

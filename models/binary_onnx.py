"""The quantized ONNX graph of a 1-bit generator: its +-127 int8 conv weights stored as sign bits packed 8 per
byte, its shapes read from int8 tensors, its tensor names compacted, and onnxruntime's optimised graph inspected
(docs/ARCHITECTURE.md, "Binarized weights and ONNX").

:func:`pack_binary_weights` replaces the 1-bit convs' int8 initializers by one ``uint8`` initializer and the
integer ops that rebuild them in the graph (bit k = byte // 2^k mod 2, then 254 bit - 127, once for all; then
per conv a Slice, a Reshape and, for a widened conv, a Pad with its zero channels): standard ops that
onnxruntime constant-folds at session creation, after which its QDQ fusion runs the convs as QLinearConv
(:func:`optimized_op_types` checks it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BIT_VALUES",
    "bias_scales_as_products",
    "chain",
    "compact_names",
    "deduplicate_initializers",
    "optimized_op_types",
    "pack_binary_weights",
    "pack_signs",
    "shapes_before_dequantize",
    "sign_block",
    "unpack_nodes",
    "unpack_signs",
]

BIT_VALUES = [1 << k for k in range(8)]  # bit k of a packed byte (least significant first) weighs 2^k


def pack_signs(weights: np.ndarray) -> np.ndarray:
    """The signs of ``weights`` (> 0 is a set bit), flattened in C order and packed 8 per byte, least
    significant bit first (``uint8``, ceil(size / 8) bytes)."""
    return np.packbits(weights.reshape(-1) > 0, bitorder="little")


def unpack_signs(packed: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``int8`` +-127 weights of ``shape`` from :func:`pack_signs` bytes: what the graph computes."""
    count = int(np.prod(shape))
    bits = packed.astype(np.int32)[:, None] // np.array(BIT_VALUES, dtype=np.int32) % 2
    return (bits * 254 - 127).astype(np.int8).reshape(-1)[:count].reshape(shape)


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
    rest being the zero channels of :func:`docbin.models.binary_deploy.widen_narrow_levels`; ``ValueError``
    when it is not of that form (the quantizer did not see a per-channel scale times signs)."""
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


def shapes_before_dequantize(model: Any) -> int:
    """Make every ``Shape`` of a ``DequantizeLinear`` output read the quantized tensor instead (the same dims),
    dropping a ``DequantizeLinear`` left without readers: onnxruntime otherwise dequantizes a whole feature map to
    read its size (the reshapes of :class:`docbin.models.binary_deploy.ChannelsLastShuffle`). Returns the number
    of ``Shape`` nodes moved."""
    graph = model.graph
    dequantized = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "DequantizeLinear"}
    moved = 0
    for node in graph.node:
        if node.op_type == "Shape" and node.input[0] in dequantized:
            node.input[0] = dequantized[node.input[0]]
            moved += 1
    read = {name for node in graph.node for name in node.input} | {v.name for v in graph.output}
    unread = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.output[0] not in read]
    for node in unread:
        graph.node.remove(node)
    return moved


def bias_scales_as_products(model: Any) -> int:
    """Compute the scale of every quantized conv bias in the graph, as the ``Mul`` of the conv's input and
    weight scales that onnxruntime constant-folds, where the stored scale is exactly that float32 product (the
    quantizer's choice: s_b = s_x s_w, so b_q = round(b / s_b)): the same numbers, a vector less per conv.
    Returns the number of scales replaced."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    producers = {out: node for node in graph.node for out in node.output}
    replaced = []
    for node in graph.node:
        dequantized = [producers.get(name) for name in node.input]
        if node.op_type != "Conv" or len(dequantized) != 3 or not all(
                d is not None and d.op_type == "DequantizeLinear" for d in dequantized):
            continue
        x_scale, w_scale, b_scale = (d.input[1] for d in dequantized)  # type: ignore[union-attr]
        if not {x_scale, w_scale, b_scale} <= initializers.keys() or b_scale in replaced:
            continue
        product = numpy_helper.to_array(initializers[x_scale]) * numpy_helper.to_array(initializers[w_scale])
        if np.array_equal(product.astype(np.float32), numpy_helper.to_array(initializers[b_scale])):
            graph.initializer.remove(initializers[b_scale])
            graph.node.insert(0, helper.make_node("Mul", [x_scale, w_scale], [b_scale]))  # reads initializers only
            replaced.append(b_scale)
    return len(replaced)


def deduplicate_initializers(model: Any) -> int:
    """Keep one of every set of identical initializers (type, shape and bytes: the quantizer writes a zero-point
    vector per conv, a scale per tensor) and make every node read it. Returns the number dropped."""
    from onnx import numpy_helper

    graph = model.graph
    first: dict[tuple[int, tuple[int, ...], bytes], str] = {}
    alias: dict[str, str] = {}
    for init in list(graph.initializer):
        key = (init.data_type, tuple(init.dims), numpy_helper.to_array(init).tobytes())
        if key in first:
            alias[init.name] = first[key]
            graph.initializer.remove(init)
        else:
            first[key] = init.name
    for node in graph.node:
        node.input[:] = [alias.get(name, name) for name in node.input]
    return len(alias)


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

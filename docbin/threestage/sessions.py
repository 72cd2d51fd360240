"""onnxruntime sessions of generator files, the runners over them, and the process's cache of sessions.

The session settings are tuned for CPU inference on a few cores (measurements in the docstrings below);
the pipeline itself (:mod:`docbin.threestage.pipeline`) knows nothing of onnxruntime.

Public API
----------
onnx_runner
    A :data:`~docbin.threestage.pipeline.Runner` over a model file's cached session, splitting each batch
    over inference threads.
onnx_session, SESSIONS
    This process's session per model file and the :class:`~docbin.caching.KeyedCache` holding them
    (``docbin.clear_caches()`` releases them).
new_onnx_session, register_shared_arena
    A fresh tuned session and the shared CPU arena every session allocates from.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from docbin.caching import KeyedCache
from docbin.errors import ModelNotFoundError
from docbin.threads import default_threads, shared_pool
from docbin.threestage.pipeline import Runner

__all__ = ["SESSIONS", "new_onnx_session", "onnx_runner", "onnx_session", "register_shared_arena"]


@functools.lru_cache(maxsize=None)
def register_shared_arena() -> None:
    """Register, once per process, the CPU arena every docbin session allocates from.

    The arena grows by exactly what is requested (``kSameAsRequested``), has no cap and keeps what it holds
    for the next call. Measured on the 2-core machine (four Stage-2 generators, 2 tiles of 512^2 per call):
    1.3x faster than no arena (each call then maps and faults in fresh pages for its activations) at lower
    peak RSS (261 vs 394 MB); a default arena per session was as fast but held ~0.6 GB more at 3 MP
    (power-of-two growth, one arena for each of the six sessions).

    Returns
    -------
    None
        Later calls do nothing (the function is cached).
    """
    import onnxruntime as ort

    memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    # OrtArenaCfg(max_mem 0 = no cap, extend strategy 1 = kSameAsRequested, default chunk sizes)
    ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, 1, -1, -1))


SESSIONS: KeyedCache[str, Any] = KeyedCache("onnxruntime sessions per model file", maxsize=None)


def onnx_session(path: str) -> Any:
    """This process's onnxruntime session of a model file, created once and kept in :data:`SESSIONS`.

    ``docbin.clear_caches()`` releases the sessions.

    Parameters
    ----------
    path : str
        The ONNX file; the cache key.

    Returns
    -------
    onnxruntime.InferenceSession
        The session of :func:`new_onnx_session`.

    Raises
    ------
    ModelNotFoundError
        When onnxruntime cannot load the file.
    """
    return SESSIONS.get(path, lambda: new_onnx_session(path))


def new_onnx_session(path: str) -> Any:
    """A fresh single-threaded onnxruntime CPU session allocating from :func:`register_shared_arena`.

    Graph optimisation ALL, one intra-op and one inter-op thread, sequential execution. Parallelism comes from
    :func:`onnx_runner` running slices of a tile batch on worker threads instead: on 2 cores, 2 threads x
    ``intra_op_num_threads=1`` ran the generators 1.2x faster than one call with ``intra_op_num_threads=2``
    (5.6 vs 4.6 MP/s, measured here).

    Memory patterns are off: each tensor is taken from the arena when written and given back after its last
    use. With patterns a run takes one block sized by its first run's plan (40 MiB for a 512^2 tile) and holds
    it to the end, the first run's own chunks stay in the arena beside it, and per-call scratch comes on top:
    for the 1-bit model each ``QLinearConv`` at full resolution asks for an 18.9 MB indirection buffer
    (9 input pointers per output pixel) while its thread's block is held. Measured on the 1 MP page (2 threads,
    a fresh process per run): peak RSS fp32 268-270 -> 218-248 MB, 1-bit 275-276 -> 217-237 MB, the same
    outputs (``bench/binary.py``; README, "1-bit model: size, speed, memory").

    Parameters
    ----------
    path : str
        The ONNX file.

    Returns
    -------
    onnxruntime.InferenceSession
        The session on the CPU execution provider.

    Raises
    ------
    ModelNotFoundError
        When onnxruntime cannot load the file (missing, not ONNX, unsupported operators).
    """
    import onnxruntime as ort

    register_shared_arena()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_mem_pattern = False
    options.add_session_config_entry("session.use_env_allocators", "1")
    try:
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's pybind errors (InvalidProtobuf, Fail, ...) share no base class
        raise ModelNotFoundError(f"onnxruntime cannot load {path}: {exc}") from exc


def onnx_runner(path: Path, threads: int = 0) -> Runner:
    """A generator runner over the cached session of a model file, splitting each batch over threads.

    Parameters
    ----------
    path : pathlib.Path
        The ONNX file (:func:`onnx_session`).
    threads : int, optional
        Most slices a batch is split into, run concurrently on the shared ``"onnx"`` pool
        (0: :func:`docbin.threads.default_threads`); a batch of one tile runs in the calling thread.

    Returns
    -------
    Runner
        Maps a float32 batch ``(N, C, H, W)`` to the model's first output, the slices concatenated in order.

    Raises
    ------
    ModelNotFoundError
        When onnxruntime cannot load the file.
    ParameterError
        When ``threads`` is 0 and ``$DOCBIN_THREADS`` is not a positive integer.
    """
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

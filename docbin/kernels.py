"""docbin's compiled (numba ``@njit(cache=True)``) kernels: which they are, whether this machine has them
cached, and a warm-up that compiles or loads every one of them on tiny inputs.

Numba compiles a kernel on its first call with a new signature (15-30 s for the thresholding kernels, ~17 s
for the evaluation's) and saves the machine code in its on-disk cache: ``__pycache__`` beside the module where
that is writable, else its user cache (``~/.cache/numba`` on Linux), or ``$NUMBA_CACHE_DIR`` when set. Later
processes load it from there in well under a second. ``docbin warmup`` and the service's workers call
:func:`warm_up` so that no user request pays the compile.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

# Modules holding the kernels, by the work that runs them.
THRESHOLD_MODULES = ("docbin.threshold.windowed", "docbin.threshold.su", "docbin.threshold.otsu",
                     "docbin.threshold.bernsen")
METRICS_MODULES = ("docbin.metrics.drd", "docbin.metrics.weights.thinning", "docbin.metrics.weights.connectivity",
                   "docbin.metrics.weights.rings", "docbin.metrics.weights.passes")
COMPILE_NOTICE = "compiling docbin's kernels once (~30 s), cached for later runs"


@dataclass(frozen=True)
class KernelState:
    """One kernel after :func:`warm_up`: its name, how its signatures got into memory, and where it caches."""

    name: str
    compiled: int  # signatures compiled in this process
    loaded: int  # signatures loaded from numba's on-disk cache
    cache_dir: str


def kernels(modules: tuple[str, ...] = THRESHOLD_MODULES + METRICS_MODULES) -> dict[str, Any]:
    """The numba dispatchers defined in ``modules``, by qualified name (``module.function``)."""
    from numba.core.registry import CPUDispatcher

    found = {}
    for name in modules:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == name:
                found[f"{name}.{attr}"] = value
    return found


def uncached(modules: tuple[str, ...]) -> list[str]:
    """The kernels of ``modules`` that a call would compile: neither in memory nor in numba's on-disk cache
    for this machine's CPU and the kernel's current code (read from the cache's index files)."""
    missing = []
    for name, dispatcher in kernels(modules).items():
        if dispatcher.signatures:
            continue
        cache = dispatcher._cache  # numba's FunctionCache: the index file per kernel, keyed by signature
        codegen = dispatcher.targetctx.codegen()
        probe = cache._index_key((), codegen)  # (signature, CPU magic tuple, hashes of the bytecode)
        index = cache._cache_file._load_index()  # empty when missing or stale (source file changed)
        if not any(key[1:] == probe[1:] for key in index):
            missing.append(name)
    return missing


@contextmanager
def compile_notice(stream: TextIO | None = None, message: str = COMPILE_NOTICE) -> Iterator[None]:
    """Print ``message`` once on ``stream`` (stderr) when numba is about to compile (its ``numba:compile``
    event, which fires only after a cache miss), not when it loads a kernel from its cache."""
    from numba.core import event

    class Notice(event.Listener):
        said = False

        def on_start(self, _: event.Event) -> None:
            if not self.said:
                self.said = True
                print(message, file=stream or sys.stderr, flush=True)

        def on_end(self, _: event.Event) -> None:
            pass

    with event.install_listener("numba:compile", Notice()):
        yield


def tiny_page(height: int = 40, width: int = 56) -> tuple[np.ndarray, np.ndarray]:
    """A small gray page with dark strokes on noise, and its ground truth (ink 0, background 255)."""
    rng = np.random.default_rng(0)
    gt = np.full((height, width), 255, np.uint8)
    gt[8:32:6, 4:50] = 0
    gt[6:34, 10:13] = 0
    gray = np.clip(np.where(gt == 0, 60, 200) + rng.normal(0, 12, gt.shape), 0, 255).astype(np.uint8)
    return gray, gt


def warm_steps() -> dict[str, Callable[[], object]]:
    """The calls that run every kernel once on a tiny page: each classical method of the registry, with its
    defaults and a small window, and a full evaluation (generated pseudo-FM weights, DRD)."""
    from docbin import registry
    from docbin.metrics import evaluate

    gray, gt = tiny_page()
    steps: dict[str, Callable[[], object]] = {}
    for method in registry.available():
        if method.func.__module__.startswith("docbin.threshold."):
            params = {"window": 15} if any(p.name == "window" for p in method.params) else {}
            steps[method.name] = lambda m=method, p=params: m(gray, **p)
    steps["evaluate"] = lambda: evaluate(np.where(gray > 128, 255, 0).astype(np.uint8), gt)
    return steps


def warm_up(progress: Callable[[str, float], None] | None = None) -> list[KernelState]:
    """Compile (or load from numba's cache) every kernel by running :func:`warm_steps`; ``progress(step,
    seconds)`` after each step. Returns the state of each kernel the steps called from Python (the helpers
    they call are compiled into them); raises RuntimeError naming any kernel left neither compiled nor cached
    (a new kernel that no step reaches)."""
    for name, step in warm_steps().items():
        start = time.perf_counter()
        step()
        if progress is not None:
            progress(name, time.perf_counter() - start)
    missed = uncached(THRESHOLD_MODULES + METRICS_MODULES)
    if missed:
        raise RuntimeError(f"the warm-up left uncompiled: {', '.join(missed)} (add a step for them)")
    return [KernelState(name, sum(d.stats.cache_misses.values()), sum(d.stats.cache_hits.values()), d.stats.cache_path)
            for name, d in kernels().items() if d.signatures]


def compile_ahead(work: str) -> None:
    """Before ``work`` (``"binarize"`` with a classical method, or ``"evaluate"``) starts worker processes:
    when any of its kernels is not cached on this machine, run its warm-up steps once here on a tiny page
    (every classical method, or the evaluation), printing :data:`COMPILE_NOTICE` as a compile starts, so
    that the workers load the cached kernels instead of each compiling them. Nothing happens when the cache
    holds them all."""
    evaluate = work == "evaluate"
    if not uncached(METRICS_MODULES if evaluate else THRESHOLD_MODULES):
        return
    with compile_notice():
        for name, run in warm_steps().items():
            if (name == "evaluate") == evaluate:
                run()

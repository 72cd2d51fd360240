"""docbin.kernels: the warm-up reaches every numba kernel, the cache check tells a cold cache from a warm one,
and the compile notice appears only when numba compiles (cold caches are temporary NUMBA_CACHE_DIRs in
subprocesses; the real cache is never cleared)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_SCAN
from numba import njit

from docbin import kernels


def run(args: list[str], cache: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``args`` with numba's cache in ``cache``; must exit 0."""
    result = subprocess.run(args, cwd=cwd, env={**os.environ, "NUMBA_CACHE_DIR": str(cache)}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_warm_up_reaches_every_kernel() -> None:
    steps = []
    states = kernels.warm_up(lambda step, seconds: steps.append(step))
    assert {"sauvola", "niblack", "nick", "wolf", "phansalkar", "su", "bernsen", "otsu", "evaluate"} <= set(steps)
    found = kernels.kernels()
    assert {s.name for s in states} == {name for name, d in found.items() if d.signatures}
    assert all(s.compiled + s.loaded >= 1 and Path(s.cache_dir).is_dir() for s in states)
    assert kernels.uncached(kernels.THRESHOLD_MODULES + kernels.METRICS_MODULES) == []
    modules = {name.rsplit(".", 1)[0] for name in found}
    assert modules == set(kernels.THRESHOLD_MODULES + kernels.METRICS_MODULES)


def test_uncached_names_every_kernel_of_an_empty_cache(tmp_path: Path) -> None:
    code = ("from docbin import kernels; "
            "print('\\n'.join(kernels.uncached(kernels.THRESHOLD_MODULES + kernels.METRICS_MODULES)))")
    cold = set(run([sys.executable, "-c", code], tmp_path / "cache", tmp_path).stdout.split())
    assert cold == set(kernels.kernels())


def test_compile_notice_only_when_numba_compiles() -> None:
    @njit
    def double(x: np.ndarray) -> np.ndarray:
        return 2 * x

    said = io.StringIO()
    with kernels.compile_notice(said):
        double(np.arange(3))  # compiles
        double(np.arange(3))  # in memory: no event
    assert said.getvalue() == kernels.COMPILE_NOTICE + "\n"
    quiet = io.StringIO()
    with kernels.compile_notice(quiet):
        double(np.arange(4))
    assert quiet.getvalue() == ""


def test_binarize_announces_a_compile_once_per_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "docbin", "binarize", str(SAMPLE_SCAN), "-m", "otsu", "-q", "-o"]
    first = run([*command, str(tmp_path / "first")], cache, tmp_path)
    assert kernels.COMPILE_NOTICE in first.stderr
    assert any(cache.rglob("otsu*.nbi"))
    second = run([*command, str(tmp_path / "second")], cache, tmp_path)
    assert kernels.COMPILE_NOTICE not in second.stderr
    assert (tmp_path / "first" / SAMPLE_SCAN.name).read_bytes() == (tmp_path / "second" / SAMPLE_SCAN.name).read_bytes()


@pytest.mark.slow
def test_warmup_command_compiles_once_then_loads(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = run([sys.executable, "-m", "docbin", "warmup"], cache, tmp_path)
    assert cold.stderr.count(kernels.COMPILE_NOTICE) == 1
    assert f"cache: {cache}" in cold.stdout and " 0 loaded from cache" in cold.stdout
    warm = run([sys.executable, "-m", "docbin", "warmup"], cache, tmp_path)
    assert kernels.COMPILE_NOTICE not in warm.stderr
    assert "(0 signature(s) compiled" in warm.stdout and "loaded 1 from cache" in warm.stdout


def test_numba_cache_falls_back_to_the_temporary_folder_only_where_nothing_is_writable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core import config

    from docbin import numba_cache

    assert numba_cache.can_write(tmp_path / "new" / "folder") and not numba_cache.can_write(SAMPLE_SCAN / "x")
    monkeypatch.setenv("NUMBA_CACHE_DIR", "")
    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    assert numba_cache.ensure_cache_dir() is None  # this checkout's __pycache__ is writable
    monkeypatch.setattr(numba_cache, "can_write", lambda folder: False)
    fallback = str(numba_cache.FALLBACK)
    assert numba_cache.ensure_cache_dir() == fallback == os.environ["NUMBA_CACHE_DIR"] == config.CACHE_DIR

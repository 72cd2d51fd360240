"""What numba's compile costs a user, cold (an empty cache) and warm: ``docbin warmup``, and ``docbin serve``
from its start to ready and its first request of each classical method (the workers warm their kernels
before the server listens, so no request should pay the compile).

Each round uses its own numba cache (``NUMBA_CACHE_DIR`` in a temporary folder, empty for the cold round,
kept for the warm one); the real cache is not touched.

    python bench/warmup.py --workers 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from docbin.service.local import local_server

REPO = Path(__file__).resolve().parents[1]
SAMPLE = (REPO / "docbin" / "samples" / "sample_scan.png").read_bytes()
METHODS = ("sauvola", "niblack", "nick", "wolf", "phansalkar", "su", "bernsen", "otsu")


def warmup_s(env: dict[str, str]) -> float:
    """Wall seconds of ``docbin warmup`` in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "docbin", "warmup"], env={**os.environ, **env}, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def serve_round(env: dict[str, str]) -> str:
    """One server start: seconds to ready, the workers' warm-up, and each method's first request."""
    start = time.perf_counter()
    with local_server(timeout_s=300, env=env) as server:
        ready_s = time.perf_counter() - start
        ready = httpx.get(f"{server.base_url}/readyz", timeout=10).json()
        firsts = []
        for method in METHODS:
            sent = time.perf_counter()
            response = httpx.post(f"{server.base_url}/v1/binarize", files={"file": ("scan.png", SAMPLE)},
                                  data={"method": method}, timeout=300)
            response.raise_for_status()
            firsts.append(f"{method} {1000 * (time.perf_counter() - sent):.0f}")
    return (f"ready after {ready_s:.1f} s (workers' longest warm-up {ready['kernels_warm_up_s']:.2f} s); "
            f"first request per method, ms: {', '.join(firsts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="DOCBIN_WORKERS of the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docbin-bench-numba-") as folder:
        for label, cache in (("cold", "warmup"), ("warm", "warmup")):
            env = {"NUMBA_CACHE_DIR": str(Path(folder) / cache)}
            print(f"docbin warmup, {label} cache: {warmup_s(env):.1f} s", flush=True)
        for label, cache in (("cold", "serve"), ("warm", "serve")):
            env = {"NUMBA_CACHE_DIR": str(Path(folder) / cache), "DOCBIN_WORKERS": str(args.workers)}
            print(f"docbin serve, {label} cache: {serve_round(env)}", flush=True)


if __name__ == "__main__":
    main()

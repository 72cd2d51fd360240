"""The fused numba kernel (docbin.threshold.windowed) against the OpenCV tile path it replaced, per core.

The tile path (integral.py and the rules) is read from git revision --baseline (582035f, the last commit
before the kernel) and run as it was; Phansalkar's rule runs there on the tiles' statistics, here on the
kernel's (windowed.map_statistics), OpenCV applying it in both. Per method and
image: the binary images' differing pixels, then best-of---repeat CPU seconds with one thread each
(DOCBIN_THREADS=1, OpenCV on one thread), the two implementations taking turns. Also the kernel's
one-off costs, each in a fresh process: importing docbin.threshold, and the first call with numba's
on-disk cache cold (compilation) and warm (loading the cached machine code).

    python bench/windowed.py --data ../shared/data --repeat 7
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ["DOCBIN_THREADS"] = "1"
cv2.setNumThreads(1)

from classical import load_gray, twelve_megapixel_scan  # noqa: E402

from docbin.threshold import niblack, nick, phansalkar, sauvola, wolf  # noqa: E402

Binarizer = Callable[[np.ndarray], np.ndarray]
FIRST_CALL = ("import time, numpy as np, cv2, docbin.threads; start = time.perf_counter(); import numba; "
              "numba_imported = time.perf_counter(); import docbin.threshold as t; imported = time.perf_counter(); "
              "t.sauvola(np.zeros((8, 8), np.uint8), 3); "
              "print(numba_imported - start, imported - start, time.perf_counter() - imported)")


def tile_rules(revision: str) -> dict[str, Binarizer]:
    """The tile path's Sauvola, Niblack, NICK, Wolf and Phansalkar as of ``revision`` (its own integral
    module)."""
    modules = {}
    for name in ("integral", "sauvola", "niblack", "wolf"):
        source = subprocess.check_output(
            ["git", "-C", str(REPO), "show", f"{revision}:docbin/threshold/{name}.py"], text=True)
        modules[name] = sys.modules[f"tiles_{name}"] = types.ModuleType(f"tiles_{name}")
        source = source.replace("from docbin.threshold.integral import", "from tiles_integral import")
        exec(compile(source, f"{revision}:{name}.py", "exec"), modules[name].__dict__)
    local_threshold = modules["integral"].local_threshold
    return {
        "sauvola": lambda g: local_threshold(g, 75, modules["sauvola"].sauvola_rule(0.2, 128.0)),
        "niblack": lambda g: local_threshold(g, 75, modules["niblack"].niblack_rule(-0.2)),
        "nick": lambda g: local_threshold(g, 75, modules["niblack"].nick_rule(-0.1)),
        "wolf": lambda g: local_threshold(g, 75, modules["wolf"].wolf_rule(g, 75, 0.5)),
        "phansalkar": lambda g: local_threshold(g, 75, modules["sauvola"].phansalkar_rule(0.25, 128 / 255, 2.0, 10.0)),
    }


KERNEL: dict[str, Binarizer] = {
    "sauvola": lambda g: sauvola(g, 75, 0.2, 128.0), "niblack": lambda g: niblack(g, 75, -0.2),
    "nick": lambda g: nick(g, 75, -0.1), "wolf": lambda g: wolf(g, 75, 0.5),
    "phansalkar": lambda g: phansalkar(g, 75, 0.25, 128 / 255, 2.0, 10.0),
}


def best_seconds(images: list[np.ndarray], implementations: dict[str, Binarizer], repeat: int) -> dict[str, float]:
    """Summed over images, each implementation's best-of-``repeat`` CPU seconds, taking turns."""
    total = dict.fromkeys(implementations, 0.0)
    for gray in images:
        best = dict.fromkeys(implementations, float("inf"))
        for _ in range(repeat):
            for name, binarize in implementations.items():
                start = time.process_time()
                binarize(gray)
                best[name] = min(best[name], time.process_time() - start)
        for name in total:
            total[name] += best[name]
    return total


def one_off_costs() -> None:
    """Import and first-call seconds in fresh processes: numba's cache cold, then warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for state in ("cold cache (compiles)", "warm cache"):
            out = subprocess.check_output([sys.executable, "-c", FIRST_CALL], env=env, cwd=REPO, text=True)
            numba_alone, imported, first = map(float, out.split())
            print(f"fresh process, {state}: import numba + docbin.threshold {imported:.2f} s (numba alone "
                  f"{numba_alone:.2f} s), first sauvola call {first:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", default="582035f", help="git revision of the tile path's rules")
    args = parser.parse_args()
    one_off_costs()
    tiles = tile_rules(args.baseline)
    scan = [twelve_megapixel_scan(args.data)]
    pages = [load_gray(path) for path in sorted(args.data.glob("*/images/*.png"))]
    print("\n| method | images | differing pixels | tiles MP/s | kernel MP/s | kernel / tiles (per core) |")
    print("|---|---|---:|---:|---:|---:|")
    for method in KERNEL:
        for label, images in (("12 MP scan", scan), (f"{len(pages)} pages", pages)):
            differing = sum(int(np.count_nonzero(tiles[method](g) != KERNEL[method](g))) for g in images)
            seconds = best_seconds(images, {"tiles": tiles[method], "kernel": KERNEL[method]}, args.repeat)
            megapixels = sum(g.size for g in images) / 1e6
            print(f"| {method} | {label} | {differing} | {megapixels / seconds['tiles']:.0f} | "
                  f"{megapixels / seconds['kernel']:.0f} | {seconds['tiles'] / seconds['kernel']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

"""Speed and pixel agreement of docbin's classical methods against DoxaPy, scikit-image and OpenCV.

For every method that a peer implements, each implementation binarizes the same gray images in the same
process: (a) a ~12 MP scan made by tiling a DIBCO page 2 x 2 and upscaling it, (b) every page under --data.
Each image is timed twice, implementations taking turns, best of --repeat each (the machine is shared):
per core, with one thread each (DOCBIN_THREADS=1, OpenCV on one thread; DoxaPy and scikit-image are
single-threaded), timed in CPU seconds so that other jobs on the machine do not count; and all cores,
docbin and OpenCV on every core (DoxaPy still on one), timed by the wall clock. The table gives
megapixels/s, docbin's speed ratio to each peer (> 1: docbin faster), whether the per-core ratio reaches
issue 16's bar (Otsu 2x, the others 1.5x; --bar sets one for all), and the share (and number) of pixels on
which the peer agrees with docbin.

Two DoxaPy versions are peers: the one installed here (0.9.2 on Python 3.11) and DoxaPy 0.9.9, which
needs Python >= 3.12: the script runs itself again in ``bench/.venv312`` (made by the commands in
``bench/evaluate.py``, with numba too) for the DoxaPy rows of each table, timed there against docbin in
that process; where that environment is missing it says so and goes on without them.

    python bench/classical.py --data ../shared/data --repeat 5 [--methods sauvola otsu] [--peers doxapy]
        [--images scan pages]
    python bench/classical.py --data ../shared/data --rss su    # peak RSS of one method on a 50 MP page
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np

from docbin.io import read_image
from docbin.preprocess import to_gray
from docbin.threads import THREADS_ENV
from docbin.threshold import bernsen, niblack, nick, otsu, phansalkar, sauvola, su, wolf

REPO = Path(__file__).resolve().parents[1]
VENV312 = REPO / "bench" / ".venv312" / "bin" / "python"  # DoxaPy 0.9.9 (Python >= 3.12); see bench/evaluate.py
DOXAPY = version("doxapy")
SCAN_PAGE = Path("dibco2013/images/HW01.png")  # 4161 x 1049 handwritten page
WINDOW = 75

PEERS = ("doxapy", "skimage", "opencv")
BARS = {"otsu": 2.0}  # issue 16's per-core docbin/peer bars; 1.5 for the other methods

Binarizer = Callable[[np.ndarray], np.ndarray]


def doxa(algorithm: str, **params: float) -> Binarizer:
    import doxapy

    # DoxaPy 0.9.2 has it on Binarization, 0.9.9 in the module.
    update = getattr(doxapy.Binarization, "update_to_binary", None) or doxapy.update_to_binary

    def run(gray: np.ndarray) -> np.ndarray:
        binary = gray.copy()
        update(getattr(doxapy.Binarization.Algorithms, algorithm), binary, params)
        return binary

    return run


def doxa_has(algorithm: str) -> bool:
    """Whether the installed DoxaPy implements ``algorithm``."""
    import doxapy

    return hasattr(doxapy.Binarization.Algorithms, algorithm)


def skimage_rule(threshold: Callable[[np.ndarray], np.ndarray | float]) -> Binarizer:
    def run(gray: np.ndarray) -> np.ndarray:
        return np.where(gray > threshold(gray), np.uint8(255), np.uint8(0))

    return run


def opencv_niblack(method: str, k: float) -> Binarizer:
    def run(gray: np.ndarray) -> np.ndarray:
        return cv2.ximgproc.niBlackThreshold(
            gray, 255, cv2.THRESH_BINARY, WINDOW, k, binarizationMethod=getattr(cv2.ximgproc, method), r=128
        )

    return run


def opencv_otsu(gray: np.ndarray) -> np.ndarray:
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


def methods() -> dict[str, tuple[Binarizer, dict[str, Binarizer]]]:
    """docbin's call and its peers' calls, with the same parameters, per method."""
    from skimage import filters

    return {
        "otsu": (otsu, {"doxapy": doxa("OTSU"), "skimage": skimage_rule(filters.threshold_otsu),
                        "opencv": opencv_otsu}),
        "sauvola": (lambda g: sauvola(g, WINDOW, 0.2, 128.0), {
            "doxapy": doxa("SAUVOLA", window=WINDOW, k=0.2),
            "skimage": skimage_rule(lambda g: filters.threshold_sauvola(g, WINDOW, 0.2, r=128)),
            "opencv": opencv_niblack("BINARIZATION_SAUVOLA", 0.2)}),
        "niblack": (lambda g: niblack(g, WINDOW, -0.2), {
            "doxapy": doxa("NIBLACK", window=WINDOW, k=-0.2),
            "skimage": skimage_rule(lambda g: filters.threshold_niblack(g, WINDOW, 0.2)),
            "opencv": opencv_niblack("BINARIZATION_NIBLACK", -0.2)}),
        "nick": (lambda g: nick(g, WINDOW, -0.1), {
            "doxapy": doxa("NICK", window=WINDOW, k=-0.1), "opencv": opencv_niblack("BINARIZATION_NICK", -0.1)}),
        "wolf": (lambda g: wolf(g, WINDOW, 0.5), {
            "doxapy": doxa("WOLF", window=WINDOW, k=0.5), "opencv": opencv_niblack("BINARIZATION_WOLF", 0.5)}),
        # DoxaPy 0.9.9 (Python >= 3.12) has Phansalkar with R = 128 on 0..255, docbin's r = 128 / 255;
        # DoxaPy 0.9.2, scikit-image and OpenCV have none: docbin's speed alone.
        "phansalkar": (lambda g: phansalkar(g, WINDOW, 0.25, 128 / 255, 2.0, 10.0), {
            "doxapy": doxa("PHANSALKAR", window=WINDOW, k=0.25, p=2.0, q=10.0)} if doxa_has("PHANSALKAR") else {}),
        "bernsen": (lambda g: bernsen(g, WINDOW, 25, 100), {
            "doxapy": doxa("BERNSEN", window=WINDOW, threshold=100, **{"contrast-limit": 25})}),
        # DoxaPy 0.9.2's Su has E_std = 0 (see docbin.threshold.su): time the rule it implements; 0.9.9's
        # is the paper's E_mean + E_std / 2, docbin's default.
        "su": (lambda g: su(g, 9, 9, deviation_weight=0.0 if DOXAPY == "0.9.2" else 0.5),
               {"doxapy": doxa("SU", window=9, minN=9)}),
    }


@dataclass
class Tally:
    """Accumulated best-of-repeats seconds and agreeing pixels of one implementation on one image set."""

    seconds: float = 0.0
    agreeing: int = 0


@dataclass(frozen=True)
class Mode:
    """How implementations run and are timed: threads for docbin and OpenCV, and the clock."""

    name: str
    threads: int
    clock: Callable[[], float]

    def __enter__(self) -> Mode:
        os.environ[THREADS_ENV] = str(self.threads)
        cv2.setNumThreads(self.threads)
        return self

    def __exit__(self, *exc: object) -> None:
        os.environ.pop(THREADS_ENV, None)
        cv2.setNumThreads(-1)


MODES = (Mode("per core", 1, time.process_time), Mode("all cores", os.cpu_count() or 1, time.perf_counter))


def measure(images: list[np.ndarray], implementations: dict[str, Binarizer], repeat: int,
            clock: Callable[[], float]) -> dict[str, Tally]:
    """Best-of-``repeat`` time per image, the implementations taking turns so they share the machine's load,
    after a call on a small crop (numba loads docbin's compiled kernels on a process's first call)."""
    tallies = {name: Tally() for name in implementations}
    for binarize in implementations.values():
        binarize(np.ascontiguousarray(images[0][:64, :64]))
    for gray in images:
        best = dict.fromkeys(implementations, float("inf"))
        results: dict[str, np.ndarray] = {}
        for _ in range(repeat):
            for name, binarize in implementations.items():
                start = clock()
                results[name] = binarize(gray)
                best[name] = min(best[name], clock() - start)
        for name, tally in tallies.items():
            tally.seconds += best[name]
            tally.agreeing += int(np.count_nonzero(results[name] == results["docbin"]))
    return tallies


def report(images: list[np.ndarray], selected: list[str], peer_names: list[str], repeat: int,
           bar: float | None, alone: bool) -> None:
    """One table row per method and peer: each mode's speeds and ratio, whether docbin's per-core ratio
    reaches ``bar`` (None: the method's in BARS), and the pixels on which the peer agrees with docbin; with ``alone``, docbin's speeds
    for a method that no peer here has."""
    megapixels = sum(g.size for g in images) / 1e6
    table = methods()
    for method in selected:
        ours, all_peers = table[method]
        peers = {name: peer for name, peer in all_peers.items() if name in peer_names}
        if not peers and not alone:
            continue
        tallies = {}
        for mode in MODES:
            with mode:
                tallies[mode.name] = measure(images, {"docbin": ours, **peers}, repeat, mode.clock)
        speeds = {mode.name: megapixels / tallies[mode.name]["docbin"].seconds for mode in MODES}
        for name in peers or {"-": None}:
            cells = []
            for mode in MODES:
                peer = tallies[mode.name].get(name)
                ratio = f"{megapixels / peer.seconds:.1f} | {speeds[mode.name] * peer.seconds / megapixels:.2f}" if peer else "- | -"
                cells.append(f"{speeds[mode.name]:.1f} | {ratio}")
            if name in peers:
                per_core = tallies[MODES[0].name]
                least = bar or BARS.get(method, 1.5)
                reached = per_core[name].seconds >= least * per_core["docbin"].seconds
                verdict = f"{'yes' if reached else 'no'} ({least}x)"
                differing = round(megapixels * 1e6) - per_core[name].agreeing
                share = f"{100 * per_core[name].agreeing / (megapixels * 1e6):.4f} % ({differing})"
            else:
                verdict, share = "-", "-"
            label = f"DoxaPy {DOXAPY}" if name == "doxapy" else name
            print(f"| {method} | {label} | " + " | ".join(cells) + f" | {verdict} | {share} |", flush=True)


def report_newest_doxapy(args: argparse.Namespace, images: str) -> None:
    """The DoxaPy 0.9.9 rows of the ``images`` table, from this script run in bench/.venv312 (or why not)."""
    if "doxapy" not in args.peers or Path(sys.executable) == VENV312 or DOXAPY == "0.9.9":
        return
    if not VENV312.exists():
        print(f"\n(no DoxaPy 0.9.9 rows: no {VENV312.parent.parent}; DoxaPy 0.9.9 needs Python >= 3.12, the "
              "commands that make it are in bench/evaluate.py)", flush=True)
        return
    command = [str(VENV312), __file__, "--rows", "--peers", "doxapy", "--images", images, "--data", str(args.data),
               "--repeat", str(args.repeat), "--methods", *args.methods] + (["--bar", str(args.bar)] if args.bar else [])
    subprocess.run(command, check=True)


def load_gray(path: Path) -> np.ndarray:
    return to_gray(read_image(path))


def twelve_megapixel_scan(data: Path) -> np.ndarray:
    """A DIBCO page tiled 2 x 2 and upscaled (bicubic) to about 12 MP."""
    tiled = np.tile(load_gray(data / SCAN_PAGE), (2, 2))
    scale = np.sqrt(12e6 / tiled.size)
    return cv2.resize(tiled, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def fifty_megapixel_peak_rss(data: Path, method: str) -> None:
    """Print this process's peak RSS after ``method`` binarized an 8700 x 5800 page (the DIBCO page tiled)."""
    binarize = methods()[method][0]
    gray = cv2.resize(np.tile(load_gray(data / SCAN_PAGE), (4, 2)), (5800, 8700), interpolation=cv2.INTER_LINEAR)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    binarize(gray)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{method} on a 50 MP page: peak RSS {peak:.0f} MB (before the call, page made: {before:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=list(methods()), choices=list(methods()))
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--images", nargs="+", default=["scan", "pages"], choices=["scan", "pages"],
                        help="the ~12 MP scan, every page under --data, or both")
    parser.add_argument("--rss", choices=list(methods()), help="only print one method's peak RSS on a 50 MP page")
    parser.add_argument("--bar", type=float, help="per-core docbin/peer ratio to flag (default: issue 16's, BARS)")
    parser.add_argument("--rows", action="store_true", help=argparse.SUPPRESS)  # table rows only (the 0.9.9 run)
    args = parser.parse_args()
    if args.rss:
        fifty_megapixel_peak_rss(args.data, args.rss)
        return
    if not args.rows:
        print(f"cores: {os.cpu_count()}, OpenCV threads: {cv2.getNumThreads()}, window: {WINDOW}; per core = one "
              f"thread each, CPU time; all cores = docbin and OpenCV on {MODES[1].threads} threads, wall time")
    for images in args.images:
        if images == "scan":
            title, grays = "~12 MP scan", [twelve_megapixel_scan(args.data)]
        else:
            title, grays = f"all of {args.data}", [load_gray(path) for path in sorted(args.data.glob("*/images/*.png"))]
        if not args.rows:
            print(f"\n### {title}: {len(grays)} image(s), {sum(g.size for g in grays) / 1e6:.1f} MP, best of "
                  f"{args.repeat}\n")
            print("| method | peer | " + " | ".join(f"{mode.name}: docbin MP/s | peer MP/s | docbin/peer"
                                                    for mode in MODES)
                  + " | per core >= bar | agreement (pixels differing) |")
            print("|---|---|" + "---:|---:|---:|" * len(MODES) + "---|---:|", flush=True)
        report(grays, args.methods, args.peers, args.repeat, args.bar, alone=not args.rows)
        report_newest_doxapy(args, images)


if __name__ == "__main__":
    main()

"""Speed and memory of the three-stage pipeline (docbin.threestage on onnxruntime) against docbin's Sauvola.

Prints megapixels/s and the peak RSS of a fresh process per (method, page), for a real ~3 MP DIBCO page,
the same page upscaled to ~12 MP and (``--big``) to ~50 MP, plus each stage's share of the pipeline time.

    python bench/learned.py [--model models/threestage] [--threads 2] [--big]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO.parent / "shared" / "data" / "hdibco2012" / "images" / "H01.png"  # 2245 x 1317, 2.96 MP


@dataclass(frozen=True)
class Case:
    method: str  # "threestage" or "sauvola"
    megapixels: float  # target size; the real page is resized by sqrt(target / actual)
    model: str
    threads: int
    stages: bool


def load_page(megapixels: float) -> np.ndarray:
    """The benchmark page as RGB, resized (bicubic) to about ``megapixels``."""
    from docbin.io import read_image
    from docbin.preprocess import to_rgb

    rgb = to_rgb(read_image(PAGE))
    scale = (megapixels * 1e6 / (rgb.shape[0] * rgb.shape[1])) ** 0.5
    if abs(scale - 1.0) < 0.05:
        return rgb
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # what makes onnxruntime's int8 convs fast on x86


def cpu_summary() -> str:
    """The CPU model, its logical CPU count and its int8 dot-product instructions (from /proc/cpuinfo; the
    1-bit model's int8 convs gain far more over fp32 with VNNI than with AVX2 alone), for the record."""
    import os
    import platform

    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown CPU")
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    dot = [f for f in INT8_DOT_FLAGS if f in flags] or (["avx2 only, no VNNI"] if "avx2" in flags else ["unknown"])
    return f"cpu: {model}, {os.cpu_count()} logical CPUs, int8 dot products: {', '.join(dot)}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def clocked(runner: Callable[[np.ndarray], np.ndarray], tally: dict[str, float]) -> Callable[[np.ndarray], np.ndarray]:
    """``runner`` (a generator call) adding its wall seconds to ``tally["s"]``."""
    def run(x: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = runner(x)
        tally["s"] += time.perf_counter() - start
        return out

    return run


def stage_seconds(rgb: np.ndarray, model_dir: str, threads: int) -> dict[str, float]:
    """Wall time of each stage of :func:`docbin.threestage.pipeline.run_threestage`, called stage by stage, with the
    generators' own time split out of Stages 1-2."""
    from docbin.threestage import models, pipeline

    model = models.load_model(Path(model_dir))
    cfg = model.config
    runners = model.runners(threads)
    network = {"s": 0.0}
    stage2 = {name: clocked(runners[name], network) for name in pipeline.CHANNEL_GENERATORS}
    out: dict[str, np.ndarray] = {}
    seconds = {
        "stage 1-2 (DWT, tiling, 4 channel generators)": timed(
            lambda: out.setdefault("m", pipeline.merged_maps(rgb, stage2, cfg))
        )
    }
    seconds["  of which generators"] = network["s"]
    seconds["stage 3 local"] = timed(lambda: out.setdefault("p", pipeline.local_probability(out["m"], runners["local"], cfg)))
    seconds["stage 3 global + fusion"] = timed(
        lambda: pipeline.fuse(
            pipeline.ink_mask(out["p"], cfg.threshold),
            pipeline.ink_mask(pipeline.global_probability(rgb, runners["global"], cfg), cfg.global_threshold),
            cfg.fusion_dilation,
            cfg.fusion,
        )
    )
    return seconds


def run_case(case: Case) -> dict[str, object]:
    """One measurement in a fresh process: decode, warm up (sessions), time the method, read peak RSS."""
    from docbin import registry
    from docbin.threestage import models, pipeline

    rgb = load_page(case.megapixels)
    rss_before = peak_rss_mb()
    if case.method == "threestage":
        model = models.load_model(Path(case.model))
        run = lambda page: pipeline.run_threestage(page, model.runners(case.threads), model.config)  # noqa: E731
    else:
        run = lambda page: registry.binarize(page, "sauvola")  # noqa: E731
    run(rgb[:512, :512])
    seconds = timed(lambda: run(rgb))
    result: dict[str, object] = {
        "pixels": rgb.shape[0] * rgb.shape[1],
        "seconds": seconds,
        "rss_input_mb": rss_before,
        "rss_peak_mb": peak_rss_mb(),
    }
    if case.stages:
        result["stages"] = stage_seconds(rgb, case.model, case.threads)
    return result


def in_fresh_process(case: Case) -> dict[str, object]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_case, case).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "models" / "threestage"))
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--big", action="store_true", help="add a ~50 MP page (memory bound check)")
    args = parser.parse_args()
    if not PAGE.is_file():
        raise SystemExit(f"benchmark page {PAGE} not found (needs ../shared)")
    sizes = [3.0, 12.0] + ([50.0] if args.big else [])
    print(cpu_summary())
    print(f"page {PAGE.relative_to(REPO.parent)} resized to ~{sizes} MP; threestage threads={args.threads}")
    print(f"{'MP':>6} {'method':<11} {'s':>7} {'MP/s':>6} {'peak RSS MB':>12} {'input RSS MB':>13} {'ratio':>7}")
    for mp in sizes:
        results = {
            method: in_fresh_process(Case(method, mp, args.model, args.threads, stages=method == "threestage" and mp < 20))
            for method in ("threestage", "sauvola")
        }
        for method, r in results.items():
            rate = r["pixels"] / 1e6 / r["seconds"]
            ratio = r["seconds"] / results["sauvola"]["seconds"]
            print(
                f"{r['pixels'] / 1e6:6.1f} {method:<11} {r['seconds']:7.2f} {rate:6.2f} "
                f"{r['rss_peak_mb']:12.0f} {r['rss_input_mb']:13.0f} {ratio:6.1f}x"
            )
        stages = results["threestage"].get("stages")
        if stages:
            total = sum(v for k, v in stages.items() if not k.startswith(" "))
            print("       stage shares: " + ", ".join(f"{k.strip()} {100 * v / total:.0f}%" for k, v in stages.items()))


if __name__ == "__main__":
    main()

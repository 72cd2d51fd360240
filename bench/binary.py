"""The 1-bit int8 three-stage model against the fp32 one, in one run: file bytes; the gray generator alone on
one 512 x 512 tile in one thread (the pipeline's call: one tile per inference thread), interleaved, best of
N, and where its time goes (onnxruntime's profiler, ms per op type); the whole pipeline on a ~1 MP and a
~12 MP page (a fresh process per measurement, interleaved, best of N) with its generators' share of the time
(the rest, Stage 1, tiling, stitching and fusion, is the same code for both) and each run's peak RSS (the best
run's, and its spread over the rounds: how the two inference threads' allocations interleave in the shared arena
moves it by up to ~20 MB from run to run); and, in a fresh process per model, the RSS that the six sessions add
when loaded and after one call of each generator on a batch of 2 tiles (the pipeline's call).

A 1-bit folder for speed and size alone can be made from the fp32 checkpoints without any training
(``--convert-to``: every generator's weights binarized as they are, gray from ``--gray`` when given, e.g. the
fine-tuned one); its quality is meaningless, its graph and bytes are those of a trained 1-bit model. Peak RSS
is each page run's own fresh process's (the export runs in a child of its own, and the generator timing, which
opens sessions here, comes last: a child inherits its parent's RSS high-water mark).

    python bench/binary.py --binary models/threestage_1bit [--threads 2] [--rounds 3] [--against DIR --pages 2]
    python bench/binary.py --convert-to runs/threestage_1bit_speed --gray runs/binary_cmp/reste/gray.pt \
        [--reference-to runs/threestage_1bit_fp32_transposed]

``--against`` (or the ``--reference-to`` export: the same networks with fp32 transposed-conv weights) compares
the pipeline's binary output of the two folders pixel by pixel on the first pages of each dev set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learned import PAGE, REPO, clocked, cpu_summary, load_page, peak_rss_mb  # noqa: E402  (bench/learned.py)

FP32 = REPO / "models" / "threestage"


def convert_checkpoints(fp32: Path, out: Path, gray: Path | None, estimator: str = "ste") -> None:
    """1-bit checkpoints of the fp32 generators in ``fp32`` (latent weights = fp32 weights, alpha = mean |w|)
    into ``out``; ``gray`` replaces the gray one (a trained 1-bit checkpoint)."""
    import shutil

    import torch

    from docbin.models.binary import load_real_weights
    from docbin.models.export import checkpoint_path
    from docbin.models.networks import build_generator
    from docbin.threestage.pipeline import GENERATORS

    out.mkdir(parents=True, exist_ok=True)
    for name in GENERATORS:
        if name == "gray" and gray is not None:
            shutil.copy(gray, out / f"{name}.pt")
            continue
        state = torch.load(checkpoint_path(fp32, name), map_location="cpu", weights_only=False)
        config = state["config"] | {"binary": {"estimator": estimator}}
        net = build_generator(config["generator"], config["binary"])
        load_real_weights(net, state["state_dict"])
        torch.save({"state_dict": net.state_dict(), "config": config, "step": 0}, out / f"{name}.pt")


def convert_and_export(checkpoints: Path, gray: Path | None, out: Path, fp32: Path, reference: Path | None) -> None:
    """:func:`convert_checkpoints`, then the 1-bit export of the result into ``out`` (calibrated on pages of the
    training sets) and, when ``reference`` is given, the same export with fp32 transposed-conv weights there."""
    from docbin.models.export_binary import export_binary_checkpoints
    from docbin.models.train import TRAIN_SETS
    from docbin.threestage.models import load_model

    with tempfile.TemporaryDirectory() as tmp:
        convert_checkpoints(checkpoints, Path(tmp), gray)
        for folder, float_transposed in ((out, False), (reference, True)):
            if folder is not None:
                export_binary_checkpoints(Path(tmp), folder, REPO.parent / "shared" / "data", TRAIN_SETS,
                                          load_model(fp32).config, float_transposed=float_transposed)


TILE = 512  # the pipeline's generator tile (PipelineConfig.tile)


def gray_path(folder: Path) -> str:
    from docbin.threestage.models import load_model

    return str(load_model(folder).path("gray"))


def generator_ms(folders: dict[str, Path], rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` ms of each folder's gray generator on one 1 x 1 x 512 x 512 tile, interleaved."""
    from docbin.threestage.sessions import new_onnx_session

    x = np.random.default_rng(0).random((1, 1, TILE, TILE), dtype=np.float32)
    sessions = {label: new_onnx_session(gray_path(folder)) for label, folder in folders.items()}  # as the pipeline's
    best = {label: float("inf") for label in sessions}
    for _ in range(rounds + 1):  # the first round warms up
        for label, session in sessions.items():
            start = time.perf_counter()
            session.run(None, {session.get_inputs()[0].name: x})
            best[label] = min(best[label], 1000 * (time.perf_counter() - start))
    return best


def op_ms(folder: Path, rounds: int) -> dict[str, float]:
    """ms per call spent in each op type of ``folder``'s gray generator on one 512 x 512 tile (onnxruntime's
    profiler, mean over ``rounds`` calls after one warm-up), largest first."""
    import onnxruntime as ort

    options = ort.SessionOptions()  # the graph and threads of docbin.threestage.sessions.new_onnx_session
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "docbin_binary_profile")
    session = ort.InferenceSession(gray_path(folder), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 1, TILE, TILE), dtype=np.float32)
    for _ in range(rounds + 1):
        session.run(None, {session.get_inputs()[0].name: x})
    trace = Path(session.end_profiling())
    events = json.loads(trace.read_text())
    trace.unlink()
    totals: dict[str, float] = {}
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"]["op_name"]
            totals[op] = totals.get(op, 0.0) + event["dur"] / 1000 / (rounds + 1)
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def pipeline_run(folder: Path, megapixels: float, threads: int) -> dict[str, float]:
    """The whole pipeline on the benchmark page resized to ``megapixels`` (after a warm-up on a corner of it):
    wall seconds, the seconds spent inside generator calls, pixels and this process's peak RSS."""
    from docbin.threestage import models, pipeline

    rgb = load_page(megapixels)
    model = models.load_model(folder)
    network = {"s": 0.0}
    runners = {name: clocked(runner, network) for name, runner in model.runners(threads).items()}
    pipeline.run_threestage(rgb[:512, :512], runners, model.config)
    network["s"] = 0.0
    start = time.perf_counter()
    pipeline.run_threestage(rgb, runners, model.config)
    seconds = time.perf_counter() - start
    pixels = rgb.shape[0] * rgb.shape[1]
    return {"seconds": seconds, "network": network["s"], "pixels": pixels, "rss_peak_mb": peak_rss_mb()}


def rss_mb() -> float:
    """This process's resident set now, MB (Linux ``/proc/self/statm``)."""
    import os

    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def session_rss(folder: Path, threads: int) -> dict[str, float]:
    """MB of resident set the six generator sessions of ``folder`` add to this fresh process when loaded, then
    after one call of each on a batch of 2 tiles (onnxruntime's arena holding their activations), and the peak."""
    import onnxruntime  # noqa: F401  (its own resident set is not the sessions')

    from docbin.threestage import models, pipeline

    before = rss_mb()
    runners = models.load_model(folder).runners(threads)
    loaded = rss_mb()
    for name, runner in runners.items():
        runner(np.random.default_rng(0).random((2, pipeline.IN_CHANNELS[name], TILE, TILE), dtype=np.float32))
    return {"loaded": loaded - before, "run": rss_mb() - before, "rss_peak_mb": peak_rss_mb()}


DEV_SETS = ("dibco2011", "dibco2013", "hdibco2014", "hdibco2016")


def pipeline_agreement(binary: Path, reference: Path, pages: int, threads: int) -> tuple[float, int]:
    """Fraction of pixels where the pipelines of the model folders ``binary`` and ``reference`` give the same
    binary output, over the first ``pages`` pages of each dev set; returns it with the pixel count."""
    from docbin.io import read_image
    from docbin.preprocess import to_rgb
    from docbin.threestage import models, pipeline

    data = REPO.parent / "shared" / "data"
    scans = [path for name in DEV_SETS for path in sorted((data / name / "images").glob("*.png"))[:pages]]
    loaded = [models.load_model(folder) for folder in (binary, reference)]
    same = total = 0
    for scan in scans:
        rgb = to_rgb(read_image(scan))
        a, b = (pipeline.run_threestage(rgb, model.runners(threads), model.config) for model in loaded)
        same, total = same + int((a == b).sum()), total + a.size
    return same / total, total


def in_fresh_process(fn: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def folder_bytes(folder: Path) -> int:
    from docbin.threestage.models import load_model
    from docbin.threestage.pipeline import GENERATORS

    model = load_model(folder)
    return sum(model.path(name).stat().st_size for name in GENERATORS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fp32", type=Path, default=FP32)
    parser.add_argument("--binary", type=Path, help="a 1-bit model folder")
    parser.add_argument("--convert-to", type=Path, help="export a speed-and-size-only 1-bit folder here first")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "models" / "checkpoints" / "threestage",
                        help="fp32 checkpoints to convert")
    parser.add_argument("--gray", type=Path, help="a trained 1-bit gray checkpoint for the converted folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1.0, 12.0], help="page sizes to run")
    parser.add_argument("--reference-to", type=Path, help="with --convert-to: also export the converted networks "
                        "with fp32 transposed-conv weights here, and compare against it (--against)")
    parser.add_argument("--against", type=Path, help="another 1-bit folder (e.g. another export of the same "
                        "networks): pixel agreement of the two pipelines on dev-set pages")
    parser.add_argument("--pages", type=int, default=2, help="pages per dev set for --against")
    args = parser.parse_args()
    if not PAGE.is_file():
        raise SystemExit(f"benchmark page {PAGE} not found (needs ../shared)")
    binary = args.binary or args.convert_to
    if binary is None:
        raise SystemExit("give --binary DIR or --convert-to DIR")
    if args.convert_to is not None:  # in a child process: peak RSS is inherited across fork and exec
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            pool.submit(convert_and_export, args.checkpoints, args.gray, args.convert_to, args.fp32,
                        args.reference_to).result()
    sizes = {label: folder_bytes(folder) for label, folder in (("fp32", args.fp32), ("1bit", binary))}
    print(cpu_summary())
    print(f"files: fp32 {sizes['fp32'] / 1e6:.2f} MB, 1bit {sizes['1bit'] / 1e3:.0f} kB "
          f"(1/{sizes['fp32'] / sizes['1bit']:.1f})")
    folders = {"fp32": args.fp32, "1bit": binary}
    for label, folder in folders.items():
        r = in_fresh_process(session_rss, folder, args.threads)
        print(f"{label} sessions: +{r['loaded']:.1f} MB loaded, +{r['run']:.1f} MB after one call of each generator "
              f"(2 tiles of {TILE}^2, {args.threads} threads), process peak {r['rss_peak_mb']:.0f} MB")
    print(f"{'MP':>6} {'model':<6} {'best s':>7} {'MP/s':>6} {'generators s':>13} {'other s':>8} {'peak RSS MB':>12} "
          f"{'(all runs)':>10}")
    for mp in args.megapixels:
        best: dict[str, dict[str, float]] = {}
        rss: dict[str, list[float]] = {label: [] for label in folders}
        for _ in range(args.rounds):
            for label, folder in folders.items():
                r = in_fresh_process(pipeline_run, folder, mp, args.threads)
                rss[label].append(r["rss_peak_mb"])
                if label not in best or r["seconds"] < best[label]["seconds"]:
                    best[label] = r
        for label, r in best.items():
            print(f"{r['pixels'] / 1e6:6.1f} {label:<6} {r['seconds']:7.2f} {r['pixels'] / 1e6 / r['seconds']:6.2f} "
                  f"{r['network']:13.2f} {r['seconds'] - r['network']:8.2f} {r['rss_peak_mb']:12.0f} "
                  f"{min(rss[label]):>4.0f}-{max(rss[label]):.0f}")
        print(f"       1bit / fp32: pipeline MP/s {best['fp32']['seconds'] / best['1bit']['seconds']:.2f}x, "
              f"generators {best['fp32']['network'] / best['1bit']['network']:.2f}x; peak RSS 1bit - fp32 "
              f"{best['1bit']['rss_peak_mb'] - best['fp32']['rss_peak_mb']:+.0f} MB (best runs), "
              f"{np.median(rss['1bit']) - np.median(rss['fp32']):+.0f} MB (medians of all runs)")
    against = args.against or args.reference_to
    if against is not None:
        agreement, pixels = pipeline_agreement(binary, against, args.pages, args.threads)
        print(f"pipeline output of {binary} vs {against} ({folder_bytes(against) / 1e3:.0f} kB): "
              f"{100 * agreement:.3f}% of {pixels / 1e6:.1f} MP agree ({args.pages} pages of each of "
              f"{', '.join(DEV_SETS)})")
    # last: the sessions opened here would raise the RSS high-water mark that the page runs' children inherit
    ms = generator_ms(folders, 5 * args.rounds)
    print(f"gray generator, one {TILE}x{TILE} tile, 1 thread: fp32 {ms['fp32']:.1f} ms, 1bit {ms['1bit']:.1f} ms "
          f"({ms['fp32'] / ms['1bit']:.2f}x)")
    for label, folder in folders.items():
        ops = op_ms(folder, 5 * args.rounds)
        print(f"  {label} ms per op type ({sum(ops.values()):.1f} in kernels): "
              + ", ".join(f"{op} {value:.1f}" for op, value in ops.items() if value >= 0.05))


if __name__ == "__main__":
    main()

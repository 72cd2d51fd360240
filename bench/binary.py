"""The 1-bit int8 three-stage model against the fp32 one, in one run: file bytes, ms per 1024 x 1024 of the
gray generator alone (same process, interleaved, best of N), and the whole pipeline on a ~1 MP and a ~12 MP
page (a fresh process per measurement, interleaved, best of N) with each one's peak RSS.

A 1-bit folder for speed and size alone can be made from the fp32 checkpoints without any training
(``--convert-to``: every generator's weights binarized as they are, gray from ``--gray`` when given, e.g. the
fine-tuned one); its quality is meaningless, its graph and bytes are those of a trained 1-bit model. Peak RSS
is each page run's own fresh process's (the export runs in a child of its own, and the generator timing, which
opens sessions here, comes last: a child inherits its parent's RSS high-water mark).

    python bench/binary.py --binary models/threestage_1bit [--threads 2] [--rounds 3]
    python bench/binary.py --convert-to runs/threestage_1bit_speed --gray runs/binary_cmp/reste/gray.pt
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from learned import PAGE, REPO, Case, in_fresh_process  # noqa: E402  (bench/learned.py)

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


def convert_and_export(checkpoints: Path, gray: Path | None, out: Path, fp32: Path) -> None:
    """:func:`convert_checkpoints`, then the 1-bit export of the result into ``out`` (calibrated on pages of the
    training sets)."""
    from docbin.models.export_binary import export_binary_checkpoints
    from docbin.models.train import TRAIN_SETS
    from docbin.threestage.models import load_model

    with tempfile.TemporaryDirectory() as tmp:
        convert_checkpoints(checkpoints, Path(tmp), gray)
        export_binary_checkpoints(Path(tmp), out, REPO.parent / "shared" / "data", TRAIN_SETS, load_model(fp32).config)


def generator_ms(fp32: Path, binary: Path, threads: int, rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` ms of the gray generator on a 1 x 1 x 1024 x 1024 input, the two interleaved."""
    from docbin.threestage.models import load_model
    from docbin.threestage.sessions import onnx_runner

    x = np.random.default_rng(0).random((1, 1, 1024, 1024), dtype=np.float32)
    runners = {label: onnx_runner(load_model(folder).path("gray"), threads) for label, folder in
               (("fp32", fp32), ("1bit", binary))}
    best = {label: float("inf") for label in runners}
    for _ in range(rounds + 1):  # the first round warms up
        for label, run in runners.items():
            start = time.perf_counter()
            run(x)
            best[label] = min(best[label], 1000 * (time.perf_counter() - start))
    return best


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
    args = parser.parse_args()
    if not PAGE.is_file():
        raise SystemExit(f"benchmark page {PAGE} not found (needs ../shared)")
    binary = args.binary or args.convert_to
    if binary is None:
        raise SystemExit("give --binary DIR or --convert-to DIR")
    if args.convert_to is not None:  # in a child process: peak RSS is inherited across fork and exec
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            pool.submit(convert_and_export, args.checkpoints, args.gray, args.convert_to, args.fp32).result()
    sizes = {label: folder_bytes(folder) for label, folder in (("fp32", args.fp32), ("1bit", binary))}
    print(f"files: fp32 {sizes['fp32'] / 1e6:.2f} MB, 1bit {sizes['1bit'] / 1e3:.0f} kB "
          f"(1/{sizes['fp32'] / sizes['1bit']:.1f})")
    print(f"{'MP':>6} {'model':<6} {'best s':>7} {'MP/s':>6} {'peak RSS MB':>12}")
    for mp in (1.0, 12.0):
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for label, folder in (("fp32", args.fp32), ("1bit", binary)):
                r = in_fresh_process(Case("threestage", mp, str(folder), args.threads, stages=False))
                if label not in best or r["seconds"] < best[label]["seconds"]:
                    best[label] = r  # type: ignore[assignment]
        for label, r in best.items():
            print(f"{r['pixels'] / 1e6:6.1f} {label:<6} {r['seconds']:7.2f} {r['pixels'] / 1e6 / r['seconds']:6.2f} "
                  f"{r['rss_peak_mb']:12.0f}")
        print(f"       1bit / fp32 MP/s: {best['fp32']['seconds'] / best['1bit']['seconds']:.2f}x")
    # last: the sessions it opens here would raise the RSS high-water mark that the page runs' children inherit
    ms = generator_ms(args.fp32, binary, args.threads, args.rounds)
    print(f"gray generator, 1024x1024, threads={args.threads}: fp32 {ms['fp32']:.0f} ms, 1bit {ms['1bit']:.0f} ms "
          f"({ms['fp32'] / ms['1bit']:.2f}x)")


if __name__ == "__main__":
    main()

"""Batch throughput: the local process pool vs the Dask engine on the same folder of real pages.

Cuts ``--pages`` pages (halves of the scans under ``--data``) into a folder under /tmp,
then runs them through, interleaved for ``--rounds`` rounds (best of each kept): the local engine with 1 and
2 worker processes, and the Dask engine on an already running LocalCluster of 1 and 2 single-threaded
workers (the steady state of a long archive run), plus one cold Dask run that starts its own LocalCluster
(what ``docbin binarize --engine dask`` does). Prints pages/s, the scaling from 1 to 2 workers, Dask/local
ratios, the wall-clock difference per page, Dask's own cost per task (chunks of nothing) and whether every
Dask output is byte-identical to the local engine's.

    python bench/batch.py --pages 200 --rounds 3 --method sauvola
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from docbin import batch, io, registry
from docbin.dask_engine import DaskEngine, chunk_jobs, local_cluster
from docbin.engines import Engine, ProcessPoolEngine


def cut_pages(data: Path, folder: Path, count: int) -> list[Path]:
    """Up to ``count`` pages: the top and bottom halves of each scan under ``data`` (~1-2 MP each)."""
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for scan in sorted(data.glob("*/images/*.png")):
        pixels = io.read_image(scan)
        half = pixels.shape[0] // 2
        for index, part in enumerate((pixels[:half], pixels[half:])):
            path = folder / f"{scan.parent.parent.name}_{scan.stem}_{index}.png"
            if not path.exists():
                Image.fromarray(part).save(path)
            made.append(path)
            if len(made) == count:
                return made
    return made


def timed_run(jobs: list[batch.Job], task: batch.Task, engine: Engine) -> tuple[float, float]:
    """Seconds to run ``jobs`` (into a fresh output folder) on ``engine``, and the pages/s after the first
    10% of pages finished (start-up of processes or a cluster excluded, for either engine)."""
    shutil.rmtree(jobs[0].dst.parent, ignore_errors=True)
    done: list[float] = []
    start = time.perf_counter()
    summary = batch.run_batch(jobs, task, engine, on_result=lambda _: done.append(time.perf_counter()))
    seconds = time.perf_counter() - start
    if summary.count("ok") != len(jobs):
        raise SystemExit(f"{len(jobs) - summary.count('ok')} file(s) failed: {summary.results[0].error}")
    first = len(jobs) // 10
    return seconds, (len(jobs) - 1 - first) / max(done[-1] - done[first], 1e-9)


def task_overhead(scheduler: str, task: batch.Task, count: int = 200) -> float:
    """Seconds per task of the Dask engine when the work itself is nil: one-file chunks whose file is
    missing (each fails at its first ``stat``), through the same sliding window as a real run."""
    jobs = [batch.Job(Path(f"/nonexistent/{i}.png"), Path(f"/nonexistent/out/{i}.png")) for i in range(count)]
    start = time.perf_counter()
    results = list(DaskEngine(scheduler, chunk_files=1).run(batch.run_job, jobs, task))
    assert len(results) == count and all(r.error_code == "os_error" for r in results)
    return (time.perf_counter() - start) / count


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/docbin-bench-batch"))
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--method", default="sauvola")
    args = parser.parse_args()

    pages = cut_pages(args.data, args.work / "pages", args.pages)
    if not pages:
        raise SystemExit(f"no scans under {args.data}/*/images")
    task = batch.Task(args.method, registry.get(args.method).validate({}), "png")
    megapixels = sum(io.pixel_count(p) for p in pages) / 1e6
    print(f"{len(pages)} pages ({megapixels:.0f} MP) cut from {args.data}, method {args.method}, "
          f"best of {args.rounds} interleaved rounds after a warm-up on 8 pages")

    def jobs_into(name: str, count: int = len(pages)) -> list[batch.Job]:
        return [batch.Job(p, args.work / name / p.name) for p in pages[:count]]

    clusters = {n: local_cluster(n) for n in (1, 2)}
    engines: dict[str, tuple[str, Callable[[], Engine]]] = {
        "local, 1 worker": ("local1", lambda: ProcessPoolEngine(1)),
        "local, 2 workers": ("local2", lambda: ProcessPoolEngine(2)),
        "dask, 1 worker": ("dask1", lambda: DaskEngine(clusters[1].scheduler_address)),
        "dask, 2 workers": ("dask2", lambda: DaskEngine(clusters[2].scheduler_address)),
        "dask, 2 workers, cold": ("dask2cold", lambda: DaskEngine(workers=2)),
    }
    best = {name: float("inf") for name in engines}
    steady = {name: 0.0 for name in engines}
    try:
        for folder, engine in engines.values():  # warm-up: page cache, imports, the warm clusters' workers
            timed_run(jobs_into(folder, 8), task, engine())
        for _ in range(args.rounds):
            for name, (folder, engine) in engines.items():
                seconds, rate = timed_run(jobs_into(folder), task, engine())
                best[name], steady[name] = min(best[name], seconds), max(steady[name], rate)
        per_task = task_overhead(clusters[2].scheduler_address, task)
    finally:
        for cluster in clusters.values():
            cluster.close()

    print(f"{'':24s} {'end to end':>22s}   steady (after 10%)")
    for name, seconds in best.items():
        print(f"{name:24s} {seconds:7.2f} s {len(pages) / seconds:7.2f} pages/s   {steady[name]:7.2f} pages/s")
    for engine in ("local", "dask"):
        one, two = best[f"{engine}, 1 worker"], best[f"{engine}, 2 workers"]
        ratio = steady[f"{engine}, 2 workers"] / steady[f"{engine}, 1 worker"]
        print(f"{engine}: 2 workers / 1 worker = {one / two:.2f}x end to end, {ratio:.2f}x steady")
    for n in ("1 worker", "2 workers"):
        ratio = best[f"local, {n}"] / best[f"dask, {n}"]
        overhead_ms = (best[f"dask, {n}"] - best[f"local, {n}"]) / len(pages) * 1e3
        print(f"{n}: dask (warm) / local = {ratio:.3f}x end to end ({overhead_ms:+.1f} ms wall per page), "
              f"{steady[f'dask, {n}'] / steady[f'local, {n}']:.3f}x steady")
    cold = best["dask, 2 workers, cold"] - best["dask, 2 workers"]
    print(f"cold start (LocalCluster of 2 + teardown): {cold:.2f} s; cold dask-2 / local-2 = "
          f"{best['local, 2 workers'] / best['dask, 2 workers, cold']:.3f}x end to end, "
          f"{steady['dask, 2 workers, cold'] / steady['local, 2 workers']:.3f}x steady")
    chunks = sum(1 for _ in chunk_jobs(jobs_into("dask2")))
    print(f"Dask's own cost per task (one-file chunks of missing files, warm cluster of 2): {per_task * 1e3:.1f} ms "
          f"wall; {chunks} tasks here, i.e. {per_task * chunks / len(pages) * 1e3:.1f} ms per page")
    reference = outputs(args.work / "local2")
    same = all(outputs(args.work / name) == reference for name in ("local1", "dask1", "dask2", "dask2cold"))
    print(f"outputs byte-identical to the local engine's: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()

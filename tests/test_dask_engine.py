"""The Dask engine (``docbin binarize --engine dask``) on loopback: same outputs as the local engine, bad
files reported, resume, a poison file isolated, a worker killed mid-run, the scheduler going away."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from docbin import batch, engines, io
from docbin.cli import app
from docbin.errors import ClusterError, OutputPathError

from conftest import text_page

distributed = pytest.importorskip("distributed")
from docbin import dask_engine  # noqa: E402  (needs distributed)

runner = CliRunner()




def make_pages(folder: Path, count: int, size: tuple[int, int] = (120, 200)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"p{i:03d}.png" for i in range(count)]
    for i, path in enumerate(paths):
        Image.fromarray(text_page(i, size)).save(path)
    return paths


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_chunks_are_sized_by_header_pixels(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.fromarray(text_page(0, (100, 100))).save(big)  # 10_000 pixels
    small = make_pages(tmp_path / "s", 5, (10, 100))  # 1_000 pixels each
    (tmp_path / "bad.png").write_bytes(b"not an image")
    jobs = [batch.Job(p, tmp_path / "o" / p.name) for p in [*small, big, tmp_path / "bad.png", *small[:2]]]
    sizes = [[j.src.name for j in chunk] for chunk in dask_engine.chunk_jobs(jobs, max_pixels=3_500, max_files=2)]
    assert sizes == [["p000.png", "p001.png"], ["p002.png", "p003.png"], ["p004.png"], ["big.png"],
                     ["bad.png", "p000.png"], ["p001.png"]]  # an unreadable header counts 0 pixels
    assert [len(c) for c in dask_engine.chunk_jobs(jobs, max_pixels=3_500, max_files=64)] == [3, 2, 1, 3]


def test_cli_local_cluster_equals_local_engine_and_reports_bad_files(tmp_path: Path) -> None:
    src = tmp_path / "in"
    make_pages(src / "sub", 6)
    Image.fromarray(text_page(9)).save(src / "top.tif")
    (src / "sub" / "corrupt.png").write_bytes((src / "sub" / "p000.png").read_bytes()[:100])
    args = ["binarize", str(src), "-r", "-q", "-j", "2"]
    local = runner.invoke(app, [*args, "-o", str(tmp_path / "local")])
    dask = runner.invoke(app, [*args, "-o", str(tmp_path / "dask"), "--engine", "dask",
                               "--report", str(tmp_path / "run.json")])
    assert local.exit_code == dask.exit_code == 1, dask.output
    assert snapshot(tmp_path / "dask") == snapshot(tmp_path / "local")  # byte-identical, same tree
    assert len(snapshot(tmp_path / "dask")) == 7
    report = json.loads((tmp_path / "run.json").read_text())
    assert sorted(Path(r["src"]).name for r in report["results"]) == sorted(
        ["corrupt.png", "top.tif", *(f"p{i:03d}.png" for i in range(6))]
    )
    (bad,) = [r for r in report["results"] if r["status"] == "failed"]
    assert bad["error_code"] == "corrupt_image" and bad["src"] == str(src / "sub" / "corrupt.png")
    assert "corrupt.png" in dask.output


def test_cli_scheduler_needs_the_dask_engine(tmp_path: Path) -> None:
    make_pages(tmp_path / "in", 1)
    result = runner.invoke(app, ["binarize", str(tmp_path / "in"), "-o", str(tmp_path / "o"),
                                 "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "dask engine" in result.output


def test_unreachable_scheduler_is_a_cluster_error(tmp_path: Path) -> None:
    make_pages(tmp_path / "in", 1)
    jobs = batch.plan_jobs([tmp_path / "in"], tmp_path / "out", "png", recursive=False)
    engine = dask_engine.DaskEngine(f"tcp://127.0.0.1:{free_port()}", connect_timeout=1)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        batch.run_batch(jobs, batch.Task("otsu", {}), engine)
    assert not (tmp_path / "out").exists()


def test_api_run_resumes_with_skip_existing(tmp_path: Path) -> None:
    make_pages(tmp_path / "in", 5)
    out = tmp_path / "out"
    first = batch.run([tmp_path / "in"], out, method="otsu", engine="dask", workers=1)
    assert first.count("ok") == 5 and first.method == "otsu"
    (out / "p003.png").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(OutputPathError, match="already exist"):
        batch.run([tmp_path / "in"], out, method="otsu", engine="dask", workers=1)
    again = batch.run([tmp_path / "in"], out, method="otsu", engine="dask", workers=1, skip_existing=True)
    assert (again.count("ok"), again.count("skipped")) == (1, 4)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name in kept} == kept
    assert (out / "p003.png").exists()


@pytest.mark.slow
def test_learned_method_equals_local_engine(tmp_path: Path) -> None:
    """The three-stage model (onnxruntime sessions cached per worker process) writes the same bytes."""
    make_pages(tmp_path / "in", 2)
    for engine in ("local", "dask"):
        summary = batch.run([tmp_path / "in"], tmp_path / engine, method="threestage", engine=engine, workers=2)
        assert summary.count("ok") == 2, summary.results
    assert snapshot(tmp_path / "dask") == snapshot(tmp_path / "local")


@pytest.mark.slow
def test_file_that_kills_its_workers_is_isolated(tmp_path: Path) -> None:
    """The chunk holding the poison file dies twice, is split, and only the poison file fails."""
    src, out = tmp_path / "in", tmp_path / "out"
    make_pages(src, 6, (40, 60))
    page = text_page(2, (40, 60))
    page[0, 0] = 7  # die-on-marker (tests/crash_plugin.py) kills its process on this pixel
    Image.fromarray(page).save(src / "p002.png")
    jobs = batch.plan_jobs([src], out, "png", recursive=False)
    engine = dask_engine.DaskEngine(workers=2, plugins=["crash_plugin"], chunk_files=3)
    summary = batch.run_batch(jobs, batch.Task("die-on-marker", {}), engine)
    status = {Path(r.src).name: (r.status, r.error_code) for r in summary.results}
    assert len(summary.results) == 6
    assert status.pop("p002.png") == ("failed", "worker_died")
    assert set(status.values()) == {("ok", None)}
    assert sorted(p.name for p in out.iterdir()) == [f"p{i:03d}.png" for i in (0, 1, 3, 4, 5)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture
def cluster() -> Iterator[tuple[str, subprocess.Popen[bytes], list[subprocess.Popen[bytes]]]]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes on 127.0.0.1."""
    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = start("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard")
    workers = [start("worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard")
               for _ in range(2)]
    try:
        with distributed.Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, scheduler, workers
    finally:
        for proc in [*workers, scheduler]:
            stop(proc)


@pytest.mark.slow
def test_worker_killed_mid_run_loses_no_file(tmp_path: Path, cluster) -> None:
    address, _, workers = cluster
    make_pages(tmp_path / "in", 100, (300, 400))
    jobs = batch.plan_jobs([tmp_path / "in"], tmp_path / "out", "png", recursive=False)
    task = batch.Task("sauvola", {})
    seen: list[batch.JobResult] = []

    def kill_one_worker_early(result: batch.JobResult) -> None:
        seen.append(result)
        if len(seen) == 4:
            stop(workers[0])

    engine = dask_engine.DaskEngine(address, chunk_files=4)
    summary = batch.run_batch(jobs, task, engine, on_result=kill_one_worker_early)
    assert workers[0].poll() is not None and len(seen) == 100
    assert sorted(Path(r.src).name for r in summary.results) == [f"p{i:03d}.png" for i in range(100)]
    assert {r.status for r in summary.results} == {"ok"}
    local = batch.run_batch([batch.Job(j.src, tmp_path / "local" / j.dst.name) for j in jobs], task,
                            engines.SerialEngine())
    assert local.count("ok") == 100
    assert snapshot(tmp_path / "out") == snapshot(tmp_path / "local")  # complete, no temp files, same bytes
    with distributed.Client(address, set_as_default=False) as client:  # as DOCBIN_THREADS=1 pool workers
        threads = client.run(lambda: (os.environ.get("DOCBIN_THREADS"), cv2.getNumThreads()))  # by value
    assert set(threads.values()) == {("1", 1)}


@pytest.mark.slow
def test_scheduler_going_away_is_a_clear_error_and_resumable(tmp_path: Path, cluster) -> None:
    address, scheduler, _ = cluster
    make_pages(tmp_path / "in", 60, (300, 400))
    out = tmp_path / "out"
    jobs = batch.plan_jobs([tmp_path / "in"], out, "png", recursive=False)

    def kill_scheduler_early(result: batch.JobResult) -> None:
        if scheduler.poll() is None:
            stop(scheduler)

    with pytest.raises(ClusterError, match="--skip-existing"):
        batch.run_batch(jobs, batch.Task("sauvola", {}), dask_engine.DaskEngine(address, chunk_files=2),
                        on_result=kill_scheduler_early)
    written = list(out.glob("*.png"))
    assert 0 < len(written) < 60
    for path in written:
        assert io.read_image(path).shape == (300, 400)
    resumed = batch.run([tmp_path / "in"], out, method="sauvola", skip_existing=True, workers=1)
    assert resumed.count("failed") == 0 and resumed.count("ok") + resumed.count("skipped") == 60
    assert sorted(p.name for p in out.iterdir()) == [f"p{i:03d}.png" for i in range(60)]

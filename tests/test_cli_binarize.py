"""End-to-end tests of ``docbin binarize``: folders, bad files, resume, parallel workers, crashes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from docbin import batch, engines, io, registry
from docbin.cli import app
from docbin.commands import binarize as binarize_command
from docbin.shutdown import Interrupted

from conftest import text_page

runner = CliRunner()




@pytest.fixture
def scans(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    (root / "box1" / "folder2").mkdir(parents=True)
    Image.fromarray(text_page(1)).save(root / "a.png", dpi=(300, 300))
    Image.fromarray(cv2.cvtColor(text_page(2), cv2.COLOR_GRAY2RGB)).save(root / "box1" / "b.jpg", quality=95)
    Image.fromarray(text_page(3)).save(root / "box1" / "folder2" / "c.tif", dpi=(400, 400))
    good = (root / "a.png").read_bytes()
    (root / "box1" / "corrupt.png").write_bytes(good[: len(good) // 2])
    (root / "box1" / "notes.png").write_text("this is not an image")
    (root / "readme.txt").write_text("ignored: not an image suffix")
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_folder_run_mirrors_structure_and_reports_failures(scans: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "run.json"
    before = snapshot(scans)
    result = runner.invoke(
        app, ["binarize", str(scans), "-o", str(out), "-r", "-j", "2", "--report", str(report), "-q"]
    )
    assert result.exit_code == 1, result.output
    assert snapshot(scans) == before  # inputs untouched
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "a.png", "box1/b.png", "box1/folder2/c.tif",
    ]
    a = Image.open(out / "a.png")
    assert a.mode == "1" and round(a.info["dpi"][0]) == 300
    c = Image.open(out / "box1" / "folder2" / "c.tif")
    assert c.mode == "1" and round(c.info["dpi"][0]) == 400
    ink = np.asarray(a.convert("L")) == 0
    assert 0.01 < ink.mean() < 0.3

    summary = json.loads(report.read_text())
    status = {Path(r["src"]).name: r for r in summary["results"]}
    assert {k: v["status"] for k, v in status.items()} == {
        "a.png": "ok", "b.jpg": "ok", "c.tif": "ok", "corrupt.png": "failed", "notes.png": "failed",
    }
    assert status["corrupt.png"]["error_code"] == "corrupt_image"
    assert status["notes.png"]["error_code"] == "not_an_image"
    assert summary["method"] == "sauvola" and summary["failed"] == 2
    assert "corrupt.png" in result.output and "2 failed" in result.output
    corrupt = str(scans / "box1" / "corrupt.png")
    assert f"FAILED {corrupt}: the image data is corrupt" in result.output  # the path once, not twice


def test_rerun_refuses_then_resumes_with_skip_existing(scans: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner.invoke(app, ["binarize", str(scans / "a.png"), "-o", str(out), "-q"])
    first = (out / "a.png").stat().st_mtime_ns
    again = runner.invoke(app, ["binarize", str(scans / "a.png"), "-o", str(out), "-q"])
    assert again.exit_code == 2 and "--skip-existing" in again.output
    resumed = runner.invoke(app, ["binarize", str(scans), "-o", str(out), "-q", "--skip-existing"])
    assert resumed.exit_code == 0, resumed.output  # corrupt files live in box1, not recursed into
    assert "1 skipped" in resumed.output and (out / "a.png").stat().st_mtime_ns == first
    replaced = runner.invoke(app, ["binarize", str(scans / "a.png"), "-o", str(out), "-q", "--overwrite"])
    assert replaced.exit_code == 0 and (out / "a.png").stat().st_mtime_ns != first


@pytest.mark.parametrize(
    "args,message",
    [
        (["--method", "nope"], "unknown method"),
        (["--param", "window=abc"], "window"),
        (["--param", "window"], "name=value"),
        (["--skip-existing", "--overwrite"], "exclude each other"),
    ],
)
def test_usage_errors_exit_2(scans: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["binarize", str(scans / "a.png"), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "o").exists()


def test_never_writes_over_inputs(scans: Path) -> None:
    same = runner.invoke(app, ["binarize", str(scans), "-o", str(scans)])
    assert same.exit_code == 2 and "also an input folder" in same.output
    inner = scans / "box1"
    clash = runner.invoke(app, ["binarize", str(scans / "a.png"), str(inner / "notes.png"), "-o", str(inner)])
    assert clash.exit_code == 2


def test_output_inside_input_tree_is_not_an_input(scans: Path) -> None:
    out = scans / "binarized"
    assert runner.invoke(app, ["binarize", str(scans), "-o", str(out), "-q", "-r"]).exit_code == 1  # 2 bad files
    rerun = runner.invoke(app, ["binarize", str(scans), "-o", str(out), "-q", "--skip-existing", "-r"])
    assert rerun.exit_code == 1 and "0 ok, 3 skipped, 2 failed" in rerun.output
    assert f"warning: 3 image(s) under the output folder {out} skipped" in rerun.output


def test_multipage_tiff_keeps_pages_and_png_refuses(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    pages = [Image.fromarray(text_page(s)) for s in (4, 5, 6)]
    pages[0].save(src / "book.tiff", save_all=True, append_images=pages[1:])
    ok = runner.invoke(app, ["binarize", str(src), "-o", str(tmp_path / "t"), "-q"])
    assert ok.exit_code == 0, ok.output
    assert len(io.read_scan(tmp_path / "t" / "book.tif").pages) == 3
    png = runner.invoke(app, ["binarize", str(src), "-o", str(tmp_path / "p"), "-q", "--format", "png"])
    assert png.exit_code == 1 and "3 pages" in png.output


def test_worker_crash_fails_only_its_file(tmp_path: Path) -> None:
    """A file that kills its worker process is reported; files in flight beside it are retried."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(6):
        page = text_page(i, (40, 60))
        page[0, 0] = 7 if i == 2 else 200
        Image.fromarray(page).save(src / f"p{i}.png")
    jobs = batch.plan_jobs([src], out, "png", recursive=False)
    engine = engines.ProcessPoolEngine(2, plugins=["crash_plugin"])
    summary = batch.run_batch(jobs, batch.Task("die-on-marker", {}), engine)
    status = {Path(r.src).name: (r.status, r.error_code) for r in summary.results}
    assert status.pop("p2.png") == ("failed", "worker_died")
    assert set(status.values()) == {("ok", None)}
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p3.png", "p4.png", "p5.png"]


def test_workers_without_the_plugin_report_an_unknown_method(tmp_path: Path) -> None:
    """Workers are fresh processes: a method the caller has not told them about fails each file clearly."""
    Image.fromarray(text_page(0, (40, 60))).save(tmp_path / "p.png")
    jobs = batch.plan_jobs([tmp_path / "p.png"], tmp_path / "out", "png", recursive=False)
    summary = batch.run_batch(jobs, batch.Task("die-on-marker", {}), engines.ProcessPoolEngine(2))
    (result,) = summary.results
    assert result.status == "failed" and "die-on-marker" in (result.error or "")


def test_killed_run_leaves_only_complete_outputs_and_resumes(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(40):
        Image.fromarray(text_page(i, (600, 800))).save(src / f"s{i:02d}.png")
    cmd = [sys.executable, "-m", "docbin", "binarize", str(src), "-o", str(out), "-j", "2", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*.png"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = list(out.glob("*.png"))
    assert 3 <= len(written) < 40, "the run should have been interrupted part-way"
    for path in written:
        assert io.read_image(path).shape == (600, 800)  # every visible output is complete
    (out / f".s00.png.1234abcd{io.TEMP_SUFFIX}").write_bytes(b"half")  # as if killed mid-write
    resume = subprocess.run([*cmd, "--skip-existing"], capture_output=True, text=True, timeout=300)
    assert resume.returncode == 0, resume.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"s{i:02d}.png" for i in range(40)]


def group_gone(pgid: int, seconds: float) -> bool:
    """Whether every process of the process group ``pgid`` exits within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def start_run(tmp_path: Path, files: int, *extra: str) -> tuple[subprocess.Popen, list[str], Path]:
    """A 2-worker ``docbin binarize`` in its own session, returned once it has written an output."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(files):
        Image.fromarray(text_page(i, (800, 1100))).save(src / f"s{i:02d}.png")
    cmd = [sys.executable, "-m", "docbin", "binarize", str(src), "-o", str(out), "-j", "2", "-q", *extra]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob("*.png")):
        time.sleep(0.02)
    return proc, cmd, out


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_stop_the_run_with_a_report(tmp_path: Path, signum: int, code: int) -> None:
    report = tmp_path / "run.json"
    proc, cmd, out = start_run(tmp_path, 16, "--report", str(report))
    os.kill(proc.pid, signum)
    assert proc.wait(timeout=30) == code, proc.stderr.read()
    assert f"interrupted by {signal.Signals(signum).name}" in proc.stderr.read()
    assert group_gone(proc.pid, 10)  # no worker, fork server or resource tracker left
    summary = json.loads(report.read_text())
    assert summary["interrupted"] == signal.Signals(signum).name
    assert summary["ok"] + summary["unfinished"] == 16 and summary["unfinished"] > 0
    written = list(out.iterdir())
    assert not [p for p in written if p.name.startswith(".")]  # no temp file of an abandoned job
    assert summary["ok"] <= len(written) < 16  # a job may finish as it is abandoned: complete, not reported
    assert all(io.read_image(p).shape == (800, 1100) for p in written)
    resume = subprocess.run([*cmd, "--skip-existing"], capture_output=True, text=True, timeout=300)
    assert resume.returncode == 0, resume.stderr
    assert len(list(out.glob("*.png"))) == 16


def test_workers_exit_when_the_run_is_killed(tmp_path: Path) -> None:
    proc, _, _ = start_run(tmp_path, 8)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert group_gone(proc.pid, 10)


def test_an_interrupt_abandons_jobs_in_flight(tmp_path: Path) -> None:
    """Jobs that would run a minute are abandoned at once: workers killed, no output, no temp file."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(5):
        page = text_page(i, (40, 60))
        page[0, 0] = 200 if i == 0 else 7  # p0 is quick, the others sleep
        Image.fromarray(page).save(src / f"p{i}.png")
    jobs = batch.plan_jobs([src], out, "png", recursive=False)

    def interrupt(_result: batch.JobResult) -> None:
        raise Interrupted(signal.SIGTERM)

    start = time.monotonic()
    summary = batch.run_batch(
        jobs, batch.Task("sleep-on-marker", {}), engines.ProcessPoolEngine(2, plugins=["slow_plugin"]),
        on_result=interrupt,
    )
    assert time.monotonic() - start < 20
    assert summary.interrupted == "SIGTERM" and summary.unfinished == 4
    assert [r.src for r in summary.results] == [str(src / "p0.png")]
    assert [p.name for p in out.iterdir()] == ["p0.png"]
    assert not multiprocessing.active_children()


def test_a_write_in_progress_keeps_its_temp_file_until_the_run_ends(tmp_path: Path) -> None:
    """A job never deletes another writer's temp file (a Dask worker a lost scheduler left running may be
    writing the same output); the run removes its outputs' leftovers once its own workers have stopped."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    Image.fromarray(text_page(0, (40, 60))).save(src / "p0.png")
    Image.fromarray(text_page(1, (40, 60))).save(src / "p1.png")
    jobs = batch.plan_jobs([src], out, "png", recursive=False)
    out.mkdir()
    other_writer = out / f".p0.png.1234abcd{io.TEMP_SUFFIX}"
    other_writer.write_bytes(b"in progress")
    unrelated = out / f".notes.png.1234abcd{io.TEMP_SUFFIX}"
    unrelated.write_bytes(b"not this run's")
    assert batch.run_job(jobs[0], batch.Task("otsu", {})).status == "ok"
    assert other_writer.exists()
    seen: list[bool] = []
    summary = batch.run_batch(jobs, batch.Task("otsu", {}), engines.make_engine(1, "local"),
                              on_result=lambda _r: seen.append(other_writer.exists()))
    assert summary.count("ok") == 2 and all(seen)  # kept while the run's jobs ran
    assert not other_writer.exists() and unrelated.exists()
    assert sorted(p.name for p in out.iterdir()) == [".notes.png.1234abcd" + io.TEMP_SUFFIX, "p0.png", "p1.png"]


@pytest.mark.parametrize(
    "where,message",
    [("missing/run.json", "does not exist"), (".", "is a folder"), ("ro/run.json", "cannot write")],
)
def test_an_unwritable_report_is_refused_before_the_run(
    scans: Path, tmp_path: Path, where: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where.startswith("ro"):
        (tmp_path / "ro").mkdir(mode=0o555)
        if os.geteuid() == 0:  # root writes in read-only folders: the folder refuses as it would anyone else

            def refuse(**_kw: object) -> None:
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(binarize_command.tempfile, "TemporaryFile", refuse)
    out = tmp_path / "out"
    result = runner.invoke(app, ["binarize", str(scans / "a.png"), "-o", str(out), "--report", str(tmp_path / where)])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_output_that_is_a_file_is_one_usage_error(scans: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(app, ["binarize", str(scans), "-r", "-o", str(target), "-q"])
    assert result.exit_code == 2 and "is a file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_limits_refuse_a_file_per_file_and_bad_settings_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = [Image.fromarray(text_page(s, (40, 60))) for s in range(3)]
    pages[0].save(tmp_path / "book.tif", save_all=True, append_images=pages[1:])
    report = tmp_path / "run.json"
    args = ["binarize", str(tmp_path / "book.tif"), "-o", str(tmp_path / "out"), "-q", "--report", str(report)]
    refused = runner.invoke(app, [*args, "--max-pages", "2"])
    assert refused.exit_code == 1 and "image_too_large" in refused.output
    (result,) = json.loads(report.read_text())["results"]
    assert result["error_code"] == "image_too_large" and "DOCBIN_MAX_PAGES" in result["error"]
    assert runner.invoke(app, [*args, "--max-pages", "3", "-j", "0"]).exit_code == 0
    monkeypatch.setenv("DOCBIN_MAX_PAGES", "lots")
    bad = runner.invoke(app, [*args, "--overwrite"])
    assert bad.exit_code == 2 and "DOCBIN_MAX_PAGES must be a positive integer" in bad.output


def test_a_threestage_tile_the_model_cannot_use_is_refused_up_front(scans: Path, tmp_path: Path) -> None:
    if registry.get("threestage").unavailable():
        pytest.skip("no usable three-stage model")
    out = tmp_path / "out"
    result = runner.invoke(app, ["binarize", str(scans), "-o", str(out), "-m", "threestage", "-p", "tile=1"])
    assert result.exit_code == 2 and "tile must be a multiple of 32" in result.output and not out.exists()

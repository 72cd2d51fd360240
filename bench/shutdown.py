"""SIGTERM during a parallel ``docbin binarize`` run (issue 20's bar): how long until the command exits and
until no process of it is left, whether a partial or temp file remains, what ``--report`` says, and whether
``--skip-existing`` then completes the set.

Copies the first ``--files`` scans of ``--data`` into a folder under /tmp, starts ``docbin binarize`` with
``--workers`` processes in its own session, sends SIGTERM ``--after`` seconds after the first output appears,
and watches the session's process group.

    python bench/shutdown.py --data /work/shared/data/dibco2013/images --files 6 --method threestage
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--method", default="threestage")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--after", type=float, default=2.0, help="seconds after the first output")
    args = parser.parse_args()

    work = Path("/tmp/docbin-bench-shutdown")
    shutil.rmtree(work, ignore_errors=True)
    src, out, report = work / "in", work / "out", work / "run.json"
    src.mkdir(parents=True)
    for scan in sorted(p for p in args.data.iterdir() if p.is_file())[: args.files]:
        shutil.copy(scan, src / scan.name)
    cmd = [sys.executable, "-m", "docbin", "binarize", str(src), "-o", str(out), "--method", args.method,
           "--workers", str(args.workers), "-q"]
    proc = subprocess.Popen([*cmd, "--report", str(report)], start_new_session=True, stderr=subprocess.PIPE,
                            text=True)
    start = time.monotonic()
    while not any(p.name[0] != "." for p in out.glob("*")) and proc.poll() is None:
        time.sleep(0.05)
    print(f"first output after {time.monotonic() - start:.1f} s")
    time.sleep(args.after)
    sent = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    code = proc.wait()
    exited = time.monotonic() - sent
    while group_alive(proc.pid) and time.monotonic() - sent < 60:
        time.sleep(0.05)
    gone = time.monotonic() - sent
    print(f"exit code {code} {exited:.2f} s after SIGTERM; no process of the run left after {gone:.2f} s")
    print("stderr:", " | ".join(proc.stderr.read().strip().splitlines()))
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    print(f"outputs: {sum(1 for p in out.iterdir()) - len(hidden)} of {args.files}; temp files left: {hidden}")
    summary = json.loads(report.read_text())
    print("report:", {k: summary[k] for k in ("files", "ok", "failed", "interrupted", "unfinished")})
    resumed = subprocess.run([*cmd, "--skip-existing"], capture_output=True, text=True)
    done = sum(1 for p in out.iterdir() if not p.name.startswith("."))
    print(f"--skip-existing: exit code {resumed.returncode}, outputs {done} of {args.files}")


if __name__ == "__main__":
    main()

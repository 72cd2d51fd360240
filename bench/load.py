"""Load test of ``docbin serve`` on loopback: concurrent clients post real pages for a bounded time.

Reports throughput (pages/s), latency percentiles, responses by status (every non-503 error counts as a
failure) and the peak RSS of the server and of its job worker processes. Starts and stops its own server; sends traffic to 127.0.0.1 only.

    python bench/load.py --clients 16 --seconds 60 --data ../shared/data
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from docbin.service.local import local_server

REPO = Path(__file__).resolve().parents[1]


def pick_pages(data: Path, count: int) -> list[bytes]:
    """Up to ``count`` of the largest pages under ``data`` (2-3 MP DIBCO scans), or the bundled sample."""
    pages = sorted(data.glob("*/images/*.png"), key=lambda p: p.stat().st_size, reverse=True)[:count]
    return [p.read_bytes() for p in pages] or [(REPO / "docbin" / "samples" / "sample_scan.png").read_bytes()]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def descendants(pid: int) -> list[int]:
    """The process ids below ``pid`` (the fork server and the job workers of ``docbin serve``), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


async def client(base: str, pages: list[bytes], until: float, latencies: list[float],
                 statuses: collections.Counter[int], method: str) -> None:
    async with httpx.AsyncClient(timeout=120) as http:
        i = 0
        while time.monotonic() < until:
            start = time.perf_counter()
            response = await http.post(f"{base}/v1/binarize", files={"file": ("page.png", pages[i % len(pages)])},
                                       data={"method": method})
            statuses[response.status_code] += 1
            if response.status_code == 200:
                latencies.append(time.perf_counter() - start)
            elif response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            i += 1


async def drive(base: str, pages: list[bytes], clients: int, seconds: float, method: str) -> tuple[list[float], collections.Counter[int], float]:
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    start = time.monotonic()
    await asyncio.gather(*(client(base, pages, start + seconds, latencies, statuses, method) for _ in range(clients)))
    return latencies, statuses, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--method", default="sauvola")
    args = parser.parse_args()

    pages = pick_pages(args.data, 8)
    with local_server() as server:
        latencies, statuses, elapsed = asyncio.run(
            drive(server.base_url, pages, args.clients, args.seconds, args.method))
        rss = peak_rss_mb(server.process.pid)
        worker_rss = [peak_rss_mb(pid) for pid in descendants(server.process.pid)]
    ms = np.array(latencies) * 1000
    failures = sum(n for status, n in statuses.items() if status not in (200, 503))
    print(f"{args.clients} clients, {elapsed:.0f} s, method {args.method}, {len(pages)} distinct pages")
    print(f"throughput {len(latencies) / elapsed:.2f} pages/s; responses {dict(sorted(statuses.items()))}")
    if len(ms):
        print(f"latency ms p50 {np.percentile(ms, 50):.0f}  p95 {np.percentile(ms, 95):.0f}  p99 {np.percentile(ms, 99):.0f}")
    print(f"server peak RSS {rss:.0f} MB, its {len(worker_rss)} child processes (fork server, job workers) "
          f"{max(worker_rss, default=0):.0f} MB at most ({sum(worker_rss):.0f} MB summed); "
          f"errors other than 503: {failures}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

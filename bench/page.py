"""The upload page on a large page in headless Chromium: how long each step takes and the longest main-thread
task (the page "freezes" for that long) while uploading and processing, opening the compare viewer, zooming to
1:1 and painting the ink overlay. Starts and stops its own ``docbin serve``; loopback only.

    python bench/page.py --width 4000 --height 3000 --method sauvola

Needs Playwright and Chromium (``apt-get install chromium``). Timings include Playwright's round trips.
"""

from __future__ import annotations

import argparse
import io as bytes_io
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

from docbin.service.local import local_server

# Long tasks (>= 50 ms on the main thread, W3C Long Tasks API) are collected from the page's start.
WATCH_LONG_TASKS = """
window.longTasks = [];
new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push(e.duration)))
  .observe({ type: "longtask", buffered: true });
"""
NEXT_FRAME = "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def text_page(width: int, height: int) -> bytes:
    """A gray page with lines of dark text, as PNG bytes."""
    page = np.full((height, width), 215, np.uint8)
    for y in range(100, height - 50, 60):
        cv2.putText(page, "the quick brown fox jumps over the lazy dog " * (width // 1500 + 1), (50, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 2)
    buffer = bytes_io.BytesIO()
    Image.fromarray(page).save(buffer, "PNG")
    return buffer.getvalue()


def step(page: Any, name: str, action: Any) -> None:
    """Run ``action``, print its wall time and the longest main-thread task since the previous step."""
    page.evaluate("window.longTasks = []")
    start = time.perf_counter()
    action()
    page.evaluate(NEXT_FRAME)
    longest = page.evaluate("Math.max(0, ...window.longTasks)")
    print(f"{name:<28} {time.perf_counter() - start:6.2f} s   longest main-thread task {longest:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--method", default="sauvola")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as folder, local_server(timeout_s=120) as server, sync_playwright() as pw:
        scan = Path(folder) / "page.png"
        scan.write_bytes(text_page(args.width, args.height))
        print(f"{args.width} x {args.height} page ({args.width * args.height / 1e6:.1f} MP, {scan.stat().st_size} "
              f"bytes), method {args.method}")
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000}, device_scale_factor=1)
        page.add_init_script(WATCH_LONG_TASKS)
        page.goto(server.base_url + "/")
        page.wait_for_selector(f"#method-a option[value='{args.method}']", state="attached")
        page.select_option("#method-a", args.method)
        page.set_input_files("#files", str(scan))

        def run() -> None:
            page.click("#run")
            page.wait_for_selector(".run[data-state=done]", timeout=600_000)

        step(page, "upload + binarize", run)
        step(page, "open compare (fit)", lambda: page.click(".thumb-button"))
        step(page, "zoom to 1:1", lambda: page.click("button[aria-label='Zoom to 1:1 pixels']"))

        def overlay() -> None:
            page.check("input[name=cmp-mode][value=overlay]")
            page.wait_for_selector("#cmp-viewport canvas[data-painted]", state="attached", timeout=60_000)

        step(page, "ink overlay painted", overlay)

        def wheel() -> None:
            for _ in range(10):
                page.mouse.move(600, 600)
                page.mouse.wheel(0, -100)

        step(page, "10 wheel zoom steps", wheel)
        step(page, "side by side", lambda: page.check("input[name=cmp-mode][value=side]"))
        browser.close()


if __name__ == "__main__":
    main()

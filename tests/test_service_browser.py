"""The upload page in a real browser: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import io as bytes_io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from docbin.service.local import local_server
from tests.test_service import SAMPLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped", allow_module_level=True)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


def test_upload_page_binarizes_the_sample(tmp_path: Path) -> None:
    with local_server() as server, playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(server.base_url + "/")
        page.wait_for_selector("#method option[value='sauvola']", state="attached")
        page.select_option("#method", "wolf")
        page.wait_for_selector("#params input[name='k']")
        page.set_input_files("#file", str(SAMPLE))
        page.click("button[type=submit]")
        page.wait_for_function("document.getElementById('status').textContent === 'Done.'", timeout=60_000)
        assert "wolf" in page.inner_text("#after-caption")
        href = page.get_attribute("#download", "href")
        data = page.evaluate(
            "async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", href
        )
        page.screenshot(path=str(tmp_path / "page.png"))
        browser.close()
    result = Image.open(bytes_io.BytesIO(bytes(data)))
    assert result.mode == "1" and result.size == Image.open(SAMPLE).size
    assert 0.01 < (np.asarray(result) == 0).mean() < 0.4

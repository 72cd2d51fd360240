"""The upload page in a real browser: headless Chromium (Debian's) driven by Playwright against ``docbin serve``.

Screenshots of each scene land in the test's tmp_path (``pytest --basetemp DIR`` keeps them for a look).
"""

from __future__ import annotations

import io as bytes_io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from docbin import registry
from docbin.service.local import LocalServer, local_server
from conftest import page_png, png

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped", allow_module_level=True)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
SIZES = {"first.png": (90, 140), "second.png": (120, 100)}  # (height, width): two pages, two shapes


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with local_server(timeout_s=120) as running:  # the server starts its worker processes first
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(server: LocalServer, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, device_scale_factor=1, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(server.base_url + "/")
    tab.wait_for_selector("#method-a option[value='sauvola']", state="attached")
    yield tab
    context.close()
    assert errors == [], errors


def drop(page: Any, files: dict[str, bytes]) -> None:
    """Drop ``files`` (name -> bytes) on the drop zone, as a drag from the desktop does."""
    page.evaluate("""(files) => {
        const transfer = new DataTransfer();
        for (const [name, bytes] of files) transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", [[name, list(data)] for name, data in files.items()])


def downloaded_zip(page: Any, tmp_path: Path, fmt: str) -> zipfile.ZipFile:
    page.check(f"input[name=format][value={fmt}]")
    with page.expect_download(timeout=60_000) as info:
        page.click("#zip")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return zipfile.ZipFile(path)


def test_two_files_two_methods_compare_at_1_to_1_and_zip(page: Any, tmp_path: Path) -> None:
    drop(page, {name: page_png(size) for name, size in SIZES.items()})
    page.select_option("#method-a", "sauvola")
    page.fill("#pa-window", "25")
    page.select_option("#method-b", "otsu")
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('.run[data-state=done]').length === 4", timeout=60_000)
    assert page.inner_text("#status") == "4 of 4 done."
    page.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)

    page.click("button[aria-label='Compare the otsu result of second.png with the scan']")
    page.wait_for_function("document.getElementById('cmp-after').selectedOptions[0].text === 'otsu result'")
    page.click("button[aria-label='Zoom to 1:1 pixels']")
    assert page.get_attribute("#cmp-viewport", "data-scale") == "1"
    assert page.inner_text("#cmp-zoom") == "100%"
    box = page.locator("#cmp-viewport .pane-b img").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (100, 120)  # one image pixel on one screen pixel
    page.focus("#cmp-viewport")
    for _ in range(40):
        page.keyboard.press("ArrowLeft")  # pans right, until the page meets the pane's edge
    pane = page.locator("#cmp-viewport .pane-b").bounding_box()
    box = page.locator("#cmp-viewport .pane-b img").bounding_box()
    assert box["x"] + box["width"] == pytest.approx(pane["x"] + pane["width"], abs=1)
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert float(page.get_attribute("#cmp-viewport", "data-scale")) == pytest.approx(1.5625)
    assert "magnified" in page.get_attribute("#cmp-viewport", "class")
    page.check("input[name=cmp-mode][value=side]")
    boxes = [page.locator(f"#cmp-viewport .pane-{p} img").bounding_box() for p in "ab"]
    assert boxes[0]["width"] == pytest.approx(boxes[1]["width"])  # both panes share the zoom
    page.check("input[name=cmp-mode][value=overlay]")
    page.screenshot(path=str(tmp_path / "compare.png"))
    painted = """() => {
        const layer = document.querySelector('#cmp-viewport canvas');
        const copy = Object.assign(document.createElement('canvas'), {width: layer.width, height: layer.height});
        const context = copy.getContext('2d');
        context.drawImage(layer, 0, 0);
        const data = context.getImageData(0, 0, copy.width, copy.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) painted += data[i] > 0;
        return [copy.width, copy.height, painted];
    }"""
    page.wait_for_function(f"({painted})()[2] > 0")  # the ink layer comes from a worker
    ink = page.evaluate(painted)
    assert ink[:2] == [100, 120] and 0 < ink[2] < 100 * 120 // 2

    archive = downloaded_zip(page, tmp_path, "png")
    page.wait_for_function("document.getElementById('status').textContent === 'ZIP ready: 4 files.'")
    expected = {f"{Path(n).stem}.{m}.png": size for n, size in SIZES.items() for m in ("sauvola", "otsu")}
    assert sorted(archive.namelist()) == sorted(expected) and archive.testzip() is None
    for name, (height, width) in expected.items():
        image = Image.open(bytes_io.BytesIO(archive.read(name)))
        assert image.format == "PNG" and image.mode == "1" and image.size == (width, height)
        assert 0 < (np.asarray(image) == 0).mean() < 0.5

    archive = downloaded_zip(page, tmp_path, "tiff")
    assert sorted(archive.namelist()) == sorted(n.replace(".png", ".tif") for n in expected)
    for name in archive.namelist():
        image = Image.open(bytes_io.BytesIO(archive.read(name)))
        assert image.format == "TIFF" and image.mode == "1" and image.info["compression"] == "group4"


def test_invalid_parameter_is_flagged_before_any_request(page: Any, tmp_path: Path) -> None:
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/v1/binarize" in request.url else None)
    drop(page, {"first.png": page_png()})
    page.select_option("#method-a", "sauvola")
    page.fill("#pa-window", "0")
    assert page.get_attribute("#pa-window", "aria-invalid") == "true"
    assert page.inner_text("#pa-window-error") == "Window (px) must be at least 1"
    page.click("#params-a details.advanced summary")  # an advanced parameter: set, then folded away again
    page.fill("#pa-r", "500")
    page.click("#params-a details.advanced summary")
    assert not page.is_visible("#pa-r")
    page.click("#run")
    assert page.locator("#params-a details.advanced").get_attribute("open") is not None
    assert page.inner_text("#status").startswith("Not sent: Window (px) must be at least 1; R (std range) must be at most 255")
    assert page.evaluate("document.activeElement.id") == "pa-window"
    page.screenshot(path=str(tmp_path / "invalid.png"), full_page=True)
    page.fill("#pa-window", "25")
    page.fill("#pa-r", "128")
    page.click("#run")
    page.wait_for_selector(".run[data-state=done]", timeout=60_000)
    assert len(sent) == 1


def test_a_bad_file_gets_its_error_in_place(page: Any) -> None:
    drop(page, {"good.png": page_png(), "notes.png": b"this is not an image"})
    page.select_option("#method-a", "otsu")
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('.run[data-state=done], .run[data-state=error]').length === 2",
                           timeout=60_000)
    bad = page.locator(".card", has_text="notes.png")
    assert bad.locator(".run").get_attribute("data-state") == "error"
    assert bad.locator(".run .state").inner_text().startswith("415 not_an_image")
    assert page.locator(".card", has_text="good.png").locator(".run").get_attribute("data-state") == "done"


def test_the_served_model_and_its_real_defaults_are_shown(page: Any) -> None:
    if "threestage" not in [m.name for m in registry.available()]:
        pytest.skip("the three-stage model files are not installed")
    page.select_option("#method-a", "threestage")
    served = registry.get("threestage").describe()["model"]  # the default precision's model
    assert served["precision"] in page.inner_text("#model-a") and served["version"] in page.inner_text("#model-a")
    assert page.input_value("#pa-tile") == "512" and page.input_value("#pa-overlap") == "64"
    assert not page.is_visible("#pa-threads")  # advanced: folded away


def test_evaluate_shows_metrics_and_error_map(page: Any, tmp_path: Path) -> None:
    gt = np.full((60, 80), 255, np.uint8)
    gt[10:50, 10:30] = 0
    prediction = gt.copy()
    prediction[0:5, 60:80] = 0  # false ink, red on the map
    page.set_input_files("#eval-prediction", files=[{"name": "pred.png", "mimeType": "image/png", "buffer": png(prediction)}])
    page.set_input_files("#eval-gt", files=[{"name": "gt.png", "mimeType": "image/png", "buffer": png(gt)}])
    page.click("#eval-form button[type=submit]")
    page.wait_for_function("document.querySelector('.eval-status').dataset.state === 'done'", timeout=60_000)
    assert float(page.inner_text(".metrics tr[data-metric=fm] td")) == pytest.approx(2 * 800 / (800 + 900) * 100, abs=1e-3)
    assert page.inner_text(".metrics tr[data-metric=psnr] td") != "n/a"
    assert "false ink" in page.inner_text(".legend")
    page.wait_for_function("document.querySelector('#ev-viewport .pane-b img').naturalWidth === 80")
    assert page.evaluate("document.getElementById('ev-after').selectedOptions[0].text") == "error map"
    red = page.evaluate("""() => {
        const image = document.querySelector('#ev-viewport .pane-b img');
        const canvas = Object.assign(document.createElement('canvas'), {width: 80, height: 60});
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        return Array.from(context.getImageData(70, 2, 1, 1).data.slice(0, 3));
    }""")
    assert tuple(red) == (220, 30, 30)
    page.locator("#eval-form").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "evaluate.png"), full_page=True)


def test_cancel_stops_running_and_queued_requests(page: Any) -> None:
    page.route("**/v1/binarize", lambda route: None)  # the server never answers: requests stay in flight
    drop(page, {f"page{i}.png": page_png() for i in range(3)})
    page.select_option("#method-a", "otsu")
    page.click("#run")
    page.wait_for_selector("#cancel", state="visible")
    assert page.locator(".run[data-state=queued]").count() == 1  # two at a time
    page.click("#cancel")
    page.wait_for_function("document.querySelectorAll('.run[data-state=cancelled]').length === 3")
    assert page.is_enabled("#run") and not page.is_visible("#cancel")
    assert page.inner_text("#status") == "0 of 3 done, 3 cancelled."


def test_every_control_is_labelled_and_reachable_by_keyboard(page: Any) -> None:
    drop(page, {"first.png": page_png()})
    page.select_option("#method-a", "otsu")
    page.click("#run")
    page.wait_for_selector(".run[data-state=done]", timeout=60_000)
    page.click(".thumb-button")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, button, progress, [tabindex]')]
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    page.evaluate("const h = document.querySelector('h1'); h.tabIndex = -1; h.focus()")  # start at the top
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "files"  # the drop zone's file chooser comes first
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.getAttribute('aria-label')"))
    assert {"method-a", "method-b", "run", "cmp-viewport", "Zoom to 1:1 pixels"} <= reached


def test_evaluate_a_scan_with_the_chosen_method(page: Any) -> None:
    scan = page_png((80, 120))
    gt = np.where(np.asarray(Image.open(bytes_io.BytesIO(scan))) < 128, 0, 255).astype(np.uint8)
    page.select_option("#method-a", "otsu")
    page.check("input[name=source][value=scan]")
    assert not page.is_visible("#eval-prediction") and page.is_visible("#eval-scan")
    page.set_input_files("#eval-scan", files=[{"name": "scan.png", "mimeType": "image/png", "buffer": scan}])
    page.set_input_files("#eval-gt", files=[{"name": "gt.png", "mimeType": "image/png", "buffer": png(gt)}])
    page.click("#eval-form button[type=submit]")
    page.wait_for_function("document.querySelector('.eval-status').dataset.state === 'done'", timeout=60_000)
    assert float(page.inner_text(".metrics tr[data-metric=fm] td")) > 90
    assert page.evaluate("document.getElementById('ev-before').options[2].text") == "scan scan.png (otsu)"


def test_a_multi_page_tiff_comes_back_as_one_tiff(page: Any, tmp_path: Path) -> None:
    frames = [Image.open(bytes_io.BytesIO(page_png())) for _ in range(2)]
    book = bytes_io.BytesIO()
    frames[0].save(book, "TIFF", save_all=True, append_images=frames[1:])
    drop(page, {"book.tif": book.getvalue(), "single.png": page_png()})
    page.select_option("#method-a", "otsu")
    page.click("#run")
    page.wait_for_function("document.querySelectorAll('.run[data-state=done]').length === 2", timeout=60_000)
    assert "multi-page TIFF" in page.locator(".card", has_text="book.tif").locator(".run .state").inner_text()
    archive = downloaded_zip(page, tmp_path, "png")
    assert sorted(archive.namelist()) == ["book.otsu.tif", "single.otsu.png"]
    result = Image.open(bytes_io.BytesIO(archive.read("book.otsu.tif")))
    assert result.n_frames == 2 and result.mode == "1"


def test_a_busy_server_is_retried_after_its_retry_after(page: Any) -> None:
    answered: list[int] = []

    def busy_once(route: Any) -> None:
        answered.append(len(answered))
        if len(answered) == 1:
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body='{"error": {"code": "busy", "message": "the server is at capacity; retry shortly"}}')
        else:
            route.continue_()

    page.route("**/v1/binarize", busy_once)
    drop(page, {"first.png": page_png()})
    page.select_option("#method-a", "otsu")
    page.click("#run")
    page.wait_for_function("document.querySelector('.run .state').textContent.startsWith('Server busy: retrying in 1 s')")
    page.wait_for_selector(".run[data-state=done]", timeout=60_000)
    assert len(answered) == 2

"""In-process tests of every route and error of the HTTP service, plus a real ``docbin serve``."""

from __future__ import annotations

import io as bytes_io
import json
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from docbin import registry  # noqa: E402
from docbin.service.app import create_app  # noqa: E402
from docbin.service.config import Settings  # noqa: E402
from docbin.service.local import local_server  # noqa: E402
from conftest import SAMPLE_SCAN, error_code, page_png, png_bytes_declaring  # noqa: E402


@pytest.fixture
def client() -> TestClient:
    with TestClient(create_app(Settings(workers=2, queue=2, max_upload_bytes=200_000, max_pixels=1_000_000))) as c:
        yield c


def post(client: TestClient, data: bytes, **form: str) -> httpx.Response:
    return client.post("/v1/binarize", files={"file": ("scan.png", data, "image/png")}, data=form)


def test_health_ready_methods_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    names = [m["name"] for m in client.get("/v1/methods").json()]
    assert {"otsu", "sauvola", "wolf"} <= set(names)
    assert "/v1/binarize" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "/v1/binarize" in page.text and page.headers["content-type"].startswith("text/html")


def test_binarize_returns_1_bit_png_with_headers_and_dpi(client: TestClient) -> None:
    response = post(client, page_png(dpi=(300, 300)), method="wolf", params='{"window": 25}')
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-docbin-method"] == "wolf"
    assert json.loads(response.headers["x-docbin-params"])["window"] == 25
    assert float(response.headers["x-docbin-time-ms"]) >= 0
    image = Image.open(bytes_io.BytesIO(response.content))
    assert image.mode == "1" and image.size == (120, 80) and round(image.info["dpi"][0]) == 300
    assert 0 < (np.asarray(image) == 0).mean() < 0.5


def test_tiff_by_format_or_accept_and_multipage(client: TestClient) -> None:
    assert post(client, page_png(), format="tiff").headers["content-type"] == "image/tiff"
    accept = client.post("/v1/binarize", files={"file": ("s.png", page_png())}, headers={"Accept": "image/tiff"})
    assert accept.headers["content-type"] == "image/tiff"
    frames = [Image.open(bytes_io.BytesIO(page_png())) for _ in range(3)]
    buffer = bytes_io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    multi = client.post("/v1/binarize", files={"file": ("book.tif", buffer.getvalue())})
    assert multi.status_code == 200 and Image.open(bytes_io.BytesIO(multi.content)).n_frames == 3
    refused = client.post("/v1/binarize", files={"file": ("book.tif", buffer.getvalue())}, data={"format": "png"})
    assert refused.status_code == 422 and error_code(refused) == "multipage_png"


@pytest.mark.parametrize(
    "data,form,status,code",
    [
        (b"", {}, 400, "empty_file"),
        (b"plain text, not an image", {}, 415, "not_an_image"),
        (page_png()[:300], {}, 400, "corrupt_image"),
        (png_bytes_declaring(100_000, 100_000), {}, 413, "image_too_large"),
        (page_png(), {"method": "nope"}, 422, "unknown_method"),
        (page_png(), {"params": '{"window": 0}'}, 422, "invalid_parameter"),
        (page_png(), {"params": '{"window": "wide"}'}, 422, "invalid_parameter"),
        (page_png(), {"params": '{"colour": 1}'}, 422, "invalid_parameter"),
        (page_png(), {"params": "[1, 2]"}, 422, "invalid_parameter"),
        (page_png(), {"params": "{oops"}, 422, "invalid_parameter"),
        (page_png(), {"format": "gif"}, 422, "invalid_request"),
    ],
)
def test_client_mistakes_get_4xx_json(
    client: TestClient, data: bytes, form: dict[str, str], status: int, code: str
) -> None:
    response = post(client, data, **form)
    assert response.status_code == status, response.text
    assert error_code(response) == code and response.json()["error"]["message"]
    assert "Traceback" not in response.text


def test_missing_file_and_wrong_content_type(client: TestClient) -> None:
    missing = client.post("/v1/binarize", data={"method": "otsu"})
    assert missing.status_code == 422 and "file" in missing.json()["error"]["message"]
    raw = client.post("/v1/binarize", content=page_png(), headers={"Content-Type": "image/png"})
    assert raw.status_code == 422 and error_code(raw) == "invalid_request"


def test_upload_over_the_byte_limit_is_413(client: TestClient) -> None:
    big = bytes(400_000)
    response = post(client, big)
    assert response.status_code == 413 and error_code(response) == "upload_too_large"


def test_api_key_required_except_health() -> None:
    with TestClient(create_app(Settings(api_key="s3cret", workers=1, queue=1))) as c:
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert c.get("/v1/methods").status_code == 401
        wrong = c.get("/v1/methods", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and error_code(wrong) == "unauthorized"
        ok = c.post("/v1/binarize", files={"file": ("s.png", page_png())}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_cors_off_unless_configured(client: TestClient) -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/binarize", headers=preflight).headers
    with TestClient(create_app(Settings(cors_origins=("https://example.org",)))) as c:
        allowed = c.options("/v1/binarize", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://example.org"


def test_saturated_pool_answers_503_with_retry_after() -> None:
    release = threading.Event()

    def blocking(gray: np.ndarray) -> np.ndarray:
        release.wait(10)
        return np.where(gray > 128, 255, 0).astype(np.uint8)

    blocking_method = registry.Method("blocking-test", blocking, "test", "test")
    with registry.registered(blocking_method), TestClient(create_app(Settings(workers=1, queue=0))) as c:
        first: list[httpx.Response] = []
        worker = threading.Thread(target=lambda: first.append(post(c, page_png(), method=blocking_method.name)))
        worker.start()
        deadline = time.monotonic() + 5
        while c.app.state.pool.slots._value and time.monotonic() < deadline:  # wait until it is admitted
            time.sleep(0.01)
        busy = post(c, page_png(), method=blocking_method.name)
        release.set()
        worker.join(10)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2" and error_code(busy) == "busy"
    assert first[0].status_code == 200


def test_request_timeout_is_504() -> None:
    def slow(gray: np.ndarray) -> np.ndarray:
        time.sleep(1.0)
        return np.full(gray.shape, 255, np.uint8)

    slow_method = registry.Method("slow-test", slow, "test", "test")
    settings = Settings(workers=1, queue=1, request_timeout_s=0.2)
    with registry.registered(slow_method), TestClient(create_app(settings)) as c:
        response = post(c, page_png(), method=slow_method.name)
    assert response.status_code == 504 and error_code(response) == "timeout"


def test_an_unavailable_method_is_listed_with_its_reason_and_answers_503() -> None:
    reason = "missing gray.onnx in /nowhere"
    broken = registry.Method("broken-test", lambda gray: gray, "test", "test", check=lambda: reason)
    with registry.registered(broken), TestClient(create_app(Settings())) as c:
        listed = {m["name"]: m for m in c.get("/v1/methods").json()}["broken-test"]
        response = post(c, page_png(), method="broken-test")
    assert (listed["available"], listed["unavailable"]) == (False, reason)
    assert response.status_code == 503 and error_code(response) == "method_unavailable"
    assert reason in response.json()["error"]["message"]


def test_real_docbin_serve_answers_an_upload() -> None:
    with local_server() as server:
        response = httpx.post(f"{server.base_url}/v1/binarize", files={"file": ("sample.png", SAMPLE_SCAN.read_bytes())}, timeout=60)
    assert response.status_code == 200
    assert Image.open(bytes_io.BytesIO(response.content)).mode == "1"

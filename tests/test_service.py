"""In-process tests of every route and error of the HTTP service, plus a real ``docbin serve``."""

from __future__ import annotations

import http.client
import importlib
import io as bytes_io
import json
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("fastapi")
import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from docbin import registry  # noqa: E402
from docbin.errors import ParameterError  # noqa: E402
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


PLUGINS = ("crash_plugin", "service_plugin")  # test methods for the worker processes: die-on-marker, sleep-test


@pytest.fixture
def plugins() -> Iterator[tuple[str, ...]]:
    """The plugin modules for ``Settings(plugins=...)``; their methods are registered in this process too for the
    test (the route validates a method before a worker runs it) and removed afterwards."""
    modules = [importlib.reload(importlib.import_module(name)) for name in PLUGINS]
    yield PLUGINS
    for module in modules:
        registry.unregister(module.NAME)


class post_in_background(threading.Thread):
    """``post(...)`` in a thread, returning once the pool has admitted the job."""

    def __init__(self, client: TestClient, data: bytes, **form: str) -> None:
        super().__init__()
        self.client, self.data, self.form = client, data, form
        admitted = client.app.state.pool.admitted
        self.start()
        deadline = time.monotonic() + 10
        while client.app.state.pool.admitted == admitted and time.monotonic() < deadline:
            time.sleep(0.01)

    def run(self) -> None:
        self.response = post(self.client, self.data, **self.form)


def test_health_ready_methods_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["workers"] == 2 and ready["kernels_warm_up_s"] > 0
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


def test_saturated_pool_answers_503_with_retry_after(plugins: tuple[str, ...]) -> None:
    with TestClient(create_app(Settings(workers=1, queue=0, plugins=plugins))) as c:
        first = post_in_background(c, page_png(), method="sleep-test", params='{"seconds": 1.5}')
        busy = post(c, page_png(), method="sleep-test")
        first.join(30)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2" and error_code(busy) == "busy"
    assert first.response.status_code == 200


def test_request_timeout_is_504_and_the_job_is_stopped(plugins: tuple[str, ...]) -> None:
    # 2 s, not less: the replacement worker's first job (imports, decoding) must fit on a loaded machine too
    with TestClient(create_app(Settings(workers=1, queue=1, request_timeout_s=2.0, plugins=plugins))) as c:
        (stuck,) = c.app.state.pool.workers
        start = time.monotonic()
        response = post(c, page_png(), method="sleep-test", params='{"seconds": 30}')
        assert response.status_code == 504 and error_code(response) == "timeout"
        assert time.monotonic() - start < 10 and float(response.headers["x-docbin-queue-ms"]) < 1000
        after = post(c, page_png(), method="sleep-test")  # the slot is free again, not busy for 30 s
        assert after.status_code == 200, after.text
        assert not stuck.process.is_alive() and stuck not in c.app.state.pool.workers


def test_a_job_that_never_started_is_503_queue_timeout_not_504(plugins: tuple[str, ...]) -> None:
    with TestClient(create_app(Settings(workers=1, queue=1, queue_timeout_s=0.3, plugins=plugins))) as c:
        first = post_in_background(c, page_png(), method="sleep-test", params='{"seconds": 2}')
        queued = post(c, page_png(), method="sleep-test")
        first.join(30)
    assert queued.status_code == 503 and error_code(queued) == "queue_timeout" and queued.headers["retry-after"]
    assert float(queued.headers["x-docbin-queue-ms"]) >= 300
    ran = first.response
    assert ran.status_code == 200 and float(ran.headers["x-docbin-time-ms"]) >= 2000
    assert float(ran.headers["x-docbin-queue-ms"]) < 1000


def test_a_worker_that_dies_is_500_worker_died_and_replaced(plugins: tuple[str, ...]) -> None:
    marked = np.full((40, 60), 200, np.uint8)
    marked[0, 0] = 7  # crash_plugin's die-on-marker kills its process on this page
    buffer = bytes_io.BytesIO()
    Image.fromarray(marked).save(buffer, "PNG")
    with TestClient(create_app(Settings(workers=1, queue=1, plugins=plugins))) as c:
        died = post(c, buffer.getvalue(), method="die-on-marker")
        assert died.status_code == 500 and error_code(died) == "worker_died"
        assert post(c, page_png(), method="die-on-marker").status_code == 200


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


@pytest.mark.parametrize("precision", ["fp32", "1bit"])
def test_the_shipped_threestage_precisions_answer_an_upload(precision: str) -> None:
    from docbin.threestage.models import precision_status

    if not precision_status(precision)["available"]:
        pytest.skip(f"no {precision} model installed")
    with TestClient(create_app(Settings(workers=1, queue=1))) as c:
        response = post(c, SAMPLE_SCAN.read_bytes(), method="threestage", params=json.dumps({"precision": precision}))
    assert response.status_code == 200, response.text
    binary = np.asarray(Image.open(bytes_io.BytesIO(response.content)).convert("L"))
    assert binary.shape == np.asarray(Image.open(SAMPLE_SCAN)).shape[:2] and 0.01 < (binary == 0).mean() < 0.3


def test_the_service_serves_the_1bit_model_by_default() -> None:
    from docbin.threestage.models import precision_status

    if not precision_status("1bit")["available"]:
        pytest.skip("no 1bit model installed")
    with TestClient(create_app(Settings(workers=1, queue=1))) as c:
        listed = {m["name"]: m for m in c.get("/v1/methods").json()}["threestage"]
        default = post(c, SAMPLE_SCAN.read_bytes(), method="threestage")
        one_bit = post(c, SAMPLE_SCAN.read_bytes(), method="threestage", params=json.dumps({"precision": "1bit"}))
    assert listed["model"]["precision"] == "1bit-int8"  # the manifest's name for it
    assert default.status_code == one_bit.status_code == 200 and default.content == one_bit.content


def test_api_key_covers_the_page_docs_and_schema_unless_public() -> None:
    auth = {"Authorization": "Bearer s3cret"}
    with TestClient(create_app(Settings(api_key="s3cret", workers=1, queue=1))) as c:
        for path in ("/", "/docs", "/redoc", "/openapi.json"):
            refused = c.get(path)
            assert refused.status_code == 401 and error_code(refused) == "unauthorized", path
            assert c.get(path, headers=auth).status_code == 200, path
    with TestClient(create_app(Settings(api_key="s3cret", public_docs=True, workers=1, queue=1))) as c:
        assert all(c.get(path).status_code == 200 for path in ("/", "/docs", "/redoc", "/openapi.json"))
        assert c.get("/v1/methods").status_code == 401


@pytest.mark.parametrize(
    "request_kwargs,status,code",
    [
        ({"method": "GET", "url": "/no/such/route"}, 404, "not_found"),
        ({"method": "GET", "url": "/v1/binarize"}, 405, "method_not_allowed"),
        ({"method": "POST", "url": "/v1/binarize", "content": b"--x\r\nnot a header\r\n\r\n--x--\r\n",
          "headers": {"Content-Type": "multipart/form-data; boundary=x"}}, 400, "malformed_body"),
        ({"method": "POST", "url": "/v1/binarize", "content": b"a=1",
          "headers": {"Content-Type": "multipart/form-data"}}, 400, "malformed_body"),
    ],
)
def test_framework_errors_use_the_documented_body(
    client: TestClient, request_kwargs: dict[str, object], status: int, code: str
) -> None:
    response = client.request(**request_kwargs)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and error_code(response) == code
    assert response.json()["error"]["message"]
    if status == 405:
        assert "POST" in response.headers["allow"]


def test_oversized_chunked_upload_is_413_and_a_trickling_one_408() -> None:
    env = {"DOCBIN_MAX_UPLOAD_BYTES": "100000", "DOCBIN_BODY_TIMEOUT": "1", "DOCBIN_WORKERS": "1"}
    with local_server(env=env) as server:
        part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        chunks = (part if i == 0 else b"x" * 65536 for i in range(9))  # no length known up front: chunked
        chunked = httpx.post(f"{server.base_url}/v1/binarize", content=chunks, timeout=30,
                             headers={"Content-Type": "multipart/form-data; boundary=b"})
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /v1/binarize HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                         b"boundary=b\r\nContent-Length: 5000\r\n\r\n--b\r\n")  # and then nothing more
            start = time.monotonic()
            reply = http.client.HTTPResponse(sock)
            reply.begin()
            waited = time.monotonic() - start
            body = json.loads(reply.read())
        healthy = httpx.get(f"{server.base_url}/healthz", timeout=10)
    assert chunked.request.headers["transfer-encoding"] == "chunked"
    assert chunked.status_code == 413 and error_code(chunked) == "upload_too_large"
    assert reply.status == 408 and body["error"]["code"] == "upload_timeout" and 0.5 < waited < 10
    assert healthy.status_code == 200


@pytest.mark.parametrize(
    "accept,status,media",
    [
        ("image/tiff;q=0, image/png", 200, "image/png"),
        ("image/png;q=0.5, image/tiff", 200, "image/tiff"),
        ("image/*", 200, "image/png"),
        ("*/*;q=0.1, image/tiff;q=0.2", 200, "image/tiff"),
        ("text/html, */*;q=0.8", 200, "image/png"),
        ("application/json", 406, None),
        ("image/png;q=0, image/tiff;q=0", 406, None),
    ],
)
def test_accept_negotiation_honours_q_values(client: TestClient, accept: str, status: int, media: str | None) -> None:
    response = client.post("/v1/binarize", files={"file": ("s.png", page_png())}, headers={"Accept": accept})
    assert response.status_code == status, response.text
    if media is None:
        assert error_code(response) == "not_acceptable"
    else:
        assert response.headers["content-type"] == media


def test_png8_format_and_multipage_with_only_png_acceptable(client: TestClient) -> None:
    png8 = post(client, page_png(), format="png8")
    assert png8.status_code == 200 and png8.headers["content-type"] == "image/png"
    assert Image.open(bytes_io.BytesIO(png8.content)).mode == "L"
    frames = [Image.open(bytes_io.BytesIO(page_png())) for _ in range(2)]
    buffer = bytes_io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    only_png = client.post("/v1/binarize", files={"file": ("b.tif", buffer.getvalue())}, headers={"Accept": "image/png"})
    assert only_png.status_code == 422 and error_code(only_png) == "multipage_png"


def test_two_file_parts_are_422_duplicate_field(client: TestClient) -> None:
    files = [("file", ("a.png", page_png())), ("file", ("b.png", page_png()))]
    response = client.post("/v1/binarize", files=files)
    assert response.status_code == 422 and error_code(response) == "duplicate_field"
    assert "'file'" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "params,cli,ok",
    [
        ('{"window": true}', None, False),  # JSON true is no int (was window = 1)
        ('{"window": "25"}', "window=25", True),
        ('{"window": 25.0}', None, True),
        ('{"window": "true"}', "window=true", False),
        ('{"k": 1}', None, True),
    ],
)
def test_parameters_follow_the_clis_coercion_rule(client: TestClient, params: str, cli: str | None, ok: bool) -> None:
    response = post(client, page_png(), method="sauvola", params=params)
    assert response.status_code == (200 if ok else 422), response.text
    if cli is not None:  # the same string from the CLI's -p gives the same answer
        sauvola = registry.get("sauvola")
        if ok:
            assert json.loads(response.headers["x-docbin-params"]) == sauvola.validate(registry.parse_params([cli]))
        else:
            with pytest.raises(ParameterError):
                sauvola.validate(registry.parse_params([cli]))


def test_bool_parameters_take_json_bools_or_the_clis_words_only() -> None:
    threestage = registry.get("threestage")
    assert threestage.validate({"fuse_global": "yes"}) == threestage.validate(registry.parse_params(["fuse_global=yes"]))
    assert threestage.validate({"fuse_global": False})["fuse_global"] is False
    for value in (1, 0.0, "maybe", None):
        with pytest.raises(ParameterError, match="fuse_global"):
            threestage.validate({"fuse_global": value})


def test_a_file_over_the_page_limit_is_413_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCBIN_MAX_PAGES", "2")  # io.Limits, read when the app is created
    frames = [Image.open(bytes_io.BytesIO(page_png())) for _ in range(3)]
    buffer = bytes_io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    with TestClient(create_app(Settings(workers=1, queue=1))) as c:
        response = c.post("/v1/binarize", files={"file": ("book.tif", buffer.getvalue())})
        assert response.status_code == 413 and error_code(response) == "image_too_large"
        assert "DOCBIN_MAX_PAGES" in response.json()["error"]["message"]
        assert c.get("/healthz").status_code == 200


def test_multipage_tiff_cut_anywhere_is_a_4xx(client: TestClient) -> None:
    frames = [Image.open(bytes_io.BytesIO(page_png())) for _ in range(3)]
    buffer = bytes_io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    for cut in range(100, len(data), len(data) // 12):  # page directories cut short made Pillow raise TypeError
        response = client.post("/v1/binarize", files={"file": ("book.tif", data[:cut])})
        assert response.status_code in (400, 415) and error_code(response) in ("corrupt_image", "not_an_image"), cut

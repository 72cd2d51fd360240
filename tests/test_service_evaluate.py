"""``POST /v1/evaluate`` in-process: metrics and error map of a prediction (or scan + method) against a GT."""

from __future__ import annotations

import base64
import io as bytes_io
import json

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from docbin import metrics, report  # noqa: E402
from docbin.service.app import create_app  # noqa: E402
from docbin.service.config import Settings  # noqa: E402
from conftest import error_code, page_png, png  # noqa: E402


def ground_truth() -> np.ndarray:
    gt = np.full((40, 60), 255, np.uint8)
    gt[10:30, 10:20] = 0
    gt[10:30, 35:45] = 0
    return gt


@pytest.fixture
def client() -> TestClient:
    with TestClient(create_app(Settings(workers=1, queue=2, max_upload_bytes=200_000, max_pixels=1_000_000))) as c:
        yield c


def test_prediction_scores_as_the_metrics_module_and_maps_errors_in_report_colours(client: TestClient) -> None:
    gt = ground_truth()
    pred = gt.copy()
    pred[0:5, 0:5] = 0  # false ink
    pred[10:30, 35:45] = 255  # missed ink
    response = client.post("/v1/evaluate", files={"prediction": ("p.png", png(pred)), "gt": ("g.png", png(gt))})
    assert response.status_code == 200, response.text
    body = json.loads(response.text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    expected = metrics.evaluate(pred, gt)
    for name in ("fm", "pseudo_fm", "psnr", "drd", "avg_score", "tp", "fp", "fn"):
        assert body["metrics"][name] == pytest.approx(expected[name])
    assert body["method"] is None and body["notes"] == [] and (body["width"], body["height"]) == (60, 40)
    uri = body["error_map"]
    assert uri.startswith("data:image/png;base64,")
    error_map = np.asarray(Image.open(bytes_io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))
    assert tuple(error_map[2, 2]) == report.FALSE_INK and tuple(error_map[20, 40]) == report.MISSED_INK
    assert tuple(error_map[20, 15]) == (0, 0, 0) and tuple(error_map[35, 55]) == (255, 255, 255)
    assert body["error_map_colours"]["false_ink"] == list(report.FALSE_INK)


def test_perfect_page_is_strict_json_with_infinite_psnr_flagged(client: TestClient) -> None:
    gt = ground_truth()
    response = client.post("/v1/evaluate", files={"prediction": ("p.png", png(gt)), "gt": ("g.png", png(gt))})
    assert response.status_code == 200
    assert "NaN" not in response.text and "Infinity" not in response.text
    scores = response.json()["metrics"]
    assert scores["psnr"] is None and scores["psnr_infinite"] is True and scores["fm"] == pytest.approx(100)


def test_scan_and_method_are_binarized_here(client: TestClient) -> None:
    scan = page_png((80, 120))
    gt = np.asarray(Image.open(bytes_io.BytesIO(scan)))
    gt = np.where(gt < 128, 0, 255).astype(np.uint8)
    response = client.post("/v1/evaluate", files={"scan": ("s.png", scan), "gt": ("g.png", png(gt))},
                           data={"method": "otsu"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == "otsu" and body["metrics"]["fm"] > 90


def test_gray_prediction_is_thresholded_with_a_note(client: TestClient) -> None:
    gt = ground_truth()
    gray = np.where(gt == 0, 40, 220).astype(np.uint8)
    response = client.post("/v1/evaluate", files={"prediction": ("p.png", png(gray)), "gt": ("g.png", png(gt))})
    assert response.status_code == 200
    assert response.json()["notes"] == ["prediction is not binary: thresholded at 128 (ink < 128)"]


@pytest.mark.parametrize(
    ("files", "data", "status", "code"),
    [
        ({"gt": "gt"}, {}, 422, "invalid_parameter"),  # neither prediction nor scan
        ({"gt": "gt", "prediction": "gt", "scan": "gt"}, {}, 422, "invalid_parameter"),
        ({"gt": "gt", "scan": "gt"}, {}, 422, "invalid_parameter"),  # scan without a method
        ({"gt": "gt", "prediction": "gt"}, {"method": "otsu"}, 422, "invalid_parameter"),
        ({"gt": "gt", "scan": "gt"}, {"method": "nope"}, 422, "unknown_method"),
        ({"gt": "gt", "scan": "gt"}, {"method": "sauvola", "params": '{"window": 0}'}, 422, "invalid_parameter"),
        ({"prediction": "gt"}, {}, 422, "invalid_request"),  # no gt
        ({"gt": "small", "prediction": "gt"}, {}, 400, "shape_mismatch"),
        ({"gt": "junk", "prediction": "gt"}, {}, 415, "not_an_image"),
        ({"gt": "empty", "prediction": "gt"}, {}, 400, "empty_file"),
    ],
)
def test_bad_requests_are_4xx_json(client: TestClient, files: dict[str, str], data: dict[str, str], status: int,
                                   code: str) -> None:
    payloads = {"gt": png(ground_truth()), "small": png(ground_truth()[:20]), "junk": b"not an image at all",
                "empty": b""}
    response = client.post("/v1/evaluate", files={k: (f"{k}.png", payloads[v]) for k, v in files.items()}, data=data)
    assert response.status_code == status, response.text
    assert error_code(response) == code


def test_error_names_the_upload_field(client: TestClient) -> None:
    response = client.post("/v1/evaluate", files={"gt": ("g.png", b"junk bytes here"),
                                                  "prediction": ("p.png", png(ground_truth()))})
    assert response.json()["error"]["message"].startswith("gt: ")


def test_evaluate_is_in_openapi(client: TestClient) -> None:
    assert "/v1/evaluate" in client.get("/openapi.json").json()["paths"]

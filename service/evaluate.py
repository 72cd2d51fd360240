"""``POST /v1/evaluate``: the DIBCO metrics of one binarized page (or of a scan binarized here with a method)
against its ground truth, with the error map in the colours of the HTML report (:mod:`docbin.report`).

The answer is strict JSON (no NaN or Infinity: a non-finite number is ``null``; a perfect page's PSNR is
``null`` with ``psnr_infinite: true``, as ``docbin evaluate`` writes it).
"""

from __future__ import annotations

import base64
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, File, Form, UploadFile

from docbin import io, metrics, registry, report
from docbin.errors import ImageReadError, ParameterError, ShapeMismatchError
from docbin.preprocess import to_gray
from docbin.service.app import BoundedPool, _parse_params
from docbin.service.config import Settings

ERROR_MAP_COLOURS = {"correct_ink": (0, 0, 0), "false_ink": report.FALSE_INK, "missed_ink": report.MISSED_INK}


def read_page(data: bytes, field: str, max_pixels: int) -> np.ndarray:
    """The pixels of a single-page upload; errors name the form ``field``."""
    try:
        scan = io.read_scan(data, max_pixels=max_pixels)
    except ImageReadError as exc:
        raise type(exc)(f"{field}: {exc.message}") from None
    if len(scan.pages) != 1:
        raise ShapeMismatchError(f"{field} has {len(scan.pages)} pages; evaluation takes one page per upload")
    return scan.pages[0].pixels


def png_data_uri(rgb: np.ndarray) -> str:
    """An RGB image as a ``data:image/png;base64`` URI."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode()


def finite(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every NaN or infinite float replaced by None (JSON has neither)."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in values.items()}


def evaluate_upload(gt_data: bytes, page_data: bytes, method: registry.Method | None, params: dict[str, Any],
                    max_pixels: int) -> dict[str, Any]:
    """Score ``page_data`` (a binarized page, or a scan that ``method`` binarizes) against the GT: metrics,
    notes and error map."""
    gt = to_gray(read_page(gt_data, "gt", max_pixels))
    if method is None:
        prediction = to_gray(read_page(page_data, "prediction", max_pixels))
    else:
        prediction = method(read_page(page_data, "scan", max_pixels), **params)
    if prediction.shape != gt.shape:
        raise ShapeMismatchError(
            f"prediction is {prediction.shape[1]} x {prediction.shape[0]} pixels and gt "
            f"{gt.shape[1]} x {gt.shape[0]}: they must be the same size"
        )
    notes = [f"{name} is not binary: thresholded at 128 (ink < 128)"
             for name, image in (("prediction", prediction), ("gt", gt)) if np.any((image != 0) & (image != 255))]
    scores = metrics.evaluate(prediction, gt)
    return {
        "metrics": finite(scores),
        "notes": notes,
        "width": gt.shape[1], "height": gt.shape[0],
        "error_map": png_data_uri(report.error_map(prediction < 128, gt < 128)),
        "error_map_colours": ERROR_MAP_COLOURS,
    }


def evaluate_router(pool: BoundedPool, settings: Settings, require_key: Callable[..., None]) -> APIRouter:
    """The ``/v1/evaluate`` route, run in the service's bounded pool under its limits and API key."""
    router = APIRouter()

    @router.post("/v1/evaluate", dependencies=[Depends(require_key)], tags=["evaluate"])
    async def evaluate(
        gt: UploadFile = File(..., description="Ground truth: ink 0 (black), background 255 (white)."),
        prediction: UploadFile | None = File(None, description="The binarized page (ink 0). Or send scan + method."),
        scan: UploadFile | None = File(None, description="A scan to binarize here with `method` instead."),
        method: str | None = Form(None, description="Method for `scan` (GET /v1/methods)."),
        params: str | None = Form(None, description='Method parameters as a JSON object, e.g. {"window": 25}.'),
    ) -> dict[str, Any]:
        """DIBCO metrics (FM, pseudo-FM, PSNR, DRD, NRM, MPM, MCC, Avg-Score) of one page against its GT,
        and the error map (black correct ink, red false ink, blue missed ink) as a PNG data URI."""
        if (prediction is None) == (scan is None):
            raise ParameterError("send either prediction (a binarized page) or scan + method, with gt")
        if scan is not None and not method:
            raise ParameterError("scan needs a method (GET /v1/methods), e.g. method=sauvola")
        if prediction is not None and (method or params):
            raise ParameterError("method and params apply to a scan; a prediction is scored as it is")
        chosen = registry.get(method) if scan is not None else None
        typed = chosen.validate(_parse_params(params)) if chosen is not None else {}
        gt_data = await gt.read()
        page_data = await (scan if prediction is None else prediction).read()
        start = time.perf_counter()
        result = await pool.run(
            functools.partial(evaluate_upload, gt_data, page_data, chosen, typed, settings.max_pixels),
            settings.request_timeout_s,
        )
        return {"method": None if chosen is None else chosen.name, "params": typed, **result,
                "time_ms": round(1000 * (time.perf_counter() - start), 1)}

    return router

"""The docbin HTTP service: the method registry, scan I/O and binarizers behind a small versioned API.

``POST /v1/binarize`` (multipart ``file`` + ``method`` + JSON ``params`` + ``format``) returns the bilevel
image; ``GET /v1/methods`` lists methods; ``GET /healthz`` / ``GET /readyz`` are the health checks.
CPU-bound work runs off the event loop in a bounded pool: when it is full the answer is 503 with
``Retry-After`` instead of an ever-growing queue. Every client mistake gets a 4xx JSON error
``{"error": {"code", "message"}}``; nothing user-controlled ever names a file on disk.
"""

from __future__ import annotations

import asyncio
import hmac
from importlib import resources
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docbin import io, registry
from docbin.errors import DocbinError, ParameterError
from docbin.service.config import Settings

access_log = logging.getLogger("docbin.access")

# HTTP status per docbin error code; any other DocbinError is a 400.
STATUS_BY_CODE = {
    "image_too_large": 413,
    "not_an_image": 415,
    "unsupported_image": 415,
    "invalid_parameter": 422,
    "unknown_method": 422,
    "model_not_found": 503,
    "method_unavailable": 503,
}
MULTIPART_OVERHEAD = 64 * 1024


class ApiError(Exception):
    """An error answered as JSON with a stable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class BoundedPool:
    """A thread pool with ``workers`` threads and at most ``workers + queue`` jobs admitted at once."""

    def __init__(self, workers: int, queue: int) -> None:
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="docbin")
        self.slots = threading.BoundedSemaphore(workers + queue)

    async def run(self, fn: Callable[[], Any], timeout_s: float) -> Any:
        if not self.slots.acquire(blocking=False):
            raise ApiError(503, "busy", "the server is at capacity; retry shortly", {"Retry-After": "2"})
        future = self.executor.submit(fn)
        future.add_done_callback(lambda _: self.slots.release())  # a timed-out job keeps its slot until done
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except TimeoutError:
            raise ApiError(504, "timeout", f"processing took longer than {timeout_s:g} s") from None

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes while they stream in (413)."""

    class TooLarge(Exception):
        pass

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = error_response(
            413, "upload_too_large", f"the upload exceeds the limit of {self.limit} bytes (DOCBIN_MAX_UPLOAD_BYTES)"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyLimit.TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyLimit.TooLarge:
            if not started:
                await too_large(scope, receive, send)


def _binarize(data: bytes, method: registry.Method, params: dict[str, Any], fmt: str | None,
              max_pixels: int) -> tuple[bytes, str]:
    scan = io.read_scan(data, max_pixels=max_pixels)
    chosen = fmt or ("tiff" if len(scan.pages) > 1 else "png")
    if chosen == "png" and len(scan.pages) > 1:
        raise ApiError(422, "multipage_png", f"the upload has {len(scan.pages)} pages; PNG holds one: use format=tiff")
    pages = [method(page.pixels, **params) for page in scan.pages]
    return io.encode_binary(pages, chosen, scan.pages[0].dpi), chosen


def _parse_params(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        params = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"params must be a JSON object: {exc.msg}") from None
    if not isinstance(params, dict):
        raise ParameterError("params must be a JSON object such as {\"window\": 25, \"k\": 0.2}")
    return params


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment (:meth:`Settings.from_env`)."""
    settings = settings or Settings.from_env()
    pool = BoundedPool(settings.workers, settings.queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        registry.available()  # import the method providers (and load models) before serving
        if not access_log.handlers:  # one JSON line per request on stderr, whatever the server's log setup
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            access_log.addHandler(handler)
            access_log.setLevel(logging.INFO)
        yield
        pool.shutdown()

    app = FastAPI(
        title="docbin",
        version="1",
        description="Document image binarization: upload a scan, get the binary image back.",
        lifespan=lifespan,
    )
    app.state.settings, app.state.pool = settings, pool

    def require_key(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.api_key.encode()):
            raise ApiError(401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>",
                           {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(DocbinError)
    async def _docbin_error(_: Request, exc: DocbinError) -> JSONResponse:
        return error_response(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        return error_response(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("docbin.service").exception("unexpected error")
        return error_response(500, "internal_error", "internal error; it has been logged")

    @app.middleware("http")
    async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = uuid.uuid4().hex[:12]
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-Id"] = request_id
        access_log.info(json.dumps({
            "request_id": request_id, "method": request.method, "path": request.url.path,
            "status": response.status_code, "ms": round(1000 * (time.perf_counter() - start), 1),
            "bytes_in": int(request.headers.get("content-length", 0) or 0),
        }))
        return response

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        """The upload page: pick a scan and a method, see scan and result side by side, download."""
        return HTMLResponse(resources.files("docbin.service.static").joinpath("index.html").read_text())

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> dict[str, Any]:
        """Readiness: the method registry (and any model files) loaded."""
        methods = registry.available()
        return {"status": "ready", "methods": len(methods), "learned": [m.name for m in methods if m.family != "classical"]}

    @app.get("/v1/methods", dependencies=[Depends(require_key)], tags=["binarize"])
    def methods() -> list[dict[str, Any]]:
        """Every method with its parameters, types, defaults, ranges and reference."""
        return [m.describe() for m in registry.available()]

    @app.post(
        "/v1/binarize",
        dependencies=[Depends(require_key)],
        tags=["binarize"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}, "image/tiff": {}}, "description": "the binary image"}},
    )
    async def binarize(
        request: Request,
        file: UploadFile = File(..., description="The scan: PNG, JPEG, TIFF (multi-page), BMP, PNM, WebP, ..."),
        method: str = Form("sauvola", description="Method name (GET /v1/methods)."),
        params: str | None = Form(None, description='Method parameters as a JSON object, e.g. {"window": 25}.'),
        format: Literal["png", "tiff"] | None = Form(None, description="Output format; default PNG, or "
                                                      "TIFF for multi-page uploads or Accept: image/tiff."),
    ) -> Response:
        """Binarize one uploaded scan (every page of a multi-page TIFF) and return the bilevel image."""
        chosen = registry.get(method)
        typed = chosen.validate(_parse_params(params))
        fmt = format or ("tiff" if "image/tiff" in request.headers.get("accept", "") else None)
        data = await file.read()
        start = time.perf_counter()
        body, out_fmt = await pool.run(
            lambda: _binarize(data, chosen, typed, fmt, settings.max_pixels), settings.request_timeout_s
        )
        return Response(body, media_type=io.media_type(out_fmt), headers={
            "X-Docbin-Method": chosen.name,
            "X-Docbin-Params": json.dumps(typed),
            "X-Docbin-Time-Ms": f"{1000 * (time.perf_counter() - start):.1f}",
            "Content-Disposition": f'attachment; filename="binarized.{"tif" if out_fmt == "tiff" else "png"}"',
        })

    from docbin.service.evaluate import evaluate_router  # imports this module: here, not at the top

    app.include_router(evaluate_router(pool, settings, require_key))
    app.mount("/static", StaticFiles(packages=[("docbin.service", "static")]), name="static")

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization"])
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    return app

"""The docbin HTTP service: the method registry, scan I/O and binarizers behind a small versioned API.

``POST /v1/binarize`` (multipart ``file`` + ``method`` + JSON ``params`` + ``format``) returns the bilevel
image; ``GET /v1/methods`` lists methods; ``GET /healthz`` / ``GET /readyz`` are the health checks.
CPU-bound work runs in a bounded pool of worker processes (:mod:`docbin.service.pool`): when it is full the
answer is 503 with ``Retry-After`` instead of an ever-growing queue, and a job past its time limit is
stopped. Every error, FastAPI's and Starlette's own included, gets one JSON body
``{"error": {"code", "message"}}``; nothing user-controlled ever names a file on disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hmac
from importlib import resources
import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docbin import io, registry
from docbin.errors import DocbinError, ParameterError
from docbin.service import jobs
from docbin.service.config import Settings
from docbin.service.errors import ApiError, error_response
from docbin.service.negotiate import acceptable
from docbin.service.pool import BoundedPool, Timing

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
# Code per HTTP status of the errors Starlette and FastAPI raise themselves (unparsable body, no such route, ...).
CODE_BY_STATUS = {
    400: "malformed_body",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "upload_timeout",
    413: "upload_too_large",
}
MULTIPART_OVERHEAD = 64 * 1024
FORM_FIELDS = ("file", "method", "params", "format")


class BodyGuard:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 (at once from its Content-Length, else
    while it streams in, chunked too); one not complete ``timeout_s`` after the request began gets 408."""

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float) -> None:
        self.app, self.limit, self.timeout_s = app, limit, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = f"the upload exceeds the limit of {self.limit} bytes (DOCBIN_MAX_UPLOAD_BYTES)"
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await error_response(413, CODE_BY_STATUS[413], too_large)(scope, receive, send)
            return
        deadline = time.monotonic() + self.timeout_s
        received, complete = 0, False

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {self.timeout_s:g} s "
                                         "(DOCBIN_BODY_TIMEOUT)") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.limit:
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, guarded_receive, send)


class AccessLog:
    """ASGI middleware: an ``X-Request-Id`` header on every answer and one JSON line per request. Plain ASGI,
    not Starlette's ``BaseHTTPMiddleware``, whose task group would wrap a body-limit error in an
    ``ExceptionGroup`` that FastAPI then reports as an unparsable body (400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, start, status = uuid.uuid4().hex[:12], time.perf_counter(), 500
        declared = dict(scope["headers"]).get(b"content-length", b"")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(json.dumps({
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status,
                "ms": round(1000 * (time.perf_counter() - start), 1),
                "bytes_in": int(declared) if declared.isdigit() else 0,
            }))


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


def _output_formats(fmt: io.OutputFormat | None, accept: str | None) -> list[io.OutputFormat]:
    """The output formats a request may get, best first: ``format`` alone when given (it overrides
    ``Accept``), else PNG and TIFF as far as ``Accept`` takes them (406 when it takes neither)."""
    if fmt is not None:
        return [fmt]
    offered: dict[str, io.OutputFormat] = {io.media_type("png"): "png", io.media_type("tiff"): "tiff"}
    formats = [offered[media] for media in acceptable(accept, list(offered))]
    if not formats:
        raise ApiError(406, "not_acceptable", "POST /v1/binarize answers image/png or image/tiff (errors as "
                                              "application/json); the Accept header allows neither")
    return formats


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; ``settings`` default to the environment (:meth:`Settings.from_env`)."""
    settings = settings or Settings.from_env()
    pool = BoundedPool(settings.workers, settings.queue, settings.queue_timeout_s, settings.plugins)
    limits = dataclasses.replace(io.Limits.from_env(), max_pixels=settings.max_pixels)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        registry.available()  # import the method providers (and load models) before serving
        if not access_log.handlers:  # one JSON line per request on stderr, whatever the server's log setup
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            access_log.addHandler(handler)
            access_log.setLevel(logging.INFO)
        await pool.start()  # returns once every worker's numba kernels are compiled or loaded
        yield
        pool.shutdown()

    app = FastAPI(
        title="docbin",
        version="1",
        description="Document image binarization: upload a scan, get the binary image back.",
        lifespan=lifespan,
        docs_url=None,  # served below, behind the API key unless DOCBIN_PUBLIC_DOCS
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings, app.state.pool = settings, pool

    def require_key(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.api_key.encode()):
            raise ApiError(401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>",
                           {"WWW-Authenticate": "Bearer"})

    page_auth = [] if settings.public_docs else [Depends(require_key)]  # the upload page, docs and schema

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(DocbinError)
    async def _docbin_error(_: Request, exc: DocbinError) -> JSONResponse:
        return error_response(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = {404: f"no route {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        if exc.__cause__ is not None:  # FastAPI's "error parsing the body" wraps the parser's reason
            message = f"{message}: {exc.__cause__}"
        return error_response(exc.status_code, CODE_BY_STATUS.get(exc.status_code, f"http_{exc.status_code}"),
                               message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        return error_response(422, "invalid_request", problems or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("docbin.service").exception("unexpected error")
        return error_response(500, "internal_error", "internal error; it has been logged")

    @app.get("/openapi.json", include_in_schema=False, dependencies=page_auth)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=page_auth)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="docbin - API")

    @app.get("/redoc", include_in_schema=False, dependencies=page_auth)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="docbin - API")

    @app.get("/", include_in_schema=False, dependencies=page_auth)
    def index() -> HTMLResponse:
        """The upload page: pick a scan and a method, see scan and result side by side, download."""
        return HTMLResponse(resources.files("docbin.service.static").joinpath("index.html").read_text())

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> dict[str, Any]:
        """Readiness: the method registry (and any model files) loaded, and every worker's compiled kernels
        warm (the server listens only after that: see the lifespan)."""
        methods = registry.available()
        return {"status": "ready", "methods": len(methods),
                "learned": [m.name for m in methods if m.family != "classical"],
                "workers": len(pool.workers), "kernels_warm_up_s": round(pool.warm_up_s(), 3)}

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
        format: io.OutputFormat | None = Form(None, description="Output format: png (1-bit), tiff (1-bit G4, "
                                              "multi-page) or png8 (8-bit gray); default by Accept, then PNG "
                                              "(TIFF for multi-page uploads)."),
    ) -> Response:
        """Binarize one uploaded scan (every page of a multi-page TIFF) and return the bilevel image."""
        form = await request.form()
        for field in FORM_FIELDS:
            if len(form.getlist(field)) > 1:
                raise ApiError(422, "duplicate_field", f"the form has {len(form.getlist(field))} {field!r} parts; "
                                                       "send one (one scan per request)")
        chosen = registry.get(method)
        typed = chosen.validate(_parse_params(params))
        formats = _output_formats(format, request.headers.get("accept"))
        data = await file.read()
        timing = Timing()
        body, out_fmt = await pool.run(
            functools.partial(jobs.binarize_upload, data, chosen.name, typed, formats, limits),
            settings.request_timeout_s, timing,
        )
        return Response(body, media_type=io.media_type(out_fmt), headers={
            "X-Docbin-Method": chosen.name,
            "X-Docbin-Params": json.dumps(typed),
            "X-Docbin-Queue-Ms": f"{timing.queue_ms:.1f}",
            "X-Docbin-Time-Ms": f"{timing.run_ms:.1f}",
            "Content-Disposition": f'attachment; filename="binarized.{"tif" if out_fmt == "tiff" else "png"}"',
        })

    from docbin.service.evaluate import evaluate_router  # imports this module: here, not at the top

    app.include_router(evaluate_router(pool, settings, require_key))
    app.mount("/static", StaticFiles(packages=[("docbin.service", "static")]), name="static")

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization"])
    app.add_middleware(BodyGuard, limit=settings.max_upload_bytes + MULTIPART_OVERHEAD,
                       timeout_s=settings.body_timeout_s)
    app.add_middleware(AccessLog)  # outermost: its id and log line cover the body guard's answers too
    return app

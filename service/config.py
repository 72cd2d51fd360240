"""Service settings, read from the environment once at app creation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from docbin.errors import ParameterError
from docbin.io import DEFAULT_MAX_PIXELS
from docbin.registry import parse_bool


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ParameterError(f"{name} must be positive, got {value}")
    return value


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip()
    try:
        return bool(raw) and parse_bool(raw)
    except ParameterError:
        raise ParameterError(f"{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Limits and security knobs of the HTTP service (env names in brackets)."""

    api_key: str | None = None  # DOCBIN_API_KEY: when set, every route but the health checks needs it
    public_docs: bool = False  # DOCBIN_PUBLIC_DOCS: with a key, still serve /, /docs, /redoc, /openapi.json openly
    max_upload_bytes: int = 200 * 1024 * 1024  # DOCBIN_MAX_UPLOAD_BYTES
    body_timeout_s: float = 60.0  # DOCBIN_BODY_TIMEOUT: the whole request body must arrive within this
    max_pixels: int = DEFAULT_MAX_PIXELS  # DOCBIN_MAX_PIXELS (decoded pixels per page)
    request_timeout_s: float = 120.0  # DOCBIN_REQUEST_TIMEOUT: processing time, from the job's start
    queue_timeout_s: float = 60.0  # DOCBIN_QUEUE_TIMEOUT: the longest a job waits for a free worker
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # DOCBIN_WORKERS: worker processes
    queue: int = 8  # DOCBIN_QUEUE: jobs allowed to wait beyond the running ones; more get 503
    cors_origins: tuple[str, ...] = ()  # DOCBIN_CORS_ORIGINS: comma-separated; CORS off when empty
    plugins: tuple[str, ...] = ()  # modules each worker process imports to register extra methods

    @classmethod
    def from_env(cls) -> Settings:
        defaults = cls()
        origins = os.environ.get("DOCBIN_CORS_ORIGINS", "")
        return cls(
            api_key=os.environ.get("DOCBIN_API_KEY") or None,
            public_docs=_env_flag("DOCBIN_PUBLIC_DOCS"),
            max_upload_bytes=_env_int("DOCBIN_MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
            body_timeout_s=float(_env_int("DOCBIN_BODY_TIMEOUT", int(defaults.body_timeout_s))),
            max_pixels=_env_int("DOCBIN_MAX_PIXELS", defaults.max_pixels),
            request_timeout_s=float(_env_int("DOCBIN_REQUEST_TIMEOUT", int(defaults.request_timeout_s))),
            queue_timeout_s=float(_env_int("DOCBIN_QUEUE_TIMEOUT", int(defaults.queue_timeout_s))),
            workers=_env_int("DOCBIN_WORKERS", defaults.workers),
            queue=_env_int("DOCBIN_QUEUE", defaults.queue),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )

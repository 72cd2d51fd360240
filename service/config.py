"""Service settings, read from the environment once at app creation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from docbin.io import DEFAULT_MAX_PIXELS


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Limits and security knobs of the HTTP service (env names in brackets)."""

    api_key: str | None = None  # DOCBIN_API_KEY: when set, every route but health checks needs it
    max_upload_bytes: int = 200 * 1024 * 1024  # DOCBIN_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS  # DOCBIN_MAX_PIXELS (decoded pixels per page)
    request_timeout_s: float = 120.0  # DOCBIN_REQUEST_TIMEOUT
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # DOCBIN_WORKERS: parallel jobs
    queue: int = 8  # DOCBIN_QUEUE: jobs allowed to wait beyond the running ones; more get 503
    cors_origins: tuple[str, ...] = ()  # DOCBIN_CORS_ORIGINS: comma-separated; CORS off when empty

    @classmethod
    def from_env(cls) -> Settings:
        defaults = cls()
        origins = os.environ.get("DOCBIN_CORS_ORIGINS", "")
        return cls(
            api_key=os.environ.get("DOCBIN_API_KEY") or None,
            max_upload_bytes=_env_int("DOCBIN_MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
            max_pixels=_env_int("DOCBIN_MAX_PIXELS", defaults.max_pixels),
            request_timeout_s=float(_env_int("DOCBIN_REQUEST_TIMEOUT", int(defaults.request_timeout_s))),
            workers=_env_int("DOCBIN_WORKERS", defaults.workers),
            queue=_env_int("DOCBIN_QUEUE", defaults.queue),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )

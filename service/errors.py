"""The service's one error format: ``{"error": {"code", "message"}}`` with an HTTP status and headers."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An error answered as JSON with a stable code (picklable, so a worker process can raise it)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def __reduce__(self) -> tuple[type[ApiError], tuple[int, str, str, dict[str, str]]]:
        return ApiError, (self.status, self.code, self.message, self.headers)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every failing request gets."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)

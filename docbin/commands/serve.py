"""``docbin serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 for all)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, help="Server processes (each with its own job pool)."),
) -> None:
    """Serve POST /v1/binarize, GET /v1/methods, /healthz, /readyz and the OpenAPI docs at /docs.

    Limits and the optional API key come from the environment: DOCBIN_API_KEY, DOCBIN_PUBLIC_DOCS,
    DOCBIN_MAX_UPLOAD_BYTES, DOCBIN_BODY_TIMEOUT, DOCBIN_MAX_PIXELS, DOCBIN_MAX_PAGES, DOCBIN_MAX_FILE_PIXELS,
    DOCBIN_REQUEST_TIMEOUT, DOCBIN_QUEUE_TIMEOUT, DOCBIN_WORKERS (job processes), DOCBIN_QUEUE,
    DOCBIN_CORS_ORIGINS.
    """
    try:
        import uvicorn
    except ImportError:
        typer.echo("error: the service needs its extra: pip install 'docbin[service]'", err=True)
        raise typer.Exit(2) from None
    uvicorn.run("docbin.service.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")

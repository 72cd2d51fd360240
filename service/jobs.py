"""The work a request hands to a worker process: module-level functions of picklable arguments."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from docbin import io, registry
from docbin.service.errors import ApiError


def binarize_upload(data: bytes, method: str, params: dict[str, Any], formats: Sequence[io.OutputFormat],
                    limits: io.Limits) -> tuple[bytes, io.OutputFormat]:
    """Binarize the pages of the uploaded ``data`` one at a time with ``method`` and encode them in the first
    of ``formats`` (the client's choices, best first) that holds that many pages (PNG holds one)."""
    with io.open_scan(data, limits) as scan:
        fitting = [fmt for fmt in formats if fmt == "tiff" or len(scan.sizes) == 1]
        if not fitting:
            raise ApiError(422, "multipage_png", f"the upload has {len(scan.sizes)} pages; PNG holds one: "
                                                 "use format=tiff (or Accept: image/tiff)")
        chosen = registry.get(method)
        pages = iter(scan)
        first = next(pages)
        binary = (chosen(page.pixels, **params) for page in chain([first], pages))
        return io.encode_binary(binary, fitting[0], first.dpi), fitting[0]

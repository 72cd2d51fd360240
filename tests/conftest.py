"""Shared test helpers, importable from every test module (``from conftest import ...``; pytest puts this
folder on ``sys.path``), so that no test module imports another. Paths are relative to this file: the tests
run from any working directory."""

from __future__ import annotations

import io as bytes_io
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from docbin.threestage.pipeline import PipelineConfig

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # real data and metric references; tests that need them skip when absent
SAMPLES = REPO / "docbin" / "samples"
SAMPLE_SCAN = SAMPLES / "sample_scan.png"
# Three-stage pipeline settings for tiny pages: small tiles so they still span several tiles, a small global
# size so the global branch runs.
TINY = PipelineConfig(tile=64, overlap=16, batch=3, global_size=64, stage1_window=128)


def png(gray: np.ndarray, **save: Any) -> bytes:
    """``gray`` encoded as PNG bytes (``save``: Pillow's PNG options, e.g. ``dpi``)."""
    buffer = bytes_io.BytesIO()
    Image.fromarray(gray).save(buffer, "PNG", **save)
    return buffer.getvalue()


def page_png(size: tuple[int, int] = (80, 120), **save: Any) -> bytes:
    """A small gray page with the word "ink" on it, as PNG bytes."""
    page = np.full(size, 210, np.uint8)
    cv2.putText(page, "ink", (5, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 3)
    return png(page, **save)


def png_bytes_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width x height`` (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def error_code(response: Any) -> str:
    """The stable code of a service error response ``{"error": {"code", "message"}}``."""
    return response.json()["error"]["code"]


def text_page(seed: int, size: tuple[int, int] = (120, 200)) -> np.ndarray:
    """A light, slightly uneven page with dark text: ink is known, every method should find it."""
    rng = np.random.default_rng(seed)
    h, w = size
    page = (200 + 30 * np.linspace(0, 1, w)[None, :] + rng.normal(0, 3, (h, w))).clip(0, 255).astype(np.uint8)
    cv2.putText(page, f"page {seed}", (10, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 3)
    return page


def synthetic_page(height: int = 150, width: int = 230, seed: int = 0) -> np.ndarray:
    """A stained colour page with dark text."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), (225, 210, 180), dtype=np.uint8)
    cv2.circle(page, (width // 3, height // 2), height // 3, (170, 140, 110), -1)
    page = cv2.GaussianBlur(page, (0, 0), 5)
    for row in range(3):
        cv2.putText(page, "ink 123", (8, 40 + 45 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (40, 30, 60), 2)
    noise = rng.normal(0, 4, page.shape)
    return np.clip(page + noise, 0, 255).astype(np.uint8)


def exact_window_sums(gray: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer sums of x and x^2 and the area n of DoxaPy's clipped window (int64 cumulative sums)."""
    before, after = (window - 1) // 2, window // 2

    def box(values: np.ndarray) -> np.ndarray:
        padded = np.pad(values.astype(np.int64), ((before + 1, after), (before + 1, after)))
        table = padded.cumsum(0).cumsum(1)
        return table[window:, window:] - table[:-window, window:] - table[window:, :-window] + table[:-window, :-window]

    return box(gray), box(gray.astype(np.int64) ** 2), box(np.ones_like(gray))

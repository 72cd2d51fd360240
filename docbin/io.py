"""Scan I/O: decode any common scan format into numpy pages, encode bilevel results, write atomically.

Decoding (Pillow, with tifffile for TIFF layouts Pillow cannot represent, such as 16-bit RGB): PNG, JPEG,
TIFF (multi-page; LZW/Deflate/JPEG/CCITT), BMP, PBM/PGM/PPM, WebP, JPEG 2000; 1/8/16-bit; gray, RGB,
RGBA/LA/PA (composited on white), palette, CMYK. EXIF orientation is applied and DPI kept. Every bad
input raises one of the :class:`docbin.errors.ImageReadError` subclasses, and the decoded-pixel limit is
checked from the header, before any pixel is decoded (decompression bombs).
"""

from __future__ import annotations

import io as _bytes_io
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from docbin.errors import (
    CorruptImageError,
    EmptyFileError,
    ImageReadError,
    ImageTooLargeError,
    NotAnImageError,
    UnsupportedImageError,
)

DEFAULT_MAX_PIXELS: int = int(os.environ.get("DOCBIN_MAX_PIXELS", 250_000_000))
SUPPORTED_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".dib", ".pbm", ".pgm", ".ppm", ".pnm",
     ".webp", ".jp2", ".j2k", ".gif"}
)
TEMP_SUFFIX = ".docbin-tmp"
OutputFormat = Literal["png", "tiff", "png8"]
Source = str | os.PathLike[str] | bytes

# docbin checks every page's size against its own (configurable) limit before decoding, so Pillow's
# global guard, which would refuse or merely warn at a fixed size, is replaced by that check.
Image.MAX_IMAGE_PIXELS = None
Image.LOAD_TRUNCATED_IMAGES = False


@dataclass
class Page:
    """One decoded page: ``uint8``/``uint16`` pixels, ``(H, W)`` gray or ``(H, W, 3)`` RGB, and its DPI."""

    pixels: np.ndarray
    dpi: tuple[float, float] | None = None


@dataclass
class Scan:
    """All pages of one file, in file order, and the container format Pillow/tifffile recognised."""

    pages: list[Page]
    format: str


def _name(source: Source) -> str:
    return "<upload>" if isinstance(source, bytes) else str(source)


def _open(source: Source) -> Image.Image:
    if isinstance(source, bytes):
        if not source:
            raise EmptyFileError("the file is empty (0 bytes)")
        stream: _bytes_io.BytesIO | Path = _bytes_io.BytesIO(source)
    else:
        stream = Path(source)
        if stream.stat().st_size == 0:
            raise EmptyFileError(f"{stream}: the file is empty (0 bytes)")
    try:
        return Image.open(stream)
    except UnidentifiedImageError:
        raise NotAnImageError(f"{_name(source)}: not an image in a supported format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImageError(f"{_name(source)}: cannot read the image header ({exc})") from None


def pixel_count(source: Source) -> int:
    """Width x height of an image's first page, from its header alone (nothing is decoded)."""
    with _open(source) as image:
        return image.width * image.height


def _check_size(width: int, height: int, max_pixels: int | None, name: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImageError(f"{name}: invalid image size {width}x{height}")
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} = {width * height / 1e6:.1f} megapixels exceeds the limit of "
            f"{max_pixels / 1e6:.1f} megapixels (DOCBIN_MAX_PIXELS)"
        )


def _dpi(info: dict) -> tuple[float, float] | None:
    dpi = info.get("dpi")
    if not dpi:
        return None
    x, y = (float(v) for v in dpi[:2])
    return (round(x, 3), round(y, 3)) if x > 0 and y > 0 else None


def _on_white(image: Image.Image) -> Image.Image:
    """Composite an image with alpha over a white page."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _frame_pixels(frame: Image.Image) -> np.ndarray:
    """Pixels of one Pillow frame as ``uint8``/``uint16`` gray or RGB."""
    mode = frame.mode
    if mode == "1":
        return np.where(np.asarray(frame), 255, 0).astype(np.uint8)
    if mode == "L":
        return np.asarray(frame, dtype=np.uint8)
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(frame)
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            raise UnsupportedImageError(f"{mode} image with values outside 0..65535")
        return values.astype(np.uint16)
    if mode == "RGB":
        return np.asarray(frame, dtype=np.uint8)
    if mode in {"RGBA", "LA", "PA", "La", "RGBa"} or (mode == "P" and "transparency" in frame.info):
        return np.asarray(_on_white(frame), dtype=np.uint8)
    if mode in {"P", "CMYK", "YCbCr", "LAB", "HSV"}:
        return np.asarray(frame.convert("RGB"), dtype=np.uint8)
    raise UnsupportedImageError(f"unsupported pixel mode {mode!r}")


def _read_pillow(image: Image.Image, name: str, max_pixels: int | None, first_only: bool) -> list[Page]:
    pages = []
    for index in range(1 if first_only else getattr(image, "n_frames", 1)):
        image.seek(index)
        _check_size(image.width, image.height, max_pixels, name)
        frame = ImageOps.exif_transpose(image) or image
        frame.load()
        pages.append(Page(_frame_pixels(frame), _dpi(image.info)))
    return pages


def _read_tifffile(source: Source, name: str, max_pixels: int | None, first_only: bool) -> list[Page]:
    """TIFF pages Pillow cannot represent (e.g. 16-bit RGB, extra samples), read with tifffile."""
    import tifffile

    handle = _bytes_io.BytesIO(source) if isinstance(source, bytes) else source
    pages = []
    with tifffile.TiffFile(handle) as tif:
        for tiff_page in tif.pages[:1] if first_only else tif.pages:
            height, width = tiff_page.shape[:2]
            _check_size(width, height, max_pixels, name)
            data = tiff_page.asarray()
            if data.dtype not in (np.uint8, np.uint16):
                raise UnsupportedImageError(f"{name}: unsupported TIFF sample type {data.dtype}")
            if data.ndim == 3 and data.shape[2] in (2, 4):  # gray/RGB + alpha: composite on white
                alpha = data[..., -1:].astype(np.float32) / np.iinfo(data.dtype).max
                white = np.iinfo(data.dtype).max
                colour = data[..., :-1].astype(np.float32) * alpha + white * (1 - alpha)
                data = np.rint(colour).astype(data.dtype)
                data = data[..., 0] if data.shape[2] == 1 else data
            if data.ndim == 3 and data.shape[2] != 3:
                raise UnsupportedImageError(f"{name}: unsupported TIFF layout {data.shape}")
            res = tiff_page.get_resolution()
            pages.append(Page(np.ascontiguousarray(data), res if res and all(r > 0 for r in res) else None))
    return pages


def _needs_tifffile(image: Image.Image) -> bool:
    """Pillow reduces 16-bit colour TIFFs to 8 bits and cannot hold extra samples: tifffile reads them."""
    bits = image.tag_v2.get(258, (1,))  # BitsPerSample
    bits = bits if isinstance(bits, tuple) else (bits,)
    return (max(bits) > 8 and len(bits) > 1) or image.mode not in _PILLOW_MODES


_PILLOW_MODES = {"1", "L", "I;16", "I;16B", "I;16L", "I", "RGB", "RGBA", "LA", "P", "CMYK", "YCbCr"}


def read_scan(source: Source, *, max_pixels: int | None = DEFAULT_MAX_PIXELS, first_only: bool = False) -> Scan:
    """Decode every page of ``source`` (a path or the file's bytes); ``first_only`` stops after page 1."""
    name = _name(source)
    image = _open(source)
    try:
        with image:
            fmt = image.format or "unknown"
            if fmt == "TIFF" and _needs_tifffile(image):
                pages = _read_tifffile(source, name, max_pixels, first_only)
            else:
                pages = _read_pillow(image, name, max_pixels, first_only)
    except ImageReadError as exc:
        if not exc.message.startswith(name):
            exc.message = f"{name}: {exc.message}"
            exc.args = (exc.message,)
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"{name}: the image data is corrupt or truncated ({exc})") from None
    return Scan(pages, fmt)


def read_image(source: Source, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The first page's pixels of ``source``."""
    return read_scan(source, max_pixels=max_pixels, first_only=True).pages[0].pixels


# ---------------------------------------------------------------------------------------------------
# Encoding and atomic writes
# ---------------------------------------------------------------------------------------------------


def _bilevel(page: np.ndarray) -> Image.Image:
    """A binary ``uint8`` page (ink 0, background 255) as a Pillow mode-"1" image, packed 8 pixels a byte."""
    if page.ndim != 2 or page.dtype != np.uint8:
        raise ValueError(f"a binary page must be a 2-D uint8 array, got {page.dtype} {page.shape}")
    if np.any((page != 0) & (page != 255)):
        raise ValueError("a binary page may only hold 0 (ink) and 255 (background)")
    h, w = page.shape
    return Image.frombytes("1", (w, h), np.packbits(page == 255, axis=1).tobytes())


def encode_binary(
    pages: Sequence[np.ndarray], fmt: OutputFormat = "png", dpi: tuple[float, float] | None = None
) -> bytes:
    """Encode binary pages as 1-bit PNG ("png", one page), 1-bit CCITT G4 TIFF ("tiff", any number of
    pages, order kept) or 8-bit gray PNG ("png8"), with ``dpi`` when known."""
    if not pages:
        raise ValueError("no pages to encode")
    if fmt in ("png", "png8") and len(pages) != 1:
        raise ValueError(f"PNG holds one page, got {len(pages)}: use TIFF")
    images = [_bilevel(p) for p in pages]
    if fmt == "png8":
        images = [im.convert("L") for im in images]
    extra = {"dpi": tuple(dpi)} if dpi else {}
    buffer = _bytes_io.BytesIO()
    if fmt == "tiff":
        images[0].save(buffer, "TIFF", compression="group4", save_all=True, append_images=images[1:], **extra)
    elif fmt in ("png", "png8"):
        images[0].save(buffer, "PNG", **extra)
    else:
        raise ValueError(f"unknown output format {fmt!r}; use png, tiff or png8")
    return buffer.getvalue()


def media_type(fmt: OutputFormat) -> str:
    """The HTTP media type of an output format."""
    return "image/tiff" if fmt == "tiff" else "image/png"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a hidden temp file in the same folder + ``os.replace``: readers see
    the old file or the whole new one, never a partial one; the temp file is removed on failure."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_binary(
    path: str | os.PathLike[str],
    pages: Sequence[np.ndarray],
    fmt: OutputFormat | None = None,
    dpi: tuple[float, float] | None = None,
) -> None:
    """Encode ``pages`` (format from the suffix unless given) and write them atomically to ``path``."""
    suffix = Path(path).suffix.lower()
    chosen = fmt or ("tiff" if suffix in (".tif", ".tiff") else "png")
    atomic_write_bytes(path, encode_binary(pages, chosen, dpi))

"""Scan I/O: decode any common scan format into numpy pages, encode bilevel results, write atomically.

Decoding (Pillow, with tifffile for TIFF layouts Pillow cannot represent, such as 16-bit RGB): PNG, JPEG,
TIFF (multi-page; LZW/Deflate/JPEG/CCITT), BMP, PBM/PGM/PPM, WebP, JPEG 2000; 1/8/16-bit; gray, RGB,
RGBA/LA/PA (composited on white), palette, CMYK. EXIF orientation is applied and DPI kept. Every bad
input raises one of the :class:`docbin.errors.ImageReadError` subclasses.

Decompression bombs: :class:`Limits` (pixels per page, pages per file, pixels per file) are checked from
the page headers before any pixel is decoded, and :func:`open_scan` decodes one page at a time, so a
many-page file never holds more than one decoded page. Pillow's own process-wide guard is left alone
for the host application; it is lifted only inside docbin's decode calls (:func:`_decoding`).

Longer than ~500 lines only through its docstrings and their examples (about 320 lines of code, 310 of
docstrings): decoding and encoding share the format, error and temp-file rules; the seam for a split, should
the code grow, is "Encoding and atomic writes" below.
"""

from __future__ import annotations

import io as _bytes_io
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

import numpy as np
from PIL import Image, ImageFile, ImageOps, TiffImagePlugin, UnidentifiedImageError

from docbin.errors import (
    CorruptImageError,
    EmptyFileError,
    ImageReadError,
    ImageTooLargeError,
    NotAnImageError,
    ParameterError,
    UnsupportedImageError,
)

DEFAULT_MAX_PIXELS = 250_000_000  # decoded pixels per page
DEFAULT_MAX_PAGES = 1000  # pages per file
DEFAULT_MAX_FILE_PIXELS = 2_000_000_000  # decoded pixels of all pages of one file together
SUPPORTED_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".dib", ".pbm", ".pgm", ".ppm", ".pnm",
     ".webp", ".jp2", ".j2k", ".gif"}
)
TEMP_SUFFIX = ".docbin-tmp"
OutputFormat = Literal["png", "tiff", "png8"]
Source = str | os.PathLike[str] | bytes


@dataclass(frozen=True)
class Limits:
    """What one file may decode, checked from its page headers before any pixel is decoded.

    ``None`` switches a limit off. :meth:`from_env` is the one place the environment is read.

    Attributes
    ----------
    max_pixels : decoded pixels per page (``DOCBIN_MAX_PIXELS``).
    max_pages : pages per file (``DOCBIN_MAX_PAGES``).
    max_file_pixels : decoded pixels of all pages together (``DOCBIN_MAX_FILE_PIXELS``).
    """

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_pages: int | None = DEFAULT_MAX_PAGES
    max_file_pixels: int | None = DEFAULT_MAX_FILE_PIXELS

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, each replaced by its environment variable when set (a positive integer).

        Raises
        ------
        ParameterError
            When a variable is set to anything but a positive integer.
        """
        values = {}
        for name, env in _LIMIT_ENV.items():
            raw = os.environ.get(env, "").strip()
            if raw:
                if not raw.isdigit() or int(raw) < 1:
                    raise ParameterError(f"{env} must be a positive integer, got {raw!r}")
                values[name] = int(raw)
        return cls(**values)

    def check(self, name: str, sizes: list[tuple[int, int]]) -> None:
        """Check the page sizes of a file against the limits before anything is decoded.

        Parameters
        ----------
        name : str
            The file, for the error message.
        sizes : list of (int, int)
            Every page's ``(width, height)``.

        Raises
        ------
        ImageTooLargeError
            When the pages, one page's pixels or all pages' pixels together exceed a limit.
        CorruptImageError
            For a page with an empty size.

        Examples
        --------
        >>> Limits(max_pixels=100).check("scan.png", [(10, 10)])  # within the limit: nothing happens
        >>> Limits(max_pixels=100).check("scan.png", [(20, 10)])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        docbin.errors.ImageTooLargeError: scan.png: 20x10 = 0.0 megapixels exceeds the limit ... (DOCBIN_MAX_PIXELS)
        """
        if self.max_pages is not None and len(sizes) > self.max_pages:
            raise ImageTooLargeError(
                f"{name}: more than {self.max_pages} pages exceeds the limit (DOCBIN_MAX_PAGES)"
            )
        for width, height in sizes:
            if width <= 0 or height <= 0:
                raise CorruptImageError(f"{name}: invalid image size {width}x{height}")
            if self.max_pixels is not None and width * height > self.max_pixels:
                raise ImageTooLargeError(
                    f"{name}: {width}x{height} = {width * height / 1e6:.1f} megapixels exceeds the limit of "
                    f"{self.max_pixels / 1e6:.1f} megapixels per page (DOCBIN_MAX_PIXELS)"
                )
        total = sum(width * height for width, height in sizes)
        if self.max_file_pixels is not None and total > self.max_file_pixels:
            raise ImageTooLargeError(
                f"{name}: {len(sizes)} pages of {total / 1e6:.1f} megapixels together exceed the limit of "
                f"{self.max_file_pixels / 1e6:.1f} megapixels per file (DOCBIN_MAX_FILE_PIXELS)"
            )


_LIMIT_ENV = {"max_pixels": "DOCBIN_MAX_PIXELS", "max_pages": "DOCBIN_MAX_PAGES",
              "max_file_pixels": "DOCBIN_MAX_FILE_PIXELS"}
_AS_LIMITS = object()  # read_scan's max_pixels when not given: the limits' own


@dataclass
class Page:
    """One decoded page and its resolution.

    Attributes
    ----------
    pixels : ndarray of uint8 or uint16, shape (H, W) or (H, W, 3)
        Gray or RGB pixels.
    dpi : (float, float) or None
        Horizontal and vertical resolution, when the file records it.
    """

    pixels: np.ndarray
    dpi: tuple[float, float] | None = None


@dataclass
class Scan:
    """All pages of one file, in file order, and the container format Pillow/tifffile recognised.

    Attributes
    ----------
    pages : list of Page
        The decoded pages.
    format : str
        The container format's name.
    """

    pages: list[Page]
    format: str


# Pillow's guard (MAX_IMAGE_PIXELS) is process-wide: docbin lifts it while any of its own decode calls
# runs, in any thread, and puts the host's value back when the last one ends; Limits replaces it there.
_guard_lock = threading.Lock()
_guard_users = 0
_host_settings: tuple[int | None, bool] = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow decodes without its own pixel guard (docbin's :class:`Limits` were checked) and never
    accepts truncated data, for the duration of the block only."""
    global _guard_users, _host_settings
    with _guard_lock:
        if _guard_users == 0:
            _host_settings = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = None, False
        _guard_users += 1
    try:
        yield
    finally:
        with _guard_lock:
            _guard_users -= 1
            if _guard_users == 0:
                Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = _host_settings


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
        with _decoding():
            return Image.open(stream)
    except UnidentifiedImageError:
        raise NotAnImageError(f"{_name(source)}: not an image in a supported format") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImageError(f"{_name(source)}: cannot read the image header ({exc})") from None


def pixel_count(source: Source) -> int:
    """Width x height of an image's first page, from its header alone (nothing is decoded).

    Parameters
    ----------
    source : str, path-like or bytes
        The file, or its bytes.

    Returns
    -------
    int

    Raises
    ------
    ImageReadError
        For an empty file, not an image, or an unreadable header.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((4, 8), 255, np.uint8)
    >>> page[1:3, 2:6] = 0  # ink
    >>> pixel_count(encode_binary([page]))
    32
    """
    with _open(source) as image:
        return image.width * image.height


def _dpi(image: Image.Image) -> tuple[float, float] | None:
    """The current page's DPI, or None when the file does not say (Pillow reports 1 DPI for a TIFF
    without a resolution tag)."""
    if image.format == "TIFF" and TiffImagePlugin.X_RESOLUTION not in image.tag_v2:
        return None
    dpi = image.info.get("dpi")
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
        return np.where(np.asarray(frame), np.uint8(255), np.uint8(0))
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


def _pillow_sizes(image: Image.Image, limits: Limits, first_only: bool) -> list[tuple[int, int]]:
    """Every page's ``(width, height)`` from the headers; a TIFF's page directories are walked only up to
    one past the page limit. Other multi-frame formats (GIF, APNG, WebP) have one size for all frames."""
    if first_only:
        return [image.size]
    if image.format != "TIFF":
        return [image.size] * getattr(image, "n_frames", 1)
    sizes = []
    while limits.max_pages is None or len(sizes) <= limits.max_pages:
        try:
            image.seek(len(sizes))
        except EOFError:
            break
        sizes.append(image.size)
    image.seek(0)
    return sizes


def _pillow_pages(image: Image.Image, count: int) -> Iterator[Page]:
    for index in range(count):
        with _decoding():
            image.seek(index)
            frame = ImageOps.exif_transpose(image) or image
            frame.load()
            pixels = _frame_pixels(frame)
        yield Page(pixels, _dpi(image))


def _tifffile_page(tiff_page: object, name: str) -> Page:
    """One TIFF page Pillow cannot represent (e.g. 16-bit RGB, extra samples), read with tifffile."""
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
    tags = tiff_page.tags
    known = 282 in tags and tags.valueof(296, default=2) != 1  # XResolution in inches or centimetres
    res = tiff_page.get_resolution("INCH") if known else None
    return Page(np.ascontiguousarray(data), res if res and all(r > 0 for r in res) else None)


def _needs_tifffile(image: Image.Image) -> bool:
    """Pillow reduces 16-bit colour TIFFs to 8 bits and cannot hold extra samples: tifffile reads them."""
    bits = image.tag_v2.get(258, (1,))  # BitsPerSample
    bits = bits if isinstance(bits, tuple) else (bits,)
    return (max(bits) > 8 and len(bits) > 1) or image.mode not in _PILLOW_MODES


_PILLOW_MODES = {"1", "L", "I;16", "I;16B", "I;16L", "I", "RGB", "RGBA", "LA", "P", "CMYK", "YCbCr"}


class ScanReader:
    """An open scan whose pages were checked against :class:`Limits` from their headers alone, decoded
    one at a time by iterating (each page once, in file order). Use it as a context manager.

    Attributes
    ----------
    format : the container format Pillow recognised ("PNG", "TIFF", ...).
    sizes : every page's ``(width, height)`` (only the first with ``first_only``).
    """

    def __init__(self, source: Source, limits: Limits | None = None, first_only: bool = False) -> None:
        self.name = _name(source)
        self._source = source
        self._image = _open(source)
        self._tiff: object | None = None
        try:
            with self._errors(), _decoding():
                self.format = self._image.format or "unknown"
                if self.format == "TIFF" and _needs_tifffile(self._image):
                    import tifffile

                    handle = _bytes_io.BytesIO(source) if isinstance(source, bytes) else source
                    self._tiff = tifffile.TiffFile(handle)
                    pages = self._tiff.pages[:1] if first_only else self._tiff.pages
                    self.sizes = [(p.imagewidth, p.imagelength) for p in pages]
                else:
                    self.sizes = _pillow_sizes(self._image, limits or Limits.from_env(), first_only)
                (limits or Limits.from_env()).check(self.name, self.sizes)
        except BaseException:
            self.close()
            raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every decoder error becomes an :class:`ImageReadError` whose message starts with the file name."""
        try:
            yield
        except ImageReadError as exc:
            if not exc.message.startswith(self.name):
                exc.message = f"{self.name}: {exc.message}"
                exc.args = (exc.message,)
            raise
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:  # TypeError: Pillow's TIFF
            # reader on a page directory cut short ("Missing dimensions")
            raise CorruptImageError(f"{self.name}: the image data is corrupt or truncated ({exc})") from None

    def __iter__(self) -> Iterator[Page]:
        if self._tiff is not None:
            pages = (_tifffile_page(self._tiff.pages[i], self.name) for i in range(len(self.sizes)))
        else:
            pages = _pillow_pages(self._image, len(self.sizes))
        while True:
            with self._errors():
                page = next(pages, None)
            if page is None:
                return
            yield page

    def close(self) -> None:
        if self._tiff is not None:
            self._tiff.close()
        self._image.close()

    def __enter__(self) -> ScanReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_scan(source: Source, limits: Limits | None = None, *, first_only: bool = False) -> ScanReader:
    """Open ``source`` (a path or the file's bytes) for page-by-page decoding.

    Parameters
    ----------
    source : str, path-like or bytes
        The file, or its bytes.
    limits : Limits, optional
        What the file may decode (default :meth:`Limits.from_env`), checked before any decoding.
    first_only : bool, optional
        Only the first page is checked and decoded.

    Returns
    -------
    ScanReader
        Iterate it for the :class:`Page` objects, one decoded at a time; ``sizes`` and ``format`` are known
        before any decoding. Close it (or use it as a context manager).

    Raises
    ------
    ImageReadError
        Its subclasses: empty, not an image, corrupt, unsupported, or over a limit (``image_too_large``).

    Examples
    --------
    >>> with open_scan("book.tif") as scan:  # doctest: +SKIP
    ...     for page in scan:
    ...         print(page.pixels.shape, page.dpi)
    """
    return ScanReader(source, limits, first_only)


def read_scan(
    source: Source, *, limits: Limits | None = None, max_pixels: int | None | object = _AS_LIMITS,
    first_only: bool = False,
) -> Scan:
    """Decode every page of ``source`` into memory (see :func:`open_scan` to stream them).

    Parameters
    ----------
    source : str, path-like or bytes
        The file, or its bytes.
    limits : Limits, optional
        What the file may decode (default :meth:`Limits.from_env`).
    max_pixels : int or None, optional
        Replaces the per-page limit of ``limits`` (None: no per-page limit).
    first_only : bool, optional
        Stop after page 1.

    Returns
    -------
    Scan
        The pages in file order and the container format.

    Raises
    ------
    ImageReadError
        Its subclasses: empty, not an image, corrupt, unsupported, or over a limit (``image_too_large``).

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((4, 8), 255, np.uint8)
    >>> page[1:3, 2:6] = 0  # ink
    >>> scan = read_scan(encode_binary([page, page], "tiff", dpi=(300, 300)))
    >>> scan.format, len(scan.pages), scan.pages[0].dpi
    ('TIFF', 2, (300.0, 300.0))
    """
    limits = limits or Limits.from_env()
    if max_pixels is not _AS_LIMITS:
        limits = replace(limits, max_pixels=max_pixels)
    with open_scan(source, limits, first_only=first_only) as reader:
        return Scan(list(reader), reader.format)


def read_image(
    source: Source, *, limits: Limits | None = None, max_pixels: int | None | object = _AS_LIMITS
) -> np.ndarray:
    """The first page's pixels of ``source`` (only that page is checked and decoded).

    Parameters
    ----------
    source : str, path-like or bytes
        The file, or its bytes.
    limits, max_pixels
        As in :func:`read_scan`.

    Returns
    -------
    ndarray of uint8 or uint16
        ``(H, W)`` gray or ``(H, W, 3)`` RGB; alpha composited on white, EXIF orientation applied.

    Raises
    ------
    ImageReadError
        As :func:`read_scan`.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((4, 8), 255, np.uint8)
    >>> page[1:3, 2:6] = 0  # ink
    >>> np.array_equal(read_image(encode_binary([page])), page)
    True
    """
    return read_scan(source, limits=limits, max_pixels=max_pixels, first_only=True).pages[0].pixels


# ---------------------------------------------------------------------------------------------------
# Encoding and atomic writes
# ---------------------------------------------------------------------------------------------------


def _bilevel(page: np.ndarray) -> Image.Image:
    """A binary ``uint8`` page (ink 0, background 255) as a Pillow mode-"1" image, packed 8 pixels a byte."""
    if page.ndim != 2 or page.dtype != np.uint8:
        raise ParameterError(f"a binary page must be a 2-D uint8 array, got {page.dtype} {page.shape}")
    if np.any((page != 0) & (page != 255)):
        raise ParameterError("a binary page may only hold 0 (ink) and 255 (background)")
    h, w = page.shape
    return Image.frombytes("1", (w, h), np.packbits(page == 255, axis=1).tobytes())


def save_binary(
    stream: IO[bytes], pages: Iterable[np.ndarray], fmt: OutputFormat = "png",
    dpi: tuple[float, float] | None = None,
) -> int:
    """Encode binary pages into ``stream`` one at a time, as they come from ``pages`` (an iterator keeps
    one page in memory).

    Parameters
    ----------
    stream : binary file
        Where the file goes; for "tiff" it must be readable and seekable (its page directories are linked up
        as pages are appended).
    pages : iterable of ndarray of uint8, shape (H, W)
        Binary pages: only 0 (ink) and 255 (background).
    fmt : {"png", "tiff", "png8"}, optional
        1-bit PNG (one page), 1-bit CCITT G4 TIFF (any number of pages, order kept) or 8-bit gray PNG.
    dpi : (float, float), optional
        Resolution written into the file when known.

    Returns
    -------
    int
        The number of pages written.

    Raises
    ------
    ParameterError
        For another format, a page that is not binary ``uint8``, several pages for PNG, or no page.

    Examples
    --------
    >>> import io, numpy as np
    >>> stream = io.BytesIO()
    >>> save_binary(stream, [np.zeros((2, 2), np.uint8)] * 3, "tiff")
    3
    """
    if fmt not in ("png", "tiff", "png8"):
        raise ParameterError(f"unknown output format {fmt!r}; use png, tiff or png8")
    extra = {"dpi": tuple(dpi)} if dpi else {}
    count = 0
    if fmt == "tiff":
        with TiffImagePlugin.AppendingTiffWriter(stream, new=True) as tiff:
            for page in pages:
                _bilevel(page).save(tiff, "TIFF", compression="group4", **extra)
                tiff.newFrame()
                count += 1
    else:
        for page in pages:
            if count:
                raise ParameterError("PNG holds one page, got more: use TIFF")
            image = _bilevel(page)
            (image.convert("L") if fmt == "png8" else image).save(stream, "PNG", **extra)
            count += 1
    if not count:
        raise ParameterError("no pages to encode")
    return count


def encode_binary(
    pages: Iterable[np.ndarray], fmt: OutputFormat = "png", dpi: tuple[float, float] | None = None
) -> bytes:
    """The bytes :func:`save_binary` writes for ``pages``, in memory.

    Parameters
    ----------
    pages : iterable of ndarray of uint8, shape (H, W)
        Binary pages: only 0 (ink) and 255 (background).
    fmt : {"png", "tiff", "png8"}, optional
        1-bit PNG (one page), 1-bit CCITT G4 TIFF (any number of pages) or 8-bit gray PNG.
    dpi : (float, float), optional
        Resolution written into the file when known.

    Returns
    -------
    bytes
        The encoded file.

    Raises
    ------
    ParameterError
        For another format, a page that is not binary ``uint8``, several pages for PNG, or no page.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((4, 8), 255, np.uint8)
    >>> page[1:3, 2:6] = 0  # ink
    >>> encode_binary([page])[:8]  # a PNG signature
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = _bytes_io.BytesIO()
    save_binary(buffer, pages, fmt, dpi)
    return buffer.getvalue()


def media_type(fmt: OutputFormat) -> str:
    """The HTTP media type of an output format ("image/tiff" or "image/png").

    Parameters
    ----------
    fmt : {"png", "tiff", "png8"}
        An output format of :func:`save_binary`.

    Returns
    -------
    str
        ``"image/tiff"`` for "tiff", else ``"image/png"``.

    Examples
    --------
    >>> media_type("tiff"), media_type("png8")
    ('image/tiff', 'image/png')
    """
    return "image/tiff" if fmt == "tiff" else "image/png"


@contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A file handle (read/write) whose content replaces ``path`` when the block ends without error.

    It writes a hidden temp file in the same folder, then ``fsync`` + ``os.replace``: readers see the
    old file or the whole new one, never a partial one; the temp file is removed on any failure.

    Parameters
    ----------
    path : str or path-like
        The file to replace (or create); its folder must exist.

    Yields
    ------
    binary file
        The temp file, open for reading and writing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "out.bin"
    ...     with atomic_writer(path) as handle:
    ...         _ = handle.write(b"whole")
    ...         print(path.exists())  # nothing at path until the block ends
    ...     print(path.read_bytes())
    False
    b'whole'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        with open(tmp, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`).

    Parameters
    ----------
    path : str or path-like
        The file to replace (or create).
    data : bytes
        Its new content.
    """
    with atomic_writer(path) as handle:
        handle.write(data)


def write_binary(
    path: str | os.PathLike[str],
    pages: Iterable[np.ndarray],
    fmt: OutputFormat | None = None,
    dpi: tuple[float, float] | None = None,
) -> int:
    """Encode ``pages`` page by page into ``path``, atomically (:func:`save_binary`, :func:`atomic_writer`).

    Parameters
    ----------
    path : str or path-like
        The output file.
    pages : iterable of ndarray of uint8, shape (H, W)
        Binary pages (0 ink, 255 background).
    fmt : {"png", "tiff", "png8"}, optional
        Default from the suffix: "tiff" for ``.tif``/``.tiff``, else "png".
    dpi : (float, float), optional
        Resolution written into the file when known.

    Returns
    -------
    int
        The number of pages written.

    Raises
    ------
    ParameterError
        As :func:`save_binary`; nothing is written then.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((4, 8), 255, np.uint8)
    >>> page[1:3, 2:6] = 0  # ink
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "book.tif"
    ...     print(write_binary(path, [page, page]), len(read_scan(path).pages))
    2 2
    """
    suffix = Path(path).suffix.lower()
    chosen = fmt or ("tiff" if suffix in (".tif", ".tiff") else "png")
    with atomic_writer(path) as handle:
        return save_binary(handle, pages, chosen, dpi)

"""Round trips and error paths of docbin.io for every format, mode and bit depth it promises."""

from __future__ import annotations

import io as bytes_io
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from conftest import png_bytes_declaring

from docbin import io
from docbin.errors import (
    CorruptImageError,
    EmptyFileError,
    ImageReadError,
    ImageTooLargeError,
    NotAnImageError,
    ParameterError,
)

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (23, 31), dtype=np.uint8)
RGB = RNG.integers(0, 256, (23, 31, 3), dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = bytes_io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "BMP", "PPM", "WEBP"])
def test_lossless_rgb_and_gray_round_trip(fmt: str) -> None:
    extra = {"lossless": True} if fmt == "WEBP" else {}
    assert np.array_equal(io.read_image(encode(Image.fromarray(RGB), fmt, **extra)), RGB)
    if fmt != "WEBP":  # WebP has no gray mode
        assert np.array_equal(io.read_image(encode(Image.fromarray(GRAY), fmt)), GRAY)


@pytest.mark.parametrize("compression", ["tiff_lzw", "tiff_adobe_deflate", "jpeg", "packbits"])
def test_tiff_compressions(compression: str) -> None:
    pixels = io.read_image(encode(Image.fromarray(RGB), "TIFF", compression=compression))
    tolerance = 40 if compression == "jpeg" else 0
    assert pixels.shape == RGB.shape and np.abs(pixels.astype(int) - RGB).mean() <= tolerance


def test_ccitt_g4_tiff_and_pbm_bilevel() -> None:
    bilevel = np.where(GRAY > 128, 255, 0).astype(np.uint8)
    for data in (io.encode_binary([bilevel], "tiff"), encode(Image.fromarray(bilevel).convert("1"), "PPM")):
        assert np.array_equal(io.read_image(data), bilevel)


def test_jpeg_and_cmyk_jpeg_decode_to_rgb() -> None:
    smooth = np.dstack([np.tile(np.linspace(0, 255, 31, dtype=np.uint8), (23, 1))] * 3)
    rgb = io.read_image(encode(Image.fromarray(smooth), "JPEG", quality=95))
    assert rgb.shape == smooth.shape and np.abs(rgb.astype(int) - smooth).mean() < 4
    cmyk = io.read_image(encode(Image.fromarray(smooth).convert("CMYK"), "JPEG", quality=95))
    assert cmyk.shape == smooth.shape and cmyk.dtype == np.uint8


def test_16_bit_gray_png_and_16_bit_rgb_tiff() -> None:
    gray16 = (GRAY.astype(np.uint16) * 257)
    assert np.array_equal(io.read_image(encode(Image.fromarray(gray16), "PNG")), gray16)
    rgb16 = RGB.astype(np.uint16) * 257
    buffer = bytes_io.BytesIO()
    tifffile.imwrite(buffer, rgb16, photometric="rgb", resolution=(150, 150))
    page = io.read_scan(buffer.getvalue()).pages[0]
    assert np.array_equal(page.pixels, rgb16) and page.dpi == (150.0, 150.0)


def test_alpha_is_composited_on_white_and_palette_expands() -> None:
    rgba = np.dstack([RGB, np.zeros((23, 31), np.uint8)])
    rgba[0, 0, 3] = 255
    out = io.read_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert out.shape == RGB.shape and (out[1:] == 255).all() and np.array_equal(out[0, 0], RGB[0, 0])
    la = io.read_image(encode(Image.fromarray(GRAY).convert("LA"), "PNG"))
    assert la.shape == RGB.shape
    palette = Image.fromarray(RGB).quantize(16)
    assert io.read_image(encode(palette, "PNG")).shape == RGB.shape


def test_exif_orientation_is_applied() -> None:
    tall = np.zeros((40, 20, 3), np.uint8)
    tall[:5] = 255  # bright top band
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    rotated = io.read_image(encode(Image.fromarray(tall), "JPEG", quality=95, exif=exif))
    assert rotated.shape == (20, 40, 3)
    assert rotated[:, -5:].mean() > 200 and rotated[:, :30].mean() < 20


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "JPEG"])
def test_dpi_is_read(fmt: str) -> None:
    scan = io.read_scan(encode(Image.fromarray(GRAY), fmt, dpi=(300, 300)))
    assert scan.pages[0].dpi is not None and round(scan.pages[0].dpi[0]) == 300


def test_multipage_tiff_order_in_and_out() -> None:
    pages = [np.full((8, 9), 40 * i, np.uint8) for i in range(4)]
    images = [Image.fromarray(p) for p in pages]
    scan = io.read_scan(encode(images[0], "TIFF", save_all=True, append_images=images[1:]))
    assert [int(p.pixels[0, 0]) for p in scan.pages] == [0, 40, 80, 120]
    binaries = [np.where(np.arange(9)[None, :] < i + 2, 0, 255).astype(np.uint8).repeat(8, 0) for i in range(3)]
    data = io.encode_binary(binaries, "tiff", dpi=(400, 400))
    back = io.read_scan(data)
    assert [np.array_equal(p.pixels, b) for p, b in zip(back.pages, binaries)] == [True] * 3
    assert back.pages[0].dpi == (400.0, 400.0)
    with Image.open(bytes_io.BytesIO(data)) as tiff:
        assert tiff.mode == "1" and tiff.info["compression"] == "group4" and tiff.n_frames == 3


@pytest.mark.parametrize("fmt,mode", [("png", "1"), ("png8", "L")])
def test_png_outputs_are_bilevel_with_dpi(fmt: str, mode: str) -> None:
    binary = np.where(GRAY > 100, 255, 0).astype(np.uint8)
    data = io.encode_binary([binary], fmt, dpi=(600, 600))
    with Image.open(bytes_io.BytesIO(data)) as png:
        assert png.mode == mode and round(png.info["dpi"][0]) == 600
    assert np.array_equal(io.read_image(data), binary)


def test_encode_rejects_non_binary_and_png_with_pages() -> None:
    with pytest.raises(ValueError, match="only hold 0"):
        io.encode_binary([GRAY])
    binary = np.zeros((3, 3), np.uint8)
    with pytest.raises(ValueError, match="one page"):
        io.encode_binary([binary, binary], "png")


def test_bomb_is_refused_from_the_header() -> None:
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        io.read_scan(png_bytes_declaring(100_000, 100_000))
    with pytest.raises(ImageTooLargeError):
        io.read_scan(encode(Image.fromarray(GRAY), "PNG"), max_pixels=100)


@pytest.mark.parametrize(
    "data,error",
    [
        (b"", EmptyFileError),
        (b"hello, this is text and no image at all", NotAnImageError),
        (bytes(RNG.integers(0, 256, 500, dtype=np.uint8)), NotAnImageError),
    ],
)
def test_bad_bytes_raise_typed_errors(data: bytes, error: type[ImageReadError]) -> None:
    with pytest.raises(error):
        io.read_scan(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_truncated_files_are_corrupt_not_grey(fmt: str) -> None:
    noisy = RNG.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noisy), fmt)
    with pytest.raises(CorruptImageError):
        io.read_scan(data[: len(data) // 2])


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="empty.png"):
        io.read_scan(path)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(NotAnImageError, match="text.png"):
        io.read_scan(tmp_path / "text.png")


def test_atomic_write_replaces_whole_file_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    io.write_binary(target, [np.zeros((4, 4), np.uint8)])
    assert io.read_image(target).shape == (4, 4)

    def fail(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        io.atomic_write_bytes(target, b"new")
    assert io.read_image(target).shape == (4, 4)  # old content intact
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left


def test_media_type_and_suffixes() -> None:
    assert io.media_type("tiff") == "image/tiff" and io.media_type("png") == "image/png"
    assert {".png", ".jpg", ".tif", ".tiff", ".webp", ".pbm", ".bmp"} <= io.SUPPORTED_SUFFIXES


def test_pixel_count_reads_the_header_only(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    Image.fromarray(np.zeros((30, 70), np.uint8)).save(path)
    assert io.pixel_count(path) == 2100
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(NotAnImageError):
        io.pixel_count(tmp_path / "junk.png")


def multipage_tiff(count: int, size: tuple[int, int] = (20, 30)) -> bytes:
    images = [Image.fromarray(np.full(size, 40 * i, np.uint8)) for i in range(count)]
    return encode(images[0], "TIFF", save_all=True, append_images=images[1:])


@pytest.mark.parametrize(
    "limits,match",
    [
        (io.Limits(max_pages=2), "more than 2 pages"),
        (io.Limits(max_file_pixels=1500), "per file"),  # 3 x 600 pixels, each page under any page limit
        (io.Limits(max_pixels=500), "per page"),
    ],
)
def test_multipage_limits_refuse_before_decoding(
    limits: io.Limits, match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(_frame: Image.Image) -> np.ndarray:
        raise AssertionError("a page was decoded")

    monkeypatch.setattr(io, "_frame_pixels", no_decoding)
    with pytest.raises(ImageTooLargeError, match=match) as refused:
        io.read_scan(multipage_tiff(3), limits=limits)
    assert refused.value.code == "image_too_large"


def test_limits_come_from_the_environment_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCBIN_MAX_PAGES", "2")
    monkeypatch.setenv("DOCBIN_MAX_FILE_PIXELS", "5000")
    assert io.Limits.from_env() == io.Limits(io.DEFAULT_MAX_PIXELS, 2, 5000)
    with pytest.raises(ImageTooLargeError, match="DOCBIN_MAX_PAGES"):
        io.read_scan(multipage_tiff(3))
    assert io.read_image(multipage_tiff(3)).shape == (20, 30)  # the first page alone is within the limits
    for bad in ("0", "-3", "many", "1e6"):
        monkeypatch.setenv("DOCBIN_MAX_PIXELS", bad)
        with pytest.raises(ParameterError, match="DOCBIN_MAX_PIXELS"):
            io.Limits.from_env()


def test_open_scan_decodes_one_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    frame_pixels = io._frame_pixels
    monkeypatch.setattr(io, "_frame_pixels", lambda frame: decoded.append(1) or frame_pixels(frame))
    with io.open_scan(multipage_tiff(4)) as scan:
        assert scan.format == "TIFF" and scan.sizes == [(30, 20)] * 4 and not decoded
        first = next(iter(scan))
        assert int(first.pixels[0, 0]) == 0 and len(decoded) == 1
        assert [int(p.pixels[0, 0]) for p in scan] == [0, 40, 80, 120] and len(decoded) == 5


def test_pages_stream_into_a_multipage_tiff(tmp_path: Path) -> None:
    pulled = []

    def pages() -> Iterator[np.ndarray]:
        for i in range(3):
            pulled.append(i)
            yield np.where(np.arange(9)[None, :] < i + 2, 0, 255).astype(np.uint8).repeat(5, 0)

    assert io.write_binary(tmp_path / "book.tif", pages(), dpi=(300, 300)) == 3
    back = io.read_scan(tmp_path / "book.tif")
    assert [int((p.pixels == 0).sum()) for p in back.pages] == [10, 15, 20]
    assert {p.dpi for p in back.pages} == {(300.0, 300.0)} and pulled == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["book.tif"]


def test_a_tiff_without_resolution_has_no_dpi_in_or_out() -> None:
    plain = io.read_scan(encode(Image.fromarray(GRAY), "TIFF"))
    assert plain.pages[0].dpi is None  # Pillow alone reports 1 DPI here
    buffer = bytes_io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((5, 6, 3), np.uint16), resolution=None, resolutionunit="NONE")
    assert io.read_scan(buffer.getvalue()).pages[0].dpi is None
    out = io.encode_binary([np.zeros((4, 4), np.uint8)], "tiff", dpi=plain.pages[0].dpi)
    with tifffile.TiffFile(bytes_io.BytesIO(out)) as tif:
        assert "XResolution" not in tif.pages[0].tags


def test_import_leaves_pillows_guard_alone_and_decoding_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "from PIL import Image; Image.MAX_IMAGE_PIXELS = 1234; import docbin.io; print(Image.MAX_IMAGE_PIXELS)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "1234"
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses over 200 pixels; docbin's limits rule
    data = encode(Image.fromarray(GRAY), "PNG")
    with ThreadPoolExecutor(4) as pool:
        assert all(p.shape == GRAY.shape for p in pool.map(io.read_image, [data] * 16))
    assert Image.MAX_IMAGE_PIXELS == 100
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bytes_io.BytesIO(data))

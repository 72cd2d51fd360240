"""The upload page without a browser: every file it loads is served by docbin (no CDN), and its pure modules
(the ZIP writer, the parameter check) run under Node.js when it is installed."""

from __future__ import annotations

import base64
import io as bytes_io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from docbin.service.app import create_app  # noqa: E402
from docbin.service.config import Settings  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "service" / "static"
NODE = shutil.which("node")


@pytest.fixture
def client() -> TestClient:
    with TestClient(create_app(Settings(workers=1, queue=1))) as c:
        yield c


def test_the_page_loads_only_files_docbin_serves(client: TestClient) -> None:
    page = client.get("/").text
    loaded = re.findall(r'(?:src|href)="([^"#]+)"', page)
    imports = [match for path in STATIC.glob("*.js")  # import ... from "./x.js" and new Worker(new URL("./x.js"))
               for match in re.findall(r'(?:from "|URL\(")\./([\w-]+\.js)"', path.read_text())]
    scripts = sorted({f"static/{name}" for name in imports})
    assert "static/main.js" in loaded and "static/page.css" in loaded and scripts
    for path in [*loaded, *scripts]:
        if path.startswith("data:") or path == "docs":
            continue
        response = client.get("/" + path)
        assert response.status_code == 200, path
        kind = "css" if path.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], path
    for path in [*STATIC.glob("*.js"), *STATIC.glob("*.css"), *STATIC.glob("*.html")]:
        assert not re.search(r"https?://", path.read_text()), f"{path.name} loads something from elsewhere"


def node(script: str) -> str:
    run = subprocess.run([NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         cwd=STATIC)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_store_only_zip_opens_with_python_zipfile() -> None:
    out = node("""
        import { crc32, zipStore } from "./zip.js";
        const entries = [{ name: "page.sauvola.png", blob: new Blob([new Uint8Array([137, 80, 78, 71, 0, 255])]) },
                         { name: "Seite ä.otsu.tif", blob: new Blob(["II*\\u0000 tiff bytes"]) },
                         { name: "empty.png", blob: new Blob([]) }];
        const zip = new Uint8Array(await (await zipStore(entries, new Date(2026, 11, 2, 10, 30, 4))).arrayBuffer());
        console.log(JSON.stringify({ check: crc32(new TextEncoder().encode("123456789")),
                                     zip: Buffer.from(zip).toString("base64") }));
    """)
    result = json.loads(out)
    assert result["check"] == 0xCBF43926  # the CRC-32 check value of "123456789"
    archive = zipfile.ZipFile(bytes_io.BytesIO(base64.b64decode(result["zip"])))
    assert archive.testzip() is None
    assert archive.namelist() == ["page.sauvola.png", "Seite ä.otsu.tif", "empty.png"]
    assert archive.read("page.sauvola.png") == bytes([137, 80, 78, 71, 0, 255])
    assert archive.read("Seite ä.otsu.tif") == b"II*\x00 tiff bytes" and archive.read("empty.png") == b""
    info = archive.getinfo("page.sauvola.png")
    assert info.compress_type == zipfile.ZIP_STORED and info.date_time == (2026, 12, 2, 10, 30, 4)


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_parameter_check_follows_the_registry_ranges() -> None:
    out = node("""
        import { problem } from "./params.js";
        const window = { label: "Window (px)", type: "int", min: 1, max: 46340, choices: null };
        const k = { label: "k", type: "float", min: 0, max: 1, choices: null };
        const cases = [[window, "25"], [window, "0"], [window, "2.5"], [window, ""], [window, "abc"],
                       [window, "46341"], [k, "0.35"], [k, "-0.1"], [k, "1e400"]];
        console.log(JSON.stringify(cases.map(([p, value]) => problem(p, { value }))));
    """)
    assert json.loads(out) == [
        "", "Window (px) must be at least 1", "Window (px) must be a whole number", "Window (px) needs a value",
        "Window (px) must be a number", "Window (px) must be at most 46340", "", "k must be at least 0",
        "k must be a number",
    ]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_model_line_names_the_served_model_once_whatever_its_precision_key() -> None:
    out = node("""
        import { modelLine } from "./params.js";
        const fp32 = { available: true, precision: "fp32", version: "f1" };
        const onebit = { available: true, precision: "1bit-int8", version: "b1" };
        const lines = [
          { name: "threestage", precision: "1bit-int8", version: "b1", precisions: { fp32, "1bit": onebit } },
          { name: "threestage", precision: "fp32", version: "f1", precisions: { fp32, "1bit": { available: false } } },
        ].map(model => modelLine({ model }));
        console.log(JSON.stringify(lines));
    """)
    assert json.loads(out) == [
        "Served by the threestage model, 1bit-int8, version b1; fp32 (version f1) also available",
        "Served by the threestage model, fp32, version f1; 1bit not installed here",
    ]

"""Fuzz the HTTP service with malformed images, parameters, headers, bodies and routes; the bar is no 5xx and
every error in the documented body ``{"error": {"code": str, "message": str}}`` (nothing else in it).

In-process (``TestClient``): valid PNG/JPEG/TIFF/BMP/WebP pages, then truncations, random byte flips, wrong
magic, zero bytes and decompression-bomb headers, with random (often invalid) methods, parameters (wrong types
too: ``true`` for an int, ``"yes"`` or ``1`` for a bool), formats (``png8`` too), ``Accept`` headers with
q-values and duplicated form parts; unknown routes and methods (404/405); unparsable multipart bodies; every
route without and with a wrong API key. Against a real ``docbin serve`` on loopback (small limits): an
oversized chunked upload (413), a body that stops arriving (408) and a 40-page multi-page bomb (413).

    python bench/fuzz.py --cases 600 --seed 0

Then, when schemathesis is installed (`pip install schemathesis`), a schema-driven run against a real
``docbin serve`` on loopback with the ``not_a_server_error`` check.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import io as bytes_io
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from docbin.service.app import create_app
from docbin.service.config import Settings
from docbin.service.local import local_server

ROUTES = ["/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/v1/methods", "/v1/binarize",
          "/v1/evaluate", "/static/nope.js", "/nope", "/v1/../etc/passwd", "/v1/binarize/x", "/%00"]
VERBS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
ACCEPTS = ["image/png", "image/tiff", "image/tiff;q=0, image/png", "image/png;q=0.2, image/tiff", "image/*",
           "*/*;q=0", "application/json", "text/html, */*;q=0.8", "image/png;q=abc", "image/png;q=0, image/tiff;q=0",
           ",,;;", "image/tiff;q=2"]


class Tally:
    """Statuses of every answer, and the cases that broke the bar (a 5xx or an error body in another shape)."""

    def __init__(self) -> None:
        self.statuses: collections.Counter[int] = collections.Counter()
        self.server_errors: list[str] = []
        self.bad_bodies: list[str] = []

    def check(self, case: str, status: int, body: bytes, content_type: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{case}: {status} {body[:200]!r}")
        if status >= 400 and not documented_error(body, content_type):
            self.bad_bodies.append(f"{case}: {status} {content_type} {body[:200]!r}")

    def record(self, case: str, response: httpx.Response) -> None:
        self.check(case, response.status_code, response.content, response.headers.get("content-type", ""))


def documented_error(body: bytes, content_type: str) -> bool:
    """True when ``body`` is exactly ``{"error": {"code": str, "message": str}}`` served as JSON."""
    if not content_type.startswith("application/json"):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    error = parsed.get("error") if isinstance(parsed, dict) and set(parsed) == {"error"} else None
    return (isinstance(error, dict) and set(error) == {"code", "message"}
            and all(isinstance(error[k], str) and error[k] for k in ("code", "message")))


def valid_images(rng: np.random.Generator) -> list[bytes]:
    page = np.full((96, 128), 215, np.uint8)
    cv2.putText(page, "fuzz", (5, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 25, 3)
    out = []
    for fmt, mode in [("PNG", "L"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("TIFF", "L"), ("BMP", "RGB"), ("WEBP", "RGB")]:
        buffer = bytes_io.BytesIO()
        Image.fromarray(page).convert(mode).save(buffer, fmt)
        out.append(buffer.getvalue())
    frames = [Image.fromarray(page)] * 3
    buffer = bytes_io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])  # multi-page
    out.append(buffer.getvalue())
    return out


def multipage_bomb(pages: int = 40, side: int = 10_000) -> bytes:
    """The issue's bomb: ``pages`` blank ``side`` x ``side`` pages as a G4 TIFF of a few hundred KB."""
    page = Image.new("1", (side, side), 1)
    buffer = bytes_io.BytesIO()
    page.save(buffer, "TIFF", save_all=True, append_images=[page] * (pages - 1), compression="group4")
    return buffer.getvalue()


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    kind = rng.integers(0, 5)
    if kind == 0:
        return data[: int(rng.integers(0, len(data)))]
    if kind == 1:
        raw = bytearray(data)
        for i in rng.integers(0, len(raw), size=int(rng.integers(1, 20))):
            raw[i] = int(rng.integers(0, 256))
        return bytes(raw)
    if kind == 2:
        return bytes(rng.integers(0, 256, size=8, dtype=np.uint8)) + data[8:]
    if kind == 3:
        return b""
    width, height = (int(v) for v in rng.integers(1, 2**31 - 1, size=2))
    return data[:16] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[24:]  # PNG IHDR size


def pick(rng: np.random.Generator, values: list[object]) -> object:
    return values[int(rng.integers(len(values)))]


def random_form(rng: np.random.Generator) -> dict[str, str]:
    form: dict[str, str] = {}
    if rng.random() < 0.5:
        form["method"] = str(pick(rng, ["otsu", "sauvola", "wolf", "nick", "bernsen", "su", "nope", ""]))
    if rng.random() < 0.5:
        values: list[object] = [0, -5, 3, 25, 25.0, 1e9, "x", "25", None, [1], float("nan"), True, False, "yes", 1]
        value = pick(rng, values)
        name = pick(rng, ["window", "k", "fuse_global", "fusion"])
        form["params"] = str(pick(rng, [json.dumps({name: value}), "{", "[]", "null", '{"window": 1e999}']))
    if rng.random() < 0.3:
        form["format"] = str(pick(rng, ["png", "tiff", "png8", "gif", ""]))
    return form


def fuzz_binarize(client: TestClient, tally: Tally, rng: np.random.Generator, cases: int) -> None:
    corpus = valid_images(rng)
    for case in range(cases):
        data = corpus[case % len(corpus)]
        data = mutate(data, rng) if rng.random() < 0.7 else data
        form = random_form(rng)
        headers = {"Accept": str(pick(rng, ACCEPTS))} if rng.random() < 0.3 else {}
        files = [("file", ("f", data))] * (2 if rng.random() < 0.05 else 1)
        twice = rng.random() < 0.05  # every form field sent twice
        response = client.post("/v1/binarize", files=files, headers=headers,
                               data={k: [v, v] for k, v in form.items()} if twice else form)
        tally.record(f"binarize #{case} form={form} twice={twice} headers={headers} files={len(files)}", response)


def fuzz_routes(client: TestClient, tally: Tally, prefix: str = "", headers: dict[str, str] | None = None) -> None:
    for verb in VERBS:
        for route in ROUTES:
            response = client.request(verb, route, headers=headers)
            if verb != "HEAD":  # a HEAD answer has no body to check
                tally.record(f"{prefix}{verb} {route}", response)


def fuzz_multipart(client: TestClient, tally: Tally, rng: np.random.Generator, cases: int) -> None:
    good = client.build_request("POST", "/v1/binarize", files={"file": ("f.png", valid_images(rng)[0])})
    body, content_type = good.read(), good.headers["content-type"]
    bodies: list[Callable[[], tuple[bytes, str]]] = [
        lambda: (bytes(rng.integers(0, 256, size=int(rng.integers(0, 300)), dtype=np.uint8)), content_type),
        lambda: (body[: int(rng.integers(0, len(body)))], content_type),
        lambda: (body, "multipart/form-data"),  # no boundary
        lambda: (body, "multipart/form-data; boundary=" + "x" * 300),
        lambda: (body.replace(b"Content-Disposition", b"Content-Dispositio"), content_type),
        lambda: (body, "application/json"),
        lambda: (b'{"file": 1}', "application/json"),
        lambda: (body, "application/x-www-form-urlencoded"),
    ]
    for case in range(cases):
        data, kind = bodies[case % len(bodies)]()
        response = client.post("/v1/binarize", content=data, headers={"Content-Type": kind})
        tally.record(f"multipart #{case} {kind[:40]} {len(data)} bytes", response)


def fuzz_real_server(tally: Tally) -> None:
    """Transport-level cases a TestClient cannot send: chunked bodies, a stalled body, and the page bomb."""
    env = {"DOCBIN_MAX_UPLOAD_BYTES": "1000000", "DOCBIN_BODY_TIMEOUT": "2", "DOCBIN_WORKERS": "1"}
    with local_server(env=env) as server:
        part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        chunks = (part if i == 0 else b"x" * 65536 for i in range(40))
        tally.record("chunked 2.5 MB", httpx.post(f"{server.base_url}/v1/binarize", content=chunks, timeout=60,
                                                  headers={"Content-Type": "multipart/form-data; boundary=b"}))
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"POST /v1/binarize HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b"
                         b"\r\nContent-Length: 5000\r\n\r\n" + part)  # and then nothing
            reply = http.client.HTTPResponse(sock)
            reply.begin()
            tally.check("stalled body", reply.status, reply.read(), reply.getheader("content-type", ""))
        bomb = multipage_bomb()
        tally.record(f"40-page bomb ({len(bomb) // 1024} KB)", httpx.post(
            f"{server.base_url}/v1/binarize", files={"file": ("bomb.tif", bomb)}, data={"method": "otsu"}, timeout=120))
        tally.record("healthz after", httpx.get(f"{server.base_url}/healthz", timeout=10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=100, help="schemathesis examples per operation")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tally = Tally()
    settings = Settings(workers=2, queue=64, max_pixels=20_000_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        fuzz_binarize(client, tally, rng, args.cases)
        fuzz_routes(client, tally)
        fuzz_multipart(client, tally, rng, max(args.cases // 10, 8))
    keyed = Settings(api_key="fuzz-key", workers=1, queue=4)
    with TestClient(create_app(keyed), raise_server_exceptions=False) as client:
        fuzz_routes(client, tally, "no key: ")
        fuzz_routes(client, tally, "wrong key: ", {"Authorization": "Bearer wrong"})
    fuzz_real_server(tally)
    cases = sum(tally.statuses.values())
    print(f"{cases} cases: responses {dict(sorted(tally.statuses.items()))}; 5xx: {len(tally.server_errors)}; "
          f"errors not in the documented body: {len(tally.bad_bodies)}")
    for line in (tally.server_errors + tally.bad_bodies)[:10]:
        print("  ", line)
    schema_ok = run_schemathesis(args.examples)
    sys.exit(1 if tally.server_errors or tally.bad_bodies or not schema_ok else 0)


def run_schemathesis(max_examples: int) -> bool:
    """Schema-driven fuzzing of every operation against a real server; True when it found no 5xx."""
    cli = shutil.which("schemathesis")
    if cli is None:
        print("schemathesis not installed: schema-driven run skipped (pip install schemathesis)")
        return True
    with local_server() as server:
        run = subprocess.run([cli, "run", f"{server.base_url}/openapi.json", "--checks", "not_a_server_error",
                              "--max-examples", str(max_examples)], capture_output=True, text=True, timeout=600)
    summary = [line for line in run.stdout.splitlines() if "generated" in line or "failed" in line.lower()]
    print("schemathesis:", "; ".join(line.strip() for line in summary) or run.stdout[-500:])
    return run.returncode == 0


if __name__ == "__main__":
    main()

"""Fuzz ``POST /v1/binarize`` in-process with malformed images and parameters; every answer must be < 500.

Corpus: valid PNG/JPEG/TIFF/BMP/WebP pages, then truncations, random byte flips, wrong magic, zero bytes,
decompression-bomb headers, and random (often invalid) methods, parameters and formats.

    python bench/fuzz.py --cases 600 --seed 0

Then, when schemathesis is installed (`pip install schemathesis`), a schema-driven run against a real
``docbin serve`` on loopback with the ``not_a_server_error`` check.
"""

from __future__ import annotations

import argparse
import collections
import io as bytes_io
import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from docbin.service.app import create_app
from docbin.service.config import Settings
from docbin.service.local import local_server


def valid_images(rng: np.random.Generator) -> list[bytes]:
    page = np.full((96, 128), 215, np.uint8)
    cv2.putText(page, "fuzz", (5, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 25, 3)
    out = []
    for fmt, mode in [("PNG", "L"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("TIFF", "L"), ("BMP", "RGB"), ("WEBP", "RGB")]:
        buffer = bytes_io.BytesIO()
        Image.fromarray(page).convert(mode).save(buffer, fmt)
        out.append(buffer.getvalue())
    return out


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


def random_form(rng: np.random.Generator) -> dict[str, str]:
    form: dict[str, str] = {}
    if rng.random() < 0.5:
        form["method"] = str(rng.choice(["otsu", "sauvola", "wolf", "nick", "bernsen", "su", "nope", ""]))
    if rng.random() < 0.5:
        values: list[object] = [0, -5, 3, 25, 1e9, "x", None, [1], float("nan")]
        value = values[int(rng.integers(len(values)))]
        choices = [json.dumps({"window": value}), json.dumps({"k": value}), "{", "[]", "null"]
        form["params"] = choices[int(rng.integers(len(choices)))]
    if rng.random() < 0.2:
        form["format"] = str(rng.choice(["png", "tiff", "gif", ""]))
    return form


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=100, help="schemathesis examples per operation")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    corpus = valid_images(rng)
    statuses: collections.Counter[int] = collections.Counter()
    server_errors = []
    with TestClient(create_app(Settings(workers=2, queue=64, max_pixels=20_000_000)), raise_server_exceptions=False) as client:
        for case in range(args.cases):
            data = corpus[case % len(corpus)]
            data = mutate(data, rng) if rng.random() < 0.8 else data
            form = random_form(rng)
            response = client.post("/v1/binarize", files={"file": ("f", data)}, data=form)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append((case, form, response.text[:200]))
    print(f"{args.cases} cases: responses {dict(sorted(statuses.items()))}; 5xx: {len(server_errors)}")
    for case in server_errors[:10]:
        print("  5xx:", case)
    schema_ok = run_schemathesis(args.examples)
    sys.exit(1 if server_errors or not schema_ok else 0)


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

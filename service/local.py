"""Run the real ``docbin serve`` on a free loopback port, for tests and the load/fuzz scripts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_server(timeout_s: float = 30.0, env: Mapping[str, str] | None = None) -> Iterator[LocalServer]:
    """Start ``docbin serve`` on 127.0.0.1 (with ``env`` added to this environment, e.g. service settings),
    wait until ``/readyz`` answers, stop it on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "docbin", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/readyz", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"docbin serve did not become ready on port {port}") from None
                time.sleep(0.2)
        yield LocalServer(base_url, process)
    finally:
        process.terminate()
        process.wait(10)

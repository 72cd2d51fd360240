"""A writable folder for numba's on-disk cache of docbin's compiled kernels.

numba caches a ``cache=True`` kernel in ``$NUMBA_CACHE_DIR`` when set, else in ``__pycache__`` beside its
module where that is writable, else in its user cache (``~/.cache/numba`` on Linux). Where neither is
writable (a read-only install run by a user without a writable home, as in many containers) numba refuses
to import the kernel (``RuntimeError: cannot cache function ...: no locator available``); docbin then points
it at :data:`FALLBACK`, under the temporary directory, before any kernel module is imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FALLBACK = Path(tempfile.gettempdir()) / f"docbin-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"


def can_write(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (made first where missing), as numba checks it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def ensure_cache_dir() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to :data:`FALLBACK` (inherited by worker processes) when it is unset and
    neither docbin's ``__pycache__`` folders nor numba's user cache takes a file; return the folder set."""
    if os.environ.get("NUMBA_CACHE_DIR") or can_write(Path(__file__).parent / "threshold" / "__pycache__"):
        return None
    from numba.core import config
    from numba.misc.appdirs import AppDirs

    if can_write(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)):
        return None
    os.environ["NUMBA_CACHE_DIR"] = config.CACHE_DIR = str(FALLBACK)
    return config.CACHE_DIR

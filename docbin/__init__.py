"""docbin: document image binarization toolkit (classical thresholding, a three-stage DWT+GAN model run
with onnxruntime, DIBCO evaluation, batch CLI and HTTP service)."""

from docbin.numba_cache import ensure_cache_dir

ensure_cache_dir()  # before any module of compiled kernels is imported

from docbin.caching import clear_caches  # noqa: E402
from docbin.registry import available, binarize, get  # noqa: E402

__all__ = ["available", "binarize", "clear_caches", "get"]
__version__ = "0.1.0"

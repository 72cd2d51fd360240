"""docbin: document image binarization toolkit (classical thresholding, a three-stage DWT+GAN model run
with onnxruntime, DIBCO evaluation, batch CLI and HTTP service)."""

from docbin.caching import clear_caches
from docbin.registry import available, binarize, get

__all__ = ["available", "binarize", "clear_caches", "get"]
__version__ = "0.1.0"

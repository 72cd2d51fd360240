"""Typed errors shared by the library, the CLI and the service.

Every error a user can cause carries a stable machine-readable ``code`` (used verbatim in the
service's JSON error bodies) and a message written for a person.
"""

from __future__ import annotations


class DocbinError(Exception):
    """Base class of every error docbin raises on purpose."""

    code: str = "docbin_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImageReadError(DocbinError):
    """A file or byte string could not be decoded into pages (the one I/O error type)."""

    code = "image_read_error"


class EmptyFileError(ImageReadError):
    code = "empty_file"


class NotAnImageError(ImageReadError):
    code = "not_an_image"


class CorruptImageError(ImageReadError):
    code = "corrupt_image"


class UnsupportedImageError(ImageReadError):
    code = "unsupported_image"


class ImageTooLargeError(ImageReadError):
    code = "image_too_large"


class UnknownMethodError(DocbinError):
    code = "unknown_method"


class MethodUnavailableError(DocbinError):
    """A registered method that cannot run here, e.g. because its model files are missing or corrupt."""

    code = "method_unavailable"


class ParameterError(DocbinError):
    code = "invalid_parameter"


class ShapeMismatchError(DocbinError):
    code = "shape_mismatch"


class DatasetError(DocbinError):
    code = "dataset_error"


class ModelNotFoundError(DocbinError):
    code = "model_not_found"


class ClusterError(DocbinError):
    """The cluster a batch runs on cannot be reached or went away mid-run."""

    code = "cluster_error"

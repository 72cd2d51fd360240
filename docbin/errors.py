"""Typed errors shared by the library, the CLI and the service.

Every error a user can cause carries a stable machine-readable ``code`` (used verbatim in the
service's JSON error bodies) and a message written for a person. The CLI turns them into one line
and an exit status (:func:`docbin.cli.exit_status`), the service into an HTTP status
(``docbin.service.app.STATUS_BY_CODE``). Anything else that escapes is a bug and keeps its traceback.
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


class ParameterError(DocbinError, ValueError):
    """A parameter, option or setting of the wrong type, out of range, unknown or in a forbidden combination.
    Also a ``ValueError``, the error it replaces, so callers that caught that still do."""

    code = "invalid_parameter"


class InputPathError(DocbinError):
    """An input path that does not exist or holds no image."""

    code = "invalid_input"


class OutputPathError(DocbinError):
    """An output path docbin cannot or must not write: a file where a folder is needed, an input, an existing
    output without permission to replace it, two inputs writing one output, a folder that takes no file."""

    code = "invalid_output"


class ShapeMismatchError(DocbinError):
    code = "shape_mismatch"


class DatasetError(DocbinError):
    """A dataset folder or file that does not have the expected layout or content."""

    code = "dataset_error"


class ModelNotFoundError(DocbinError):
    """A model folder or checkpoint that is not there."""

    code = "model_not_found"


class ExportError(DocbinError):
    """An exported ONNX model that does not reproduce its torch generator within tolerance."""

    code = "export_failed"


class TrainingError(DocbinError):
    """A training run that failed (its log says why)."""

    code = "training_failed"


class ClusterError(DocbinError):
    """The cluster a batch runs on cannot be reached or went away mid-run."""

    code = "cluster_error"

"""One registry of binarization methods: name -> callable + typed, range-checked parameters.

The CLI, the HTTP service and the benchmarks all list and run methods through this module, so a method
registered once appears everywhere. A method's callable takes a numpy image (``uint8`` gray ``(H, W)``
for ``input="gray"`` methods, ``uint8`` RGB ``(H, W, 3)`` for ``input="rgb"``) plus its keyword
parameters and returns a binary ``uint8`` image, ink = 0, background = 255.

Methods are added with :func:`register` (or for a ``with`` block, :func:`registered`) and removed with
:func:`unregister`. A method whose ``check`` reports a problem (a missing or corrupt model) stays listed with
the reason (``describe()["unavailable"]``); choosing or calling it raises :class:`MethodUnavailableError`.

Just over ~500 lines only through its docstrings and examples (under 200 lines of code): one job, kept whole.
"""

from __future__ import annotations

import importlib
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from docbin.errors import MethodUnavailableError, ParameterError, UnknownMethodError

ParamType = type[int] | type[float] | type[str] | type[bool]

# Modules whose import registers methods; imported lazily on first use of the registry.
_PROVIDERS: tuple[str, ...] = ("docbin.threshold", "docbin.threestage.method")


_TRUE_WORDS, _FALSE_WORDS = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def parse_bool(text: str) -> bool:
    """Parse a bool the way the CLI and the service take one.

    Parameters
    ----------
    text : str
        1/true/yes/on or 0/false/no/off, in any case, surrounding spaces ignored.

    Returns
    -------
    bool

    Raises
    ------
    ParameterError
        For any other text.

    Examples
    --------
    >>> parse_bool(" Yes "), parse_bool("0")
    (True, False)
    """
    word = text.strip().lower()
    if word not in _TRUE_WORDS | _FALSE_WORDS:
        raise ParameterError(f"{text!r} is not a bool: use 1/0, true/false, yes/no or on/off")
    return word in _TRUE_WORDS


@dataclass(frozen=True)
class Param:
    """One typed method parameter with its default and admissible values.

    Parameters
    ----------
    name : str
        The keyword the method's function takes.
    type : {int, float, str, bool}
        Its type; CLI and form strings are parsed as it (:meth:`coerce`).
    default
        The value when none is given (a sentinel such as 0 or -1 may stand for a model's own value; the
        method's ``about`` says which).
    help : str
        One line for ``docbin methods``, ``--help`` and the upload page.
    min, max : float, optional
        Inclusive range.
    choices : tuple, optional
        The admissible values.
    label : str, optional
        Short name for forms (default: ``name``).
    advanced : bool, optional
        Folded away on the upload page (rarely changed, or machine tuning).

    Examples
    --------
    >>> window = Param("window", int, 75, "side of the local window", min=3, max=1001)
    >>> window.coerce("25"), window.coerce(25.0)
    (25, 25)
    >>> window.coerce("1")
    Traceback (most recent call last):
    ...
    docbin.errors.ParameterError: parameter 'window' must be >= 3, got 1
    """

    name: str
    type: ParamType
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    label: str = ""  # short name for forms (the upload page); the parameter name when empty
    advanced: bool = False  # folded away on the upload page: rarely changed, or machine tuning

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` to this parameter's type and check its range.

        One rule for the CLI (``-p name=value``, always a string) and the service (JSON values): a string is
        parsed as the type (a bool from :func:`parse_bool`'s words); any other value must already have the
        type, except that a number is a float and a whole number an int. So JSON ``true`` is no int, ``1``
        no bool (``true`` or ``"yes"`` are) and a str parameter takes only strings.

        Parameters
        ----------
        value
            A string from a CLI flag or form field, or a JSON value.

        Returns
        -------
        int, float, str or bool
            ``value`` as this parameter's type.

        Raises
        ------
        ParameterError
            For a value of another type, not finite, out of range or not among ``choices``.
        """
        try:
            if isinstance(value, str):
                typed: Any = parse_bool(value) if self.type is bool else self.type(value.strip())
            elif isinstance(value, bool) != (self.type is bool):
                raise TypeError(value)
            elif self.type is int and isinstance(value, numbers.Real) and float(value).is_integer():
                typed = int(value)
            elif self.type is float and isinstance(value, numbers.Real):
                typed = float(value)
            elif self.type in (bool, str) and isinstance(value, self.type):
                typed = value
            else:
                raise TypeError(value)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(
                f"parameter {self.name!r} must be of type {self.type.__name__}, got {value!r}"
            ) from None
        if isinstance(typed, float) and not np.isfinite(typed):
            raise ParameterError(f"parameter {self.name!r} must be finite, got {value!r}")
        if self.min is not None and typed < self.min:
            raise ParameterError(f"parameter {self.name!r} must be >= {self.min}, got {typed}")
        if self.max is not None and typed > self.max:
            raise ParameterError(f"parameter {self.name!r} must be <= {self.max}, got {typed}")
        if self.choices is not None and typed not in self.choices:
            raise ParameterError(
                f"parameter {self.name!r} must be one of {list(self.choices)}, got {typed!r}"
            )
        return typed

    def describe(self, shown_default: Any = None) -> dict[str, Any]:
        """JSON-friendly description (for ``GET /v1/methods`` and ``--help`` texts); ``default_shown`` is
        ``shown_default`` (the value a sentinel default such as 0 or -1 stands for) or the default itself."""
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type.__name__,
            "default": self.default,
            "default_shown": self.default if shown_default is None else shown_default,
            "min": self.min,
            "max": self.max,
            "choices": list(self.choices) if self.choices is not None else None,
            "help": self.help,
            "advanced": self.advanced,
        }


@dataclass(frozen=True)
class Method:
    """A registered binarization method.

    Parameters
    ----------
    name : str
        What users choose it by (``--method``, the service's ``method`` field).
    func : callable
        ``func(image, **params)``: a ``uint8`` gray ``(H, W)`` (``input="gray"``) or RGB ``(H, W, 3)``
        (``input="rgb"``) image to a binary ``uint8`` image (ink 0, background 255).
    description, reference : str
        One line each: what it computes, and where it comes from.
    params : tuple of Param, optional
        Its parameters.
    input : {"gray", "rgb"}, optional
        What :meth:`__call__` converts the image to.
    family : str, optional
        "classical" or "learned".
    extra : mapping, optional
        Free-form facts for listings.
    about, check, check_params : callable, optional
        See the comments on the fields below.

    Examples
    --------
    >>> import numpy as np
    >>> half = Method("half", lambda gray, level=128: np.where(gray < level, 0, 255).astype(np.uint8),
    ...               "ink below a level", "none", params=(Param("level", int, 128, "level", min=1, max=255),))
    >>> half(np.array([[10, 200]], np.uint8), level="100").tolist()
    [[0, 255]]
    """

    name: str
    func: Callable[..., np.ndarray]
    description: str
    reference: str
    params: tuple[Param, ...] = ()
    input: Literal["gray", "rgb"] = "gray"
    family: str = "classical"
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Facts read at describe time: {"model": what serves the method (name, precision, version),
    # "defaults": {param: the value its sentinel default stands for}}; None for plain functions.
    about: Callable[[], Mapping[str, Any]] | None = None
    # Why the method cannot run here now (e.g. its model files are missing or corrupt), None when it can;
    # asked on every listing and call, so a model that appears or breaks later is seen.
    check: Callable[[], str | None] | None = None
    # Rules over the typed values that ranges cannot state (several parameters together, or what the
    # serving model can use): raises ParameterError, so a run is refused before its first page.
    check_params: Callable[[Mapping[str, Any]], None] | None = None

    def unavailable(self) -> str | None:
        """Why this method cannot run here now, or None when it can."""
        return self.check() if self.check is not None else None

    def require_available(self) -> Method:
        """This method; :class:`MethodUnavailableError` with the reason when it cannot run here."""
        reason = self.unavailable()
        if reason is not None:
            raise MethodUnavailableError(f"method {self.name!r} is unavailable: {reason}")
        return self

    def validate(self, raw: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Fill defaults and coerce/range-check ``raw`` (:meth:`Param.coerce`), then the method's
        ``check_params``.

        Parameters
        ----------
        raw : mapping, optional
            Parameter name to value (strings or JSON values).

        Returns
        -------
        dict
            Every parameter of the method, typed.

        Raises
        ------
        ParameterError
            For an unknown name or a bad value.
        """
        raw = dict(raw or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ParameterError(
                f"method {self.name!r} has no parameter(s) {unknown}; it takes {sorted(known) or 'none'}"
            )
        typed = {name: p.coerce(raw[name]) if name in raw else p.default for name, p in known.items()}
        if self.check_params is not None:
            self.check_params(typed)
        return typed

    def __call__(self, image: np.ndarray, **params: Any) -> np.ndarray:
        """Validate ``params``, convert ``image`` to this method's input and binarize it.

        Parameters
        ----------
        image : ndarray of uint8
            ``(H, W)`` gray or ``(H, W, 3)`` RGB.
        **params
            The method's parameters (strings or typed values).

        Returns
        -------
        ndarray of uint8, shape (H, W)
            Binary image: ink 0, background 255.

        Raises
        ------
        MethodUnavailableError
            When the method cannot run here (:meth:`unavailable`).
        ParameterError
            For a bad parameter (:meth:`validate`).
        """
        from docbin.preprocess import to_gray, to_rgb

        typed = self.require_available().validate(params)
        prepared = to_gray(image) if self.input == "gray" else to_rgb(image)
        return self.func(prepared, **typed)

    def describe(self) -> dict[str, Any]:
        """JSON-friendly description: parameters with their shown defaults, the serving model (or None), and
        whether the method can run here (``unavailable``: the reason when it cannot)."""
        reason = self.unavailable()
        about = self.about() if self.about is not None and reason is None else {}
        shown = about.get("defaults", {})
        return {
            "name": self.name,
            "family": self.family,
            "input": self.input,
            "description": self.description,
            "reference": self.reference,
            "params": [p.describe(shown.get(p.name)) for p in self.params],
            "model": about.get("model"),
            "available": reason is None,
            "unavailable": reason,
        }


_METHODS: dict[str, Method] = {}
_LOCK = threading.RLock()  # providers register while _load_providers holds it
_loaded = False


def register(method: Method) -> Method:
    """Add ``method`` to the registry (a later registration of the same name replaces it).

    Parameters
    ----------
    method : Method

    Returns
    -------
    Method
        ``method``, so that a provider can keep it.
    """
    with _LOCK:
        _METHODS[method.name] = method
    return method


def unregister(name: str) -> Method:
    """Remove the method called ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    Method
        The method removed.

    Raises
    ------
    UnknownMethodError
        When no method has that name.
    """
    _load_providers()
    with _LOCK:
        if name not in _METHODS:
            raise UnknownMethodError(f"unknown method {name!r}; nothing to unregister")
        return _METHODS.pop(name)


@contextmanager
def registered(*methods: Method) -> Iterator[tuple[Method, ...]]:
    """Register ``methods`` for the duration of a ``with`` block, then restore what those names meant before
    (the method they replaced, or nothing).

    Examples
    --------
    >>> toy = Method("toy", lambda gray: gray, "identity", "none")
    >>> with registered(toy):
    ...     get("toy") is toy
    True
    >>> "toy" in [m.name for m in available()]
    False
    """
    _load_providers()
    with _LOCK:
        before = {m.name: _METHODS.get(m.name) for m in methods}
        for method in methods:
            register(method)
    try:
        yield methods
    finally:
        with _LOCK:
            for name, previous in before.items():
                if previous is None:
                    _METHODS.pop(name, None)
                else:
                    _METHODS[name] = previous


def _load_providers() -> None:
    global _loaded
    with _LOCK:
        if not _loaded:
            for module in _PROVIDERS:
                importlib.import_module(module)
            _loaded = True


def available() -> list[Method]:
    """Every registered method, sorted by name, including those that cannot run here now (their
    :meth:`Method.unavailable` says why).

    Returns
    -------
    list of Method

    Examples
    --------
    >>> [m.name for m in available() if m.family == "classical"][:3]
    ['bernsen', 'niblack', 'nick']
    """
    _load_providers()
    with _LOCK:
        return [_METHODS[name] for name in sorted(_METHODS)]


def get(name: str) -> Method:
    """The method called ``name``, ready to run.

    Parameters
    ----------
    name : str

    Returns
    -------
    Method

    Raises
    ------
    UnknownMethodError
        When there is none; the message lists the valid names.
    MethodUnavailableError
        When it cannot run here; the message gives the reason.

    Examples
    --------
    >>> get("sauvola").params[0].name
    'window'
    """
    _load_providers()
    with _LOCK:
        method = _METHODS.get(name)
        names = sorted(_METHODS)
    if method is None:
        raise UnknownMethodError(f"unknown method {name!r}; available: {', '.join(names)}")
    return method.require_available()


def parse_params(pairs: Iterable[str]) -> dict[str, str]:
    """Parse CLI ``key=value`` strings into a dict (values stay strings; :meth:`Method.validate` types them).

    Parameters
    ----------
    pairs : iterable of str
        ``name=value`` strings (spaces around either part ignored).

    Returns
    -------
    dict of str to str

    Raises
    ------
    ParameterError
        For a string without ``=`` or without a name.

    Examples
    --------
    >>> parse_params(["window=25", "k = 0.3"])
    {'window': '25', 'k': '0.3'}
    """
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"parameter {pair!r} is not of the form name=value")
        params[key.strip()] = value.strip()
    return params


def binarize(image: np.ndarray, method: str = "sauvola", **params: Any) -> np.ndarray:
    """Binarize ``image`` with the registered ``method``: ``get(method)(image, **params)``.

    Parameters
    ----------
    image : ndarray of uint8
        ``(H, W)`` gray or ``(H, W, 3)`` RGB.
    method : str, optional
        A registered method name (``docbin methods`` lists them).
    **params
        The method's parameters.

    Returns
    -------
    ndarray of uint8, shape (H, W)
        Binary image: ink 0, background 255.

    Raises
    ------
    UnknownMethodError, MethodUnavailableError, ParameterError
        As :func:`get` and :meth:`Method.__call__`.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 60), 200, np.uint8)
    >>> page[16:24, 10:50] = 40
    >>> binary = binarize(page, "sauvola", window=15)
    >>> int((binary == 0).sum())
    320
    """
    return get(method)(image, **params)

"""Tests of the method registry: typed parameters, validation, dispatch and the listing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from docbin import registry
from docbin.errors import MethodUnavailableError, ParameterError, UnknownMethodError


def _threshold_at(gray: np.ndarray, level: int, invert: bool) -> np.ndarray:
    out = np.where(gray > level, 255, 0).astype(np.uint8)
    return 255 - out if invert else out


TOY = registry.Method(
    name="toy-threshold",
    func=_threshold_at,
    description="fixed threshold (test)",
    reference="none",
    params=(
        registry.Param("level", int, 128, "threshold", min=0, max=255),
        registry.Param("invert", bool, False, "swap ink and background"),
    ),
)


def test_validate_fills_defaults_and_coerces_strings() -> None:
    assert TOY.validate({}) == {"level": 128, "invert": False}
    assert TOY.validate({"level": "40", "invert": "yes"}) == {"level": 40, "invert": True}
    assert TOY.validate({"level": 7.0}) == {"level": 7, "invert": False}


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"level": "abc"}, "type int"),
        ({"level": 3.5}, "type int"),
        ({"level": -1}, ">= 0"),
        ({"level": 256}, "<= 255"),
        ({"invert": "maybe"}, "type bool"),
        ({"window": 3}, "no parameter"),
    ],
)
def test_validate_rejects_bad_values(raw: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        TOY.validate(raw)


def test_float_param_rejects_nan_and_choices_are_enforced() -> None:
    k = registry.Param("k", float, 0.2, "k", min=0.0)
    with pytest.raises(ParameterError, match="finite"):
        k.coerce("nan")
    mode = registry.Param("mode", str, "a", "mode", choices=("a", "b"))
    assert mode.coerce("b") == "b"
    with pytest.raises(ParameterError, match="one of"):
        mode.coerce("c")


def test_method_call_converts_colour_and_16_bit_input() -> None:
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[:, 2:] = 255
    out = TOY(rgb, level="100")
    assert out.dtype == np.uint8 and out.shape == (4, 5)
    assert out[:, :2].max() == 0 and out[:, 2:].min() == 255
    assert np.array_equal(TOY(rgb.astype(np.uint16) * 257), out)


def test_register_get_and_describe() -> None:
    with registry.registered(TOY):
        assert registry.get("toy-threshold") is TOY
        described = TOY.describe()
        assert described["params"][0] == {
            "name": "level", "label": "level", "type": "int", "default": 128, "default_shown": 128, "min": 0,
            "max": 255, "choices": None, "help": "threshold", "advanced": False,
        }
        assert described["model"] is None
        assert (described["available"], described["unavailable"]) == (True, None)
        assert "toy-threshold" in [m.name for m in registry.available()]
    assert "toy-threshold" not in [m.name for m in registry.available()]


def test_register_and_unregister_and_registered_restores_a_replaced_method() -> None:
    registry.register(TOY)
    assert registry.unregister("toy-threshold") is TOY
    with pytest.raises(UnknownMethodError, match="nothing to unregister"):
        registry.unregister("toy-threshold")
    otsu = registry.get("otsu")
    stand_in = replace(TOY, name="otsu")
    with registry.registered(stand_in):
        assert registry.get("otsu") is stand_in
    assert registry.get("otsu") is otsu


def test_an_unavailable_method_is_listed_with_its_reason_and_refuses_to_run() -> None:
    reason = "missing weights.onnx in /nowhere"
    broken = replace(TOY, about=lambda: {"model": {"name": "never read"}}, check=lambda: reason)
    with registry.registered(broken):
        listed = {m.name: m.describe() for m in registry.available()}["toy-threshold"]
        assert (listed["available"], listed["unavailable"], listed["model"]) == (False, reason, None)
        with pytest.raises(MethodUnavailableError, match="'toy-threshold' is unavailable: missing weights.onnx"):
            registry.get("toy-threshold")
        with pytest.raises(MethodUnavailableError, match="missing weights.onnx"):
            broken(np.zeros((4, 4), np.uint8))


def test_describe_shows_what_sentinel_defaults_stand_for() -> None:
    about = {"model": {"name": "toy", "precision": "fp32"}, "defaults": {"level": 100}}
    method = replace(TOY, params=(replace(TOY.params[0], default=-1, label="Level", advanced=True),),
                     about=lambda: about)
    described = method.describe()
    assert described["model"] == about["model"]
    param = described["params"][0]
    assert (param["label"], param["default"], param["default_shown"], param["advanced"]) == ("Level", -1, 100, True)


def test_unknown_method_lists_alternatives() -> None:
    with pytest.raises(UnknownMethodError, match="available: .*otsu"):
        registry.get("no-such-method")


def test_parse_params() -> None:
    assert registry.parse_params(["window=25", " k = 0.2 "]) == {"window": "25", "k": "0.2"}
    with pytest.raises(ParameterError, match="name=value"):
        registry.parse_params(["window"])


def test_the_docstring_examples_run() -> None:
    import doctest

    result = doctest.testmod(registry)
    assert result.attempted > 0 and result.failed == 0

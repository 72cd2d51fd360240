"""The runnable examples in the public docstrings (numpydoc ``Examples`` sections) run and give what they
show, so they cannot rot: every listed module must hold examples, and all of them must pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

DOCUMENTED = [
    "docbin.batch",
    "docbin.caching",
    "docbin.dask_engine",
    "docbin.io",
    "docbin.registry",
    "docbin.report",
    "docbin.metrics.basic",
    "docbin.metrics.drd",
    "docbin.metrics.means",
    "docbin.metrics.mpm",
    "docbin.metrics.pseudo",
    "docbin.metrics.stress",
    "docbin.metrics.weights.cache",
    "docbin.metrics.weights.connectivity",
    "docbin.metrics.weights.passes",
    "docbin.metrics.weights.thinning",
    "docbin.threads",
    "docbin.threshold.bernsen",
    "docbin.threshold.integral",
    "docbin.threshold.niblack",
    "docbin.threshold.otsu",
    "docbin.threshold.sauvola",
    "docbin.threshold.su",
    "docbin.threshold.windowed",
    "docbin.threshold.wolf",
    "docbin.threestage.models",
    "docbin.threestage.pipeline",
]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)  # the module, not a function of the same name its package exports
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"

"""Every name of the public API (``analysis.__all__``) is documented in numpydoc form.

numpydoc's own validator reads each docstring against the signature: every parameter
documented (PR01) and no unknown one (PR02), a Returns section for functions (RT01), an
Examples section (EX01). The examples themselves run as doctests in the suite
(``--doctest-modules`` in pyproject.toml), so they stay true.
"""

from __future__ import annotations

import inspect

import pytest
from numpydoc.validate import validate

import analysis as ds

CHECKS = {"GL08", "PR01", "PR02", "RT01", "EX01"}


def problems(name: str) -> list[str]:
    obj = getattr(ds, name)
    checks = set(CHECKS)
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        # An exception's signature is Exception's (*args): its documented "message"
        # parameter is what the class is raised with.
        checks.discard("PR02")
    found = validate(f"{obj.__module__}.{obj.__qualname__}")
    return [f"{code}: {message}" for code, message in found["errors"] if code in checks]


@pytest.mark.parametrize("name", ds.__all__)
def test_public_name_has_a_numpydoc_docstring_with_an_example(name):
    assert not problems(name), f"analysis.{name}: {problems(name)}"


def test_every_public_name_has_a_runnable_example():
    without = [name for name in ds.__all__
               if ">>>" not in (inspect.getdoc(getattr(ds, name)) or "")]
    assert not without, f"no runnable example: {without}"

"""Fixtures of the survival tests."""

from __future__ import annotations

import pytest

from tests.survival import km_db


@pytest.fixture(params=["computed", "stored"])
def episode_path(request):
    """Run a test on both episode paths: facts computed on the fly, or stored by import.

    Tests using it build their databases with :func:`tests.survival.km_db.make_db`
    inside the test, so every hand-made rule is checked on both paths.
    """
    km_db.STORED_FOLLOW_UP["on"] = request.param == "stored"
    yield request.param
    km_db.STORED_FOLLOW_UP["on"] = False

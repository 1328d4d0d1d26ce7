"""Fixtures for the web pages: signing in through the real form, and a commune with varied data."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from tests.web.seed import seed_web_data


@pytest.fixture
def web_data(active_plan: Any, commune: Any, make_task: Callable[..., Any],
             make_person: Callable[..., Any]) -> SimpleNamespace:
    """See tests/web/seed.py."""
    return seed_web_data(active_plan, commune, make_task, make_person)

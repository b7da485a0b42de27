"""pytest plugin for the mutation benchmark: label coverage with the running test's node id, and record each
test's duration, so that a mutant runs only the tests that execute its line, fastest files first.

Loaded with ``-p _coverage_contexts`` under ``coverage run``; writes ``$MDT_TEST_DURATIONS`` (JSON) at the end.
"""

from __future__ import annotations

import json
import os

import coverage
import pytest

_DURATIONS: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
    yield
    if cov is not None:
        cov.switch_context("")


def pytest_runtest_logreport(report):
    _DURATIONS[report.nodeid] = _DURATIONS.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("MDT_TEST_DURATIONS")
    if path:
        with open(path, "w") as fh:
            json.dump(_DURATIONS, fh)

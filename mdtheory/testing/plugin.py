"""The pytest plugin of the test kit, registered through the ``pytest11`` entry point (§9).

With mdtheory installed, a sampler author's test is five lines::

    import pytest

    @pytest.mark.mdtheory_rule("maskgit", alpha=1.0)
    def test_my_round(round_law):
        round_law(my_package.my_round)

The marker states the rule (:func:`mdtheory.testing.round_rule`'s arguments); the fixture ``round_law`` runs
:func:`mdtheory.testing.assert_round_law` with it. Command-line options scale every audit of a run:
``--mdtheory-n-samples``, ``--mdtheory-false-alarm`` and ``--mdtheory-seed``. Loading the plugin imports
nothing heavy.
"""

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("mdtheory", "exact-law audits of round functions (mdtheory.testing)")
    group.addoption("--mdtheory-n-samples", type=int, default=None,
                    help="rounds per case in every round_law audit (default: 100,000 or what the case needs; the "
                         "large-vocabulary case refuses fewer than 27,538)")
    group.addoption("--mdtheory-false-alarm", type=float, default=1e-6,
                    help="false-alarm rate of each case's χ² test (default 1e-6)")
    group.addoption("--mdtheory-seed", type=int, default=0, help="seed of the audits (default 0)")


def pytest_configure(config):
    config.addinivalue_line("markers", "mdtheory_rule(name, **params): the rule a test's round function states, "
                            "used by the round_law fixture (see mdtheory.testing.round_rule)")


@pytest.fixture
def round_law(request):
    """``round_law(step, rule=None, **kwargs)``: :func:`mdtheory.testing.assert_round_law` with the rule of the
    test's ``mdtheory_rule`` marker (or ``rule``) and the run's ``--mdtheory-*`` settings."""
    from mdtheory.testing import assert_round_law, round_rule

    marker = request.node.get_closest_marker("mdtheory_rule")
    config = request.config

    def audit(step, rule=None, **kwargs):
        if rule is None:
            if marker is None:
                raise ValueError("round_law needs a rule: mark the test with @pytest.mark.mdtheory_rule(name, **params) "
                                 "or pass rule=")
            rule = round_rule(*marker.args, **marker.kwargs)
        kwargs.setdefault("n_samples", config.getoption("--mdtheory-n-samples"))
        kwargs.setdefault("false_alarm", config.getoption("--mdtheory-false-alarm"))
        kwargs.setdefault("seed", config.getoption("--mdtheory-seed"))
        return assert_round_law(step, rule, **kwargs)

    return audit


@pytest.fixture
def sampler_law(request):
    """``sampler_law(generate, target, sampler, schedule=None, **kwargs)``: :func:`mdtheory.testing.assert_sampler_law`
    with the run's ``--mdtheory-false-alarm`` and ``--mdtheory-seed`` (a whole generation loop on a known target)."""
    from mdtheory.testing import assert_sampler_law

    config = request.config

    def audit(generate, target, sampler, schedule=None, **kwargs):
        kwargs.setdefault("false_alarm", config.getoption("--mdtheory-false-alarm"))
        kwargs.setdefault("seed", config.getoption("--mdtheory-seed"))
        return assert_sampler_law(generate, target, sampler, schedule, **kwargs)

    return audit

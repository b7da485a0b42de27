"""The pytest plugin, as a sampler author uses it: a five-line test in a project of their own."""

AUTHOR_CODE = '''
import pytest
import torch


def _gumbel(shape, g):
    return -torch.log(-torch.log(torch.rand(shape, generator=g, dtype=torch.float64).clamp_min(1e-300)))


def my_round(log_probs, *, k, alpha, generator=None, scale=None):
    x = (log_probs + _gumbel(log_probs.shape, generator)).argmax(-1)
    conf = log_probs.gather(-1, x[..., None])[..., 0] + (alpha if scale is None else scale) * _gumbel(x.shape, generator)
    pos = conf.topk(k, dim=1).indices
    return pos, x.gather(1, pos)


@pytest.mark.mdtheory_rule("maskgit", alpha=0.5)
def test_my_round(round_law):
    round_law(my_round)


@pytest.mark.mdtheory_rule("maskgit", alpha=0.5)
def test_my_buggy_round(round_law):
    round_law(lambda lp, *, k, alpha, generator=None: my_round(lp, k=k, alpha=alpha, generator=generator,
                                                                 scale=1 / alpha))
'''


def test_five_line_tests_pass_and_fail_with_the_plugin(pytester):
    pytester.makepyfile(test_author=AUTHOR_CODE)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--mdtheory-n-samples", "30000")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*RoundAuditError*does not draw maskgit(alpha=0.5, ties=uniform)*",
                                 "*worst cells: positions*"])


def test_the_plugin_declares_its_marker_and_options(pytester):
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["*mdtheory_rule(name, **params)*"])
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--mdtheory-n-samples*", "*--mdtheory-false-alarm*"])

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

pytest_plugins = ["pytester"]  # runs sampler authors' test files against the installed plugin

# Deterministic hypothesis profile (STYLE.md): derandomised, bounded, no deadline on slow numerics.
settings.register_profile("mdtheory", derandomize=True, max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mdtheory")


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:  # pragma: no cover
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
    if os.environ.get("MDTHEORY_XSLOW") != "1":
        skip_x = pytest.mark.skip(reason="set MDTHEORY_XSLOW=1 to run")
        for item in items:
            if "xslow" in item.keywords:
                item.add_marker(skip_x)

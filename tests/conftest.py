"""Hypothesis profiles, float64 by default in tests, and the device fixture.

Profiles: `ci` (default: few examples, no deadline, derandomized so that every CI run checks the
same examples and a red CI always means a change broke something), `dev` (more, random),
`thorough` (many, random; also runs the tests marked slow). Choose with
`pytest --hypothesis-profile=dev`: exploring for new bugs is the random profiles' job.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import graphgrad as gg

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    profile = config.getoption("--hypothesis-profile", default=None)
    if not (config.getoption("--run-slow") or profile == "thorough"):
        skip = pytest.mark.skip(reason="slow: run with --run-slow or --hypothesis-profile=thorough")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)
    try:
        import cupy
        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001  any CuPy import or CUDA runtime failure means no GPU
        has_gpu = False
    if not has_gpu:
        skip_gpu = pytest.mark.skip(reason="needs CuPy and a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _float64_by_default():
    """Gradient checks need float64; tests that want float32 say so."""
    with gg.default_dtype("float64"):
        yield


DEVICES = ["cpu", "strict"]


@pytest.fixture(params=DEVICES)
def device(request):
    """Every engine test that takes `device` runs on NumPy and on the strict array-API stand-in."""
    return gg.get_device(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(0)

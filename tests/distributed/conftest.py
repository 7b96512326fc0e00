"""One local Ray (2 CPUs, as CI has) for the tests of this folder; skipped, with the reason, where
Ray is not installed (CI installs it: `pip install -e '.[dev,distributed]'`)."""

import pytest


@pytest.fixture(scope="session")
def ray_local():
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed: pip install 'graphgrad[distributed]'"
    )
    from graphgrad import distributed

    started = distributed.init(num_cpus=2)
    yield ray
    if started:
        distributed.shutdown()

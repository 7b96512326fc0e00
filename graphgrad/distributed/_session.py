"""Connecting to Ray: join a running cluster, or start a small local one and stop it afterwards.

Ray is imported here only, and only when a distributed call runs, so `import graphgrad` never pays
for it (nor needs it installed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from graphgrad.errors import GraphgradError

__all__ = ["WorkerError", "init", "ray_session", "require_ray", "shutdown"]

#: Object store of a Ray that graphgrad starts itself: small, as CI machines are (Ray's default
#: takes 30% of RAM). Replicas exchange gradients through it, a model's worth per worker and step.
LOCAL_OBJECT_STORE_BYTES = 200 * 1024**2

_started_here = False  # did graphgrad start the Ray this process is connected to?


class WorkerError(GraphgradError, RuntimeError):
    """A Ray worker died, or gave no answer in time, while training (names the worker and step)."""


def require_ray():
    """The `ray` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:  # pragma: no cover - CI installs the extra
        raise ImportError(
            "graphgrad.distributed needs Ray: pip install 'graphgrad[distributed]' (or "
            "pip install 'ray>=2.40')") from error
    return ray


def init(address: str | None = None, num_cpus: int | None = None, **ray_options: Any) -> bool:
    """Connect to Ray if this process is not connected yet; True when this call started it.

    ``address="auto"`` (or ``"ray://host:10001"``, or a ``host:port``) joins an existing cluster,
    started with ``ray start --head`` on the machines. Without an address a local Ray starts with
    ``num_cpus`` CPUs, a small object store, no dashboard and worker output kept out of the
    driver's (graphgrad reports worker failures as exceptions). Extra keywords go to `ray.init`.
    """
    global _started_here
    ray = require_ray()
    if ray.is_initialized():
        return False
    if address is not None:
        ray.init(address=address, **ray_options)
    else:
        options = {"num_cpus": num_cpus, "object_store_memory": LOCAL_OBJECT_STORE_BYTES,
                   "include_dashboard": False, "log_to_driver": False, **ray_options}
        ray.init(**options)
    _started_here = True
    return True


def shutdown() -> None:
    """Disconnect from Ray (stopping it if it was started locally), as `ray.shutdown`."""
    global _started_here
    ray = require_ray()
    ray.shutdown()
    _started_here = False


@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int) -> Iterator[Any]:
    """Ray for the length of one call: an existing connection is used and left open; one this
    call opens is closed at the end, whatever happens."""
    started = init(address=address, num_cpus=num_cpus)
    try:
        yield require_ray()
    finally:
        if started:
            shutdown()

"""Public testing tools: gradient checks, and hypothesis strategies
(`graphgrad.testing.strategies`).

The strategies module needs hypothesis (the 'dev' extra); it is imported on first use.
"""

import importlib

from .numerical import (
    GradcheckError,
    Mismatch,
    find_mismatches,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)

__all__ = ["GradcheckError", "Mismatch", "find_mismatches", "gradcheck", "gradgradcheck",
           "numerical_grad", "strategies"]


def __getattr__(name):
    if name in ("strategies", "nodecheck"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(name)

"""All primitive gates and the compositions of them, in one import point.

Importing this package registers every primitive (one file per family); tests check that
the registry and the test specs name the same primitives.
"""

from .elementwise import (abs, add, clamp, clip, cos, div, equal, exp, greater, greater_equal, less,
                          less_equal, log, maximum, minimum, mul, neg, not_equal, pow, power,
                          reciprocal, sin, sqrt, sub, where)
from .linalg import matmul
from .reduction import (all, any, argmax, argmin, logsumexp, max, mean, min, norm, std, sum,
                        var)
from .structural import (astype, broadcast_to, concatenate, expand_dims, flatten, getitem, pad,
                         reshape, squeeze, stack, sum_to, swapaxes, to_device, transpose)
from .window import fold, unfold

__all__ = [
    "abs", "add", "all", "any", "argmax", "argmin", "astype", "broadcast_to", "clamp", "clip",
    "concatenate", "cos", "div", "equal", "exp", "expand_dims", "flatten", "fold", "getitem",
    "greater", "greater_equal", "less", "less_equal", "log", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "neg", "norm", "not_equal", "pad", "pow",
    "power", "reciprocal", "reshape", "sin", "sqrt", "squeeze", "stack", "std", "sub", "sum",
    "sum_to", "swapaxes", "to_device", "transpose", "unfold", "var", "where",
]

"""All primitive gates and the compositions of them, in one import point.

Importing this package registers every primitive (one file per family) and declares every public
op (graphgrad.declare): the tests check that the registry and the test specs name the same
primitives.
"""
# ruff: noqa: I001 (the binding below must follow the imports of the families)

from .elementwise import (abs, add, ceil, clamp, clip, cos, div, equal, erf, exp, floor, greater,
                          greater_equal, isfinite, isinf, isnan, less, less_equal, log, maximum,
                          minimum, mul, neg, not_equal, pow, power, reciprocal, round, sign, sin,
                          sqrt, sub, where)
from .linalg import matmul, mm
from .reduction import (MaxResult, all, amax, amin, any, argmax, argmin, logsumexp, max, mean,
                        min, norm, std, sum, var)
from .structural import (astype, broadcast_to, cat, chunk, clone, concatenate, expand,
                         expand_dims, flatten, getitem, pad, permute, repeat, reshape, split,
                         squeeze, stack, sum_to, swapaxes, t, to_device, transpose, unsqueeze,
                         view)
from .scan import cumsum, prod
from .selection import SortResult, TopKResult, gather, masked_fill, one_hot, sort, topk
from .window import fold, unfold

# the Tensor operators call these directly (no declaration wrapper): bound now that they exist
from .. import _tensor
from . import elementwise as _e, linalg as _l, structural as _s

(_tensor._add, _tensor._mul, _tensor._neg, _tensor._pow, _tensor._reciprocal, _tensor._less,
 _tensor._less_equal, _tensor._greater, _tensor._greater_equal, _tensor._equal,
 _tensor._not_equal, _tensor._sub, _tensor._div, _tensor._abs, _tensor._matmul,
 _tensor._index) = (_e._add, _e._mul, _e._neg, _e._pow, _e._reciprocal, _e._less,
                    _e._less_equal, _e._greater, _e._greater_equal, _e._equal, _e._not_equal,
                    _e._sub, _e._div, _e._abs, _l._matmul_of, _s._index)
del _tensor, _e, _l, _s

__all__ = [
    "MaxResult", "SortResult", "TopKResult", "abs", "add", "all", "amax", "amin", "any", "argmax",
    "argmin", "astype",
    "broadcast_to", "cat", "ceil", "cumsum", "gather", "masked_fill", "one_hot", "prod", "sort",
    "topk",
    "chunk", "clamp", "clip", "clone", "concatenate", "cos", "div", "equal", "erf", "exp",
    "expand", "expand_dims", "flatten", "floor", "fold", "getitem", "greater", "greater_equal",
    "isfinite", "isinf", "isnan", "less", "less_equal", "log", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mm", "mul", "neg", "norm", "not_equal", "pad",
    "permute", "pow", "power", "reciprocal", "repeat", "reshape", "round", "sign", "sin",
    "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "sum_to", "swapaxes", "t",
    "to_device", "transpose", "unfold", "unsqueeze", "var", "view", "where",
]

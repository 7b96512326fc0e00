"""Element-wise gates: add, mul, max, exp, reciprocal (the lecture's five), and their companions.

Binary gates broadcast like NumPy; the engine sums each cotangent back to its input's shape.
Each gate is private (`_exp`); the public op is a declared, typed function (graphgrad.declare)
that calls it and is also the Tensor method where PyTorch has one. Gradient rules call the
private gates, so building a gradient pays no argument checks.
"""

from __future__ import annotations

from collections.abc import Callable

import math

import numpy as np

from .. import backend
from .._primitive import Primitive, constant_like, primitive
from .._tensor import Tensor
from ..declare import TensorLike, declare

# ----- the lecture's gates ----------------------------------------------------------------------
_add: Primitive = primitive("add", symbol="+",
                 forward=lambda xp, x, y: x + y,
                 vjp=lambda g, out, x, y: (g, g),
                 doc="add distributes: each input receives the upstream gradient unchanged")

_mul: Primitive = primitive("mul", symbol="*",
                 forward=lambda xp, x, y: x * y,
                 # a constant factor (2.0 in `2.0 * w`) needs no gradient: skip building it
                 vjp=lambda g, out, x, y: (g * y if x.requires_grad else None,
                                           g * x if y.requires_grad else None),
                 doc="mul switches: each input receives the upstream gradient times the other "
                     "input")

_exp: Primitive = primitive("exp", symbol="exp",
                 forward=lambda xp, x: xp.exp(x),
                 vjp=lambda g, out, x: (g * out,),
                 floating_only=True)

_reciprocal: Primitive = primitive("reciprocal", symbol="1/x",
                        forward=lambda xp, x: 1.0 / x,
                        vjp=lambda g, out, x: (-(g * out * out),),
                        floating_only=True)


def _routed_by_max(xp, g, x, y):
    """g * 1 where x > y, g * 1/2 where x == y, g * 0 elsewhere (NaN x or y too: a NaN or inf g
    stays NaN, as a product does), in one or two passes on NumPy (the nested `where` times g it
    replaces took five: LeNet's three relu backwards cost 0.6 ms a step)."""
    if type(g) is np.ndarray and type(x) is np.ndarray:
        dtype = np.result_type(g, x, y)
        out = np.multiply(g, x > y, dtype=dtype)
        tie = x == y
        if tie.any():  # exact ties: a relu's zeros (zero-padded images, dead units)
            if type(out) is not np.ndarray:  # 0-d: NumPy gave a scalar
                return np.multiply(g, dtype.type(0.5), dtype=dtype)
            np.multiply(g, dtype.type(0.5), out=out, where=tie)
        return out
    return xp.where(x > y, g, xp.where(x == y, g * 0.5, g * 0.0))


def _max_share_vjp(h, out, g, x, y):
    return (_max_share(h, x, y), None, None)  # linear in g; x and y only choose the route


_max_share: Primitive = primitive(
    "max_share", symbol="route max",
    forward=_routed_by_max, vjp=_max_share_vjp, nondiff=(1, 2),
    doc="The max gate's routing rule: the larger input gets all of g; an exact tie splits it "
        "1/2-1/2. The split is symmetric (as in JAX, autograd and tinygrad), so max(x, y) and "
        "max(y, x) have the same gradients, and it is a valid subgradient. Consequence: "
        "relu'(0) = 1/2 (relu is max(x, 0)).")


_maximum: Primitive = primitive("maximum", symbol="max",
                     forward=lambda xp, x, y: xp.maximum(x, y),
                     vjp=lambda g, out, x, y: (_max_share(g, x, y), _max_share(g, y, x)),
                     doc="max routes: the larger input gets the upstream gradient (ties split it)")

# ----- companions -------------------------------------------------------------------------------
_neg: Primitive = primitive("neg", symbol="*-1",
                 forward=lambda xp, x: -x,
                 vjp=lambda g, out, x: (-g,))

_log: Primitive = primitive("log", symbol="log",
                 forward=lambda xp, x: xp.log(x),
                 vjp=lambda g, out, x: (g * _reciprocal(x),),
                 floating_only=True)

_cos: Primitive = primitive("cos", symbol="cos",
                 forward=lambda xp, x: xp.cos(x),
                 vjp=lambda g, out, x: (-(g * _sin(x)),),
                 floating_only=True)

_sin: Primitive = primitive("sin", symbol="sin",
                 forward=lambda xp, x: xp.sin(x),
                 vjp=lambda g, out, x: (g * _cos(x),),
                 floating_only=True)


def _erf_forward(xp, x):
    """scipy's erf on the host (scikit-learn, a dependency, brings scipy), CuPy's own on a GPU;
    another namespace (array_api_strict) goes through the host."""
    if type(x).__module__.startswith("cupy"):  # pragma: no cover - needs a GPU
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    from scipy.special import erf as host_erf

    if isinstance(x, (np.ndarray, np.generic)):
        return host_erf(x)
    return xp.asarray(host_erf(backend.to_numpy(x)), dtype=x.dtype, device=x.device)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# the gradient is built from the gates exp, neg and mul, so it is differentiable again
_erf: Primitive = primitive("erf", symbol="erf",
                 forward=_erf_forward,
                 vjp=lambda g, out, x: (g * (_exp(-(x * x)) * _TWO_OVER_SQRT_PI),),
                 floating_only=True)

_pow: Primitive = primitive("pow", symbol="^",
                 forward=lambda xp, x, y: xp.pow(x, y),
                 vjp=lambda g, out, x, y: (
                     g * y * _pow(x, y - 1.0) if x.requires_grad else None,  # 2.0 ** t: no x grad
                     g * out * _log(x) if y.requires_grad else None))

_where: Primitive = primitive("where", symbol="where",
                   forward=lambda xp, c, x, y: xp.where(c, x, y),
                   vjp=lambda g, out, c, x, y: (None, _where(c, g, 0.0), _where(c, 0.0, g)),
                   nondiff=(0,),
                   doc="where routes the gradient to the branch that was chosen")


def where_defined(keep, fn, x, otherwise) -> Tensor:
    """fn(x) where `keep` holds, `otherwise` elsewhere, with gradient 0 there. fn reads 1 in
    place of x where `keep` fails (the "double where"), so an infinite slope there (a log or
    root at 0) never meets the zero upstream: 0 * inf would be nan."""
    return _where(keep, fn(_where(keep, x, 1.0)), otherwise)


def _comparison(name: str, symbol: str, fn):
    return primitive(name, symbol=symbol, forward=fn, vjp=None, mixed_dtypes=True,
                     doc="comparison: a boolean result with no gradient")


_less = _comparison("less", "<", lambda xp, x, y: x < y)
_less_equal = _comparison("less_equal", "<=", lambda xp, x, y: x <= y)
_greater = _comparison("greater", ">", lambda xp, x, y: x > y)
_greater_equal = _comparison("greater_equal", ">=", lambda xp, x, y: x >= y)
_equal = _comparison("equal", "==", lambda xp, x, y: x == y)
_not_equal = _comparison("not_equal", "!=", lambda xp, x, y: x != y)

# a zero gradient as a gate (no gradient of its own): step functions pass it back, as PyTorch's
# floor and sign do, instead of None (which would leave a leaf's .grad unset)
_zeros_like: Primitive = primitive("zeros_like", symbol="0", forward=lambda xp, g: xp.zeros_like(g),
                        vjp=None, register=False, doc="zeros of g's shape (a step's gradient)")


def _step(name: str, forward):
    return primitive(name, symbol=name, forward=forward,
                     vjp=lambda g, out, x: (_zeros_like(g),),
                     doc=f"{name}: piecewise constant, so its gradient is 0 (as in PyTorch)")


_sign = _step("sign", lambda xp, x: xp.sign(x))
_floor = _step("floor", lambda xp, x: xp.floor(x))
_ceil = _step("ceil", lambda xp, x: xp.ceil(x))
_round = _step("round", lambda xp, x: xp.round(x))


def _test(name: str):
    return primitive(name, symbol=name, forward=lambda xp, x: getattr(xp, name)(x), vjp=None,
                     doc=f"{name}: a boolean result with no gradient")


_isnan, _isinf, _isfinite = _test("isnan"), _test("isinf"), _test("isfinite")


# ----- the public ops ---------------------------------------------------------------------------
@declare(method=True)
def add(x: TensorLike, y: TensorLike) -> Tensor:
    """x + y with NumPy broadcasting (torch.add, np.add); gradient: g to both inputs."""
    return _add(x, y)


@declare(method=True)
def mul(x: TensorLike, y: TensorLike) -> Tensor:
    """x * y with broadcasting (torch.mul, np.multiply); gradient: g * y to x, g * x to y."""
    return _mul(x, y)


@declare(method=True)
def exp(x: Tensor) -> Tensor:
    """e ** x element-wise (torch.exp, np.exp); gradient: g * e ** x, the node's own output."""
    return _exp(x)


@declare(method=True)
def reciprocal(x: Tensor) -> Tensor:
    """1 / x element-wise (torch.reciprocal, np.reciprocal); gradient: -g / x ** 2."""
    return _reciprocal(x)


@declare(method=True)
def maximum(x: TensorLike, y: TensorLike) -> Tensor:
    """The larger of x and y element-wise (torch.maximum, np.maximum); gradient: g to the larger
    input, an exact tie splits it 1/2-1/2 (docs/tie_rules.md)."""
    return _maximum(x, y)


@declare(method=True)
def neg(x: Tensor) -> Tensor:
    """-x (torch.neg, np.negative); gradient: -g."""
    return _neg(x)


@declare(method=True)
def log(x: Tensor) -> Tensor:
    """Natural logarithm element-wise (torch.log, np.log); gradient: g / x."""
    return _log(x)


@declare(method=True)
def sin(x: Tensor) -> Tensor:
    """sin x element-wise (torch.sin, np.sin); gradient: g * cos x."""
    return _sin(x)


@declare(method=True)
def cos(x: Tensor) -> Tensor:
    """cos x element-wise (torch.cos, np.cos); gradient: -g * sin x."""
    return _cos(x)


@declare(method=True)
def erf(x: Tensor) -> Tensor:
    """The error function 2/sqrt(pi) * integral_0^x e^(-t^2) dt element-wise (torch.erf,
    scipy.special.erf; exact GELU is built on it); gradient: g * 2/sqrt(pi) * e^(-x^2)."""
    return _erf(x)


@declare  # no method: PyTorch's x.where(condition, y) puts x first, NumPy's order differs
def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """x where `condition` holds, else y, with broadcasting (torch.where, np.where); gradient:
    g to the branch that was chosen, 0 to the other; none to the condition."""
    return _where(condition, x, y)


def _declare_comparison(op: Primitive, symbol: str, torch_name: str) -> Callable[..., Tensor]:
    def compare(x: TensorLike, y: TensorLike) -> Tensor:
        return op(x, y)

    compare.__name__ = compare.__qualname__ = op.name
    compare.__doc__ = (f"x {symbol} y element-wise with broadcasting (torch.{torch_name}, "
                       f"np.{op.name}): a boolean tensor, no gradient.")
    return declare(compare, method=(op.name, torch_name))  # x.less(y) and torch's x.lt(y)


less: Callable[..., Tensor] = _declare_comparison(_less, "<", "lt")
less_equal: Callable[..., Tensor] = _declare_comparison(_less_equal, "<=", "le")
greater: Callable[..., Tensor] = _declare_comparison(_greater, ">", "gt")
greater_equal: Callable[..., Tensor] = _declare_comparison(_greater_equal, ">=", "ge")
equal: Callable[..., Tensor] = _declare_comparison(_equal, "==", "eq")
not_equal: Callable[..., Tensor] = _declare_comparison(_not_equal, "!=", "ne")


@declare(method=True)
def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x (torch.sign, np.sign); gradient 0, as in PyTorch (a step
    function)."""
    return _sign(x)


@declare(method=True)
def floor(x: Tensor) -> Tensor:
    """The largest integer <= x, in x's dtype (torch.floor, np.floor); gradient 0, as in PyTorch."""
    return _floor(x)


@declare(method=True)
def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x, in x's dtype (torch.ceil, np.ceil); gradient 0, as in PyTorch."""
    return _ceil(x)


@declare(method=True)
def round(x: Tensor) -> Tensor:
    """x rounded to the nearest integer, halves to even (torch.round, np.round); gradient 0, as in
    PyTorch."""
    return _round(x)


@declare(method=True)
def isnan(x: Tensor) -> Tensor:
    """Whether each element is NaN (torch.isnan, np.isnan): a boolean tensor, no gradient."""
    return _isnan(x)


@declare(method=True)
def isinf(x: Tensor) -> Tensor:
    """Whether each element is +-infinity (torch.isinf, np.isinf): a boolean tensor, no gradient."""
    return _isinf(x)


@declare(method=True)
def isfinite(x: Tensor) -> Tensor:
    """Whether each element is finite, neither NaN nor infinite (torch.isfinite, np.isfinite):
    a boolean tensor, no gradient."""
    return _isfinite(x)



# ----- compositions (no new gates: they draw as the gates they are made of) ---------------------
def _negated(value, like) -> Tensor | float:
    """-value: a gate for a Tensor, plain arithmetic for a Python number (`x - 2.0` draws no extra
    node). Any other constant (a NumPy bool, an object array) becomes a constant like `like` first,
    so what NumPy cannot negate meets graphgrad's checks and errors, not NumPy's."""
    if isinstance(value, Tensor):
        return _neg(value)
    if type(value) in (int, float) or not isinstance(like, Tensor):
        return -value  # two constants: the add gate then says a Tensor is needed
    return _neg(constant_like(value, like))


def _sub(x, y) -> Tensor:
    return _add(x, _negated(y, x))


def _div(x, y) -> Tensor:
    if not isinstance(y, Tensor):
        if isinstance(y, (int, float)) and y == 0:  # inf or NaN as for a Tensor 0, no Python error
            return _mul(x, math.copysign(math.inf, y))
        return _mul(x, 1.0 / y)
    return _mul(x, _reciprocal(y))


def _abs(x) -> Tensor:
    return _maximum(x, _neg(x))


@declare(method=True)
def sub(x: TensorLike, y: TensorLike) -> Tensor:
    """x - y (torch.sub, np.subtract) as the gates add and *-1, as the lecture circuits draw it;
    gradient: g to x, -g to y."""
    return _sub(x, y)


@declare(method=True)
def div(x: TensorLike, y: TensorLike) -> Tensor:
    """x / y (torch.div, np.divide) as the gates mul and 1/x; gradient: g / y to x,
    -g * x / y ** 2 to y."""
    return _div(x, y)


@declare(method=True)
def pow(x: TensorLike, y: TensorLike) -> Tensor:  # NumPy's and PyTorch's name
    """x ** y (torch.pow, np.power), the `pow` gate; gradient: g * y * x ** (y - 1) to x,
    g * x ** y * log x to y."""
    return _pow(x, y)


power = pow  # NumPy's other name


@declare(method=True)
def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5 (torch.sqrt, np.sqrt), the pow gate; gradient: g / (2 sqrt x)."""
    return _pow(x, 0.5)


@declare(method=True)
def minimum(x: TensorLike, y: TensorLike) -> Tensor:
    """The smaller of x and y (torch.minimum, np.minimum) as -max(-x, -y), so the max gate's tie
    rule carries over: an exact tie splits the gradient."""
    return _neg(_maximum(_negated(x, y), _negated(y, x)))


@declare(method=("clip", "clamp"))
def clip(x: Tensor, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """x held within [min, max], either may be None (np.clip; torch.clamp), by a max gate and a
    min gate; gradient: g where x is inside, 0 outside, half exactly at a bound (tie rule)."""
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    if min is not None and max is not None and not isinstance(min, Tensor) \
            and not isinstance(max, Tensor) and np.any(np.asarray(min) > np.asarray(max)):
        raise ValueError(f"clip: min {min} is above max {max}")
    if min is not None:
        x = _maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x


clamp = clip  # PyTorch's name


@declare(method=True)
def abs(x: Tensor) -> Tensor:  # NumPy's name
    """|x| (torch.abs, np.abs) as max(x, -x); by the tie rule its gradient at 0 is 0."""
    return _abs(x)

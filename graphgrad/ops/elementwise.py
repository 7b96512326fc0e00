"""Element-wise gates: add, mul, max, exp, reciprocal (the lecture's five), and their companions.

Binary gates broadcast like NumPy; the engine sums each cotangent back to its input's shape.
"""

from __future__ import annotations

from .._primitive import primitive
from .._tensor import Tensor

# ----- the lecture's gates ----------------------------------------------------------------------
add = primitive("add", symbol="+",
                forward=lambda xp, x, y: x + y,
                vjp=lambda g, out, x, y: (g, g),
                doc="add distributes: each input receives the upstream gradient unchanged")

mul = primitive("mul", symbol="*",
                forward=lambda xp, x, y: x * y,
                # a constant factor (2.0 in `2.0 * w`) needs no gradient: skip building it
                vjp=lambda g, out, x, y: (g * y if x.requires_grad else None,
                                          g * x if y.requires_grad else None),
                doc="mul switches: each input receives the upstream gradient times the other input")

exp = primitive("exp", symbol="exp",
                forward=lambda xp, x: xp.exp(x),
                vjp=lambda g, out, x: (g * out,),
                floating_only=True)

reciprocal = primitive("reciprocal", symbol="1/x",
                       forward=lambda xp, x: 1.0 / x,
                       vjp=lambda g, out, x: (-(g * out * out),),
                       floating_only=True)


def _tie_share(x: Tensor, y: Tensor) -> Tensor:
    """The max gate's routing rule: the larger input gets all of g; an exact tie splits it 1/2-1/2.

    The split is symmetric (as in JAX, autograd and tinygrad), so max(x, y) and max(y, x) have the
    same gradients, and it is a valid subgradient. Consequence: relu'(0) = 1/2 (relu is max(x, 0)).
    """
    return where(x > y, 1.0, where(x == y, 0.5, 0.0)).astype(x.dtype)


maximum = primitive("maximum", symbol="max",
                    forward=lambda xp, x, y: xp.maximum(x, y),
                    vjp=lambda g, out, x, y: (g * _tie_share(x, y), g * _tie_share(y, x)),
                    doc="max routes: the larger input gets the upstream gradient (ties split it)")

# ----- companions -------------------------------------------------------------------------------
neg = primitive("neg", symbol="*-1",
                forward=lambda xp, x: -x,
                vjp=lambda g, out, x: (-g,))

log = primitive("log", symbol="log",
                forward=lambda xp, x: xp.log(x),
                vjp=lambda g, out, x: (g * reciprocal(x),),
                floating_only=True)


cos = primitive("cos", symbol="cos",
                forward=lambda xp, x: xp.cos(x),
                vjp=lambda g, out, x: (-(g * sin(x)),),
                floating_only=True)

sin = primitive("sin", symbol="sin",
                forward=lambda xp, x: xp.sin(x),
                vjp=lambda g, out, x: (g * cos(x),),
                floating_only=True)


def _pow_vjp(g, out, x, y):
    grad_x = g * y * power(x, y - 1.0) if x.requires_grad else None  # 2.0 ** t: no x gradient
    grad_y = g * out * log(x) if y.requires_grad else None
    return grad_x, grad_y


power = primitive("pow", symbol="^",
                  forward=lambda xp, x, y: xp.pow(x, y),
                  vjp=_pow_vjp)

where = primitive("where", symbol="where",
                  forward=lambda xp, c, x, y: xp.where(c, x, y),
                  vjp=lambda g, out, c, x, y: (None, where(c, g, 0.0), where(c, 0.0, g)),
                  nondiff=(0,),
                  doc="where routes the gradient to the branch that was chosen")


def where_defined(keep, fn, x, otherwise) -> Tensor:
    """fn(x) where `keep` holds, `otherwise` elsewhere, with gradient 0 there. fn reads 1 in
    place of x where `keep` fails (the "double where"), so an infinite slope there (a log or
    root at 0) never meets the zero upstream: 0 * inf would be nan."""
    return where(keep, fn(where(keep, x, 1.0)), otherwise)


def _comparison(name: str, symbol: str, fn):
    return primitive(name, symbol=symbol, forward=fn, vjp=None, mixed_dtypes=True,
                     doc="comparison: a boolean result with no gradient")


less = _comparison("less", "<", lambda xp, x, y: x < y)
less_equal = _comparison("less_equal", "<=", lambda xp, x, y: x <= y)
greater = _comparison("greater", ">", lambda xp, x, y: x > y)
greater_equal = _comparison("greater_equal", ">=", lambda xp, x, y: x >= y)
equal = _comparison("equal", "==", lambda xp, x, y: x == y)
not_equal = _comparison("not_equal", "!=", lambda xp, x, y: x != y)


# ----- compositions (no new gates: they draw as the gates they are made of) ---------------------
def sub(x, y) -> Tensor:
    """x - y as the gates add and *-1 (as the lecture circuits draw it)."""
    return add(x, neg(y) if isinstance(y, Tensor) else -y)


def div(x, y) -> Tensor:
    """x / y as the gates mul and 1/x."""
    if not isinstance(y, Tensor):
        return mul(x, 1.0 / y)
    return mul(x, reciprocal(y))


def pow(x, y) -> Tensor:  # NumPy's name
    """x ** y, the `pow` gate (registered as "pow"; `power` is the primitive object itself)."""
    return power(x, y)


def sqrt(x) -> Tensor:
    return power(x, 0.5)


def minimum(x, y) -> Tensor:
    """min(x, y) = -max(-x, -y): the max gate's tie rule carries over."""
    return neg(maximum(neg(x), -y if not isinstance(y, Tensor) else neg(y)))


def clip(x, min=None, max=None) -> Tensor:  # NumPy's name; `clamp` is PyTorch's
    """x held within [min, max] (either may be None) by a max gate and a min gate; exactly at a
    bound the tie rule passes half the gradient."""
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    if min is not None and max is not None and not isinstance(min, Tensor) \
            and not isinstance(max, Tensor) and min > max:
        raise ValueError(f"clip: min {min} is above max {max}")
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x


clamp = clip


def abs(x) -> Tensor:  # NumPy's name
    """|x| = max(x, -x); by the tie rule its gradient at 0 is 0."""
    return maximum(x, neg(x))

"""Per-primitive test specs: how to draw inputs (domains are data) and what to check.

Each spec draws float64 inputs from `data` and returns (fn, arrays): `fn` takes Tensors and
applies the primitive (through its public function). `smooth` primitives also get a second-order
check. Every registered primitive must have a spec (tested in test_all_primitives.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.ops import selection, structural
from graphgrad.testing import strategies as gst

from .test_window import WINDOW_DRAWS


@dataclass(frozen=True)
class Spec:
    draw: Callable  # data -> (fn, [arrays])
    smooth: bool = True
    differentiable: bool = True
    eps: float = 1e-6  # float32 round trips need a step far above float32 rounding


def _unary(fn, domain="real", away_from_zero=0.0, smooth=True):
    def draw(data):
        shape = data.draw(gst.shapes(), label="shape")
        x = data.draw(gst.arrays(shape, domain, away_from_zero=away_from_zero), label="x")
        return fn, [x]
    return Spec(draw, smooth)


def _binary(fn, domain_y="real", tie_free=False, smooth=True):
    def draw(data):
        shape_x, shape_y = data.draw(gst.broadcastable_shapes(2), label="shapes")
        if tie_free:
            x, y = data.draw(gst.tie_free_pair(shape_x, shape_y), label="x, y")
        else:
            x = data.draw(gst.arrays(shape_x), label="x")
            y = data.draw(gst.arrays(shape_y, domain_y), label="y")
        return fn, [x, y]
    return Spec(draw, smooth)


def _axis_reduction(fn, well_separated=False):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        x = data.draw(gst.well_separated(shape) if well_separated else gst.arrays(shape), label="x")
        axis = data.draw(st.none() | st.integers(0, len(shape) - 1) |
                         st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                  unique=True).map(tuple),
                         label="axis")
        keepdims = data.draw(st.booleans(), label="keepdims")
        return (lambda t: fn(t, axis=axis, keepdims=keepdims)), [x]
    return Spec(draw)


def _pow_draw(data):
    shape_x, shape_y = data.draw(gst.broadcastable_shapes(2), label="shapes")
    x = data.draw(gst.arrays(shape_x, "positive"), label="x")
    y = data.draw(gst.arrays(shape_y, "unit"), label="y")
    return gg.pow, [x, y]


def _where_draw(data):
    shape_c, shape_x, shape_y = data.draw(gst.broadcastable_shapes(3), label="shapes")
    mask = data.draw(st.builds(lambda a: a > 0, gst.arrays(shape_c)), label="mask")
    x = data.draw(gst.arrays(shape_x), label="x")
    y = data.draw(gst.arrays(shape_y), label="y")
    return (lambda a, b: gg.where(gg.tensor(mask), a, b)), [x, y]


def _max_share_draw(data):
    """The max gate's routing of g (relu's and maximum's gradient): linear in g; x and y from
    {-1, 0, 1}, so ties (g / 2) are common and broadcasting spans all three."""
    from graphgrad.ops.elementwise import _max_share

    shape_g, shape_x, shape_y = data.draw(gst.broadcastable_shapes(3), label="shapes")
    pick = st.sampled_from([-1.0, 0.0, 1.0])
    x = np.array(data.draw(st.lists(pick, min_size=int(np.prod(shape_x)),
                                    max_size=int(np.prod(shape_x))), label="x")).reshape(shape_x)
    y = np.array(data.draw(st.lists(pick, min_size=int(np.prod(shape_y)),
                                    max_size=int(np.prod(shape_y))), label="y")).reshape(shape_y)
    g = data.draw(gst.arrays(shape_g), label="g")
    return (lambda t: _max_share(t, gg.tensor(x), gg.tensor(y))), [g]


def _comparison(fn):
    def draw(data):
        shape_x, shape_y = data.draw(gst.broadcastable_shapes(2), label="shapes")
        return fn, [data.draw(gst.arrays(shape_x)), data.draw(gst.arrays(shape_y))]
    return Spec(draw, differentiable=False)


def _reshape_draw(data):
    shape = data.draw(gst.shapes(), label="shape")
    x = data.draw(gst.arrays(shape), label="x")
    new_shape = data.draw(st.permutations(list(shape)).map(tuple), label="new shape") + (1,)
    return (lambda t: gg.reshape(t, new_shape)), [x]


def _transpose_draw(data):
    shape = data.draw(gst.shapes(), label="shape")
    axes = data.draw(st.permutations(list(range(len(shape)))).map(tuple), label="axes")
    return (lambda t: gg.transpose(t, axes)), [data.draw(gst.arrays(shape))]


def _broadcast_draw(data):
    shape_x, shape_out = data.draw(gst.broadcastable_shapes(2), label="shapes")
    target = np.broadcast_shapes(shape_x, shape_out)
    return (lambda t: gg.broadcast_to(t, target)), [data.draw(gst.arrays(shape_x))]


def _index_for(data, shape):
    parts = []
    for n in shape:
        start = data.draw(st.integers(0, n - 1))
        stop = data.draw(st.integers(start + 1, n))
        step = data.draw(st.integers(1, 2))
        parts.append(data.draw(st.sampled_from([slice(start, stop, step), start])))
    return tuple(parts)


def _getitem_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    fancy = data.draw(st.booleans(), label="fancy")
    if fancy:  # repeated integer indices: the gradient must accumulate
        index = np.asarray(data.draw(st.lists(st.integers(0, shape[0] - 1),
                                              min_size=1, max_size=5)))
    else:
        index = _index_for(data, shape)
    return (lambda t: t[index]), [data.draw(gst.arrays(shape))]


def _index_add_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    index = np.asarray(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    values = data.draw(gst.arrays((len(index),) + shape[1:]))
    return (lambda v: structural._scatter(v, index=index, shape=shape)), [values]


def _pad_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    widths = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    return (lambda t: gg.pad(t, widths, value=0.5)), [data.draw(gst.arrays(shape))]


def _concatenate_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    other = shape[:axis] + (data.draw(st.integers(1, 3)),) + shape[axis + 1:]
    x, y = data.draw(gst.arrays(shape)), data.draw(gst.arrays(other))
    return (lambda a, b: gg.concatenate([a, b, a], axis=axis)), [x, y]


def _matmul_draw(data):
    batch_x, batch_y = data.draw(gst.broadcastable_shapes(2, max_dims=2), label="batch")
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    # a 1-D operand (vector) is promoted to a matrix and the added axis dropped, as in NumPy
    x_shape = (k,) if data.draw(st.booleans(), label="x is a vector") else batch_x + (n, k)
    y_shape = (k,) if data.draw(st.booleans(), label="y is a vector") else batch_y + (k, m)
    return gg.matmul, [data.draw(gst.arrays(x_shape)), data.draw(gst.arrays(y_shape))]


def _astype_draw(data):
    shape = data.draw(gst.shapes(), label="shape")
    # there and back: float64 -> float32 -> float64 keeps the gradient (to float32 precision)
    return (lambda t: t.astype("float32").astype("float64")), [data.draw(gst.arrays(shape))]


def _to_device_draw(data):
    shape = data.draw(gst.shapes(), label="shape")
    return (lambda t: (t.to("strict") * 2.0).to("cpu")), [data.draw(gst.arrays(shape))]


def _argmax_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    return (lambda t: gg.argmax(t, axis=0)), [data.draw(gst.arrays(shape))]


def _argmin_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    return (lambda t: gg.argmin(t, axis=-1)), [data.draw(gst.arrays(shape))]


def _truth_draw(name):
    def draw(data):
        shape = data.draw(gst.shapes(min_dims=1), label="shape")
        axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
        x = data.draw(gst.arrays(shape), label="x")
        x = np.where(np.abs(x) < 1, 0.0, x)  # zeros are what any and all look at
        return (lambda t: getattr(gg, name)(t, axis=axis)), [x]
    return draw


def _step_draw(fn):
    """Values whose fractional part lies in [0.1, 0.4]: at least 0.1 from every jump of sign,
    floor, ceil and round (integers, halves, 0), so central differences see the flat pieces."""
    def draw(data):
        shape = data.draw(gst.shapes(), label="shape")
        x = data.draw(gst.arrays(shape), label="x")
        return fn, [np.floor(x) + 0.1 + 0.3 * (x - np.floor(x))]
    return draw


def _special_values_draw(fn):
    def draw(data):
        shape = data.draw(gst.shapes(), label="shape")
        x = data.draw(gst.arrays(shape), label="x")
        # per element: NaN, +inf, -inf, 0 or the drawn value (choice 4)
        choice = np.asarray(data.draw(st.lists(st.integers(0, 4), min_size=x.size,
                                               max_size=x.size)), dtype=int).reshape(x.shape)
        specials = np.array([np.nan, np.inf, -np.inf, 0.0, 0.0])
        return fn, [np.where(choice < 4, specials[choice], x)]
    return draw


def _cumsum_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    return (lambda t: gg.cumsum(t, dim)), [data.draw(gst.arrays(shape), label="x")]


def _prod_draw(data):
    """Some entries exactly 0 (one or several per slice): the gradient must not divide by x."""
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw(gst.arrays(shape), label="x")
    zeros = np.asarray(data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size),
                                 label="zeros"), dtype=bool).reshape(x.shape)
    return (lambda t: gg.prod(t, dim, keepdim)), [np.where(zeros, 0.0, x)]


def _gather_index(data, shape):
    """(dim, int64 index): sizes up to x's off the axis, repeats along it (gradients add up)."""
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    index_shape = tuple(data.draw(st.integers(1, 4 if d == axis else n))
                        for d, n in enumerate(shape))
    index = data.draw(st.lists(st.integers(0, shape[axis] - 1), min_size=int(np.prod(index_shape)),
                               max_size=int(np.prod(index_shape))), label="index")
    return axis, np.asarray(index, dtype=np.int64).reshape(index_shape)


def _gather_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis, index = _gather_index(data, shape)
    return (lambda t: gg.gather(t, axis, gg.tensor(index))), [data.draw(gst.arrays(shape))]


def _scatter_add_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    axis, index = _gather_index(data, shape)
    return ((lambda g: selection._scatter_along(g, gg.tensor(index), axis=axis, shape=shape)),
            [data.draw(gst.arrays(index.shape))])


def _argsort_draw(data):
    shape = data.draw(gst.shapes(min_dims=1), label="shape")
    return (lambda t: gg.sort(t, 0, descending=True).indices), [data.draw(gst.arrays(shape))]


SPECS: dict[str, Spec] = {
    "erf": _unary(gg.erf),
    "sign": Spec(_step_draw(gg.sign), smooth=False),
    "floor": Spec(_step_draw(gg.floor), smooth=False),
    "ceil": Spec(_step_draw(gg.ceil), smooth=False),
    "round": Spec(_step_draw(gg.round), smooth=False),
    "isnan": Spec(_special_values_draw(gg.isnan), differentiable=False),
    "isinf": Spec(_special_values_draw(gg.isinf), differentiable=False),
    "isfinite": Spec(_special_values_draw(gg.isfinite), differentiable=False),
    "clone": _unary(gg.clone),
    "add": _binary(gg.add),
    "mul": _binary(gg.mul),
    "maximum": _binary(gg.maximum, tie_free=True, smooth=False),
    "max_share": Spec(_max_share_draw),
    "exp": _unary(gg.exp),
    "sin": _unary(gg.sin),
    "cos": _unary(gg.cos),
    "reciprocal": _unary(gg.reciprocal, away_from_zero=0.3),
    "neg": _unary(gg.neg),
    "log": _unary(gg.log, domain="positive"),
    "pow": Spec(_pow_draw),
    "where": Spec(_where_draw),
    "less": _comparison(gg.less),
    "less_equal": _comparison(gg.less_equal),
    "greater": _comparison(gg.greater),
    "greater_equal": _comparison(gg.greater_equal),
    "equal": _comparison(gg.equal),
    "not_equal": _comparison(gg.not_equal),
    "sum": _axis_reduction(gg.sum),
    "max": _axis_reduction(gg.max, well_separated=True),
    "argmax": Spec(_argmax_draw, differentiable=False),
    "argmin": Spec(_argmin_draw, differentiable=False),
    "any": Spec(_truth_draw("any"), differentiable=False),
    "all": Spec(_truth_draw("all"), differentiable=False),
    "reshape": Spec(_reshape_draw),
    "transpose": Spec(_transpose_draw),
    "broadcast_to": Spec(_broadcast_draw),
    "getitem": Spec(_getitem_draw),
    "index_add": Spec(_index_add_draw),
    "pad": Spec(_pad_draw),
    "concatenate": Spec(_concatenate_draw),
    "matmul": Spec(_matmul_draw),
    "astype": Spec(_astype_draw, smooth=False, eps=1e-2),
    "to_device": Spec(_to_device_draw),
    "cumsum": Spec(_cumsum_draw),
    "prod": Spec(_prod_draw),
    "gather": Spec(_gather_draw),
    "scatter_add": Spec(_scatter_add_draw),
    "argsort": Spec(_argsort_draw, differentiable=False),
}

# the window primitives under convolution and pooling draw their own geometry (test_window.py)
SPECS.update({name: Spec(draw) for name, draw in WINDOW_DRAWS.items()})

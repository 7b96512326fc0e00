"""Registry specs for the conv and pooling composites (for composite_specs.py's COMPOSITE_SPECS).

`CONV_POOL_SPECS` maps each composite name to a draw (data -> (fn, arrays)); `CONV_POOL_SMOOTH`
names those whose second derivatives are checked. All of them are piecewise linear or smooth
away from ties and zeros, which the draws avoid.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.composites import conv as conv_module, pooling


@st.composite
def _conv_geometry(draw):
    groups = draw(st.integers(1, 2))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2))
                 for k, d, p in zip(kernel, dilation, padding))
    geometry = gg.conv_output_shape(size, kernel, stride, padding, dilation) \
        if hasattr(gg, "conv_output_shape") else conv_module.conv_output_shape(
            size, kernel, stride, padding, dilation)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return geometry, groups, c, o, rng


def _draw_conv(data):
    g, groups, c, o, rng = data.draw(_conv_geometry())
    x, w = rng.standard_normal((1, c) + g.in_size), rng.standard_normal((o, c // groups) + g.kernel)
    return (lambda a, b: conv_module.conv(a, b, geometry=g, groups=groups)), [x, w]


def _draw_conv_transpose(data):
    g, groups, c, o, rng = data.draw(_conv_geometry())
    y = rng.standard_normal((1, o) + g.out_size)
    w = rng.standard_normal((o, c // groups) + g.kernel)
    return (lambda a, b: conv_module.conv_transpose(a, b, geometry=g, groups=groups)), [y, w]


def _draw_conv_weight_grad(data):
    g, groups, c, o, rng = data.draw(_conv_geometry())
    x, y = rng.standard_normal((1, c) + g.in_size), rng.standard_normal((1, o) + g.out_size)
    return (lambda a, b: conv_module.conv_weight_grad(a, b, geometry=g, groups=groups)), [x, y]


def _pool_input(data, pool_padding=True):
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    padding = tuple(data.draw(st.integers(0, k // 2)) if pool_padding else 0 for k in kernel)
    size = tuple(max(1, k - 2 * p) + data.draw(st.integers(0, 2)) for k, p in zip(kernel, padding))
    geometry = conv_module.conv_output_shape(size, kernel, stride, padding)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    count = 2 * size[0] * size[1]  # distinct values away from 0: no ties, no kinks
    x = ((rng.permutation(count) + 1.0) * 0.05 * rng.choice([-1.0, 1.0], count))
    return geometry, x.reshape((1, 2) + size)


def _draw_max_pool(data):
    g, x = _pool_input(data)
    return (lambda a: pooling.max_pool(a, geometry=g)), [x]


def _draw_avg_pool(data):
    g, x = _pool_input(data)
    return (lambda a: pooling.avg_pool(a, geometry=g)), [x]


def _draw_lp_pool(data):
    g, x = _pool_input(data, pool_padding=False)  # |0|^p has infinite higher derivatives
    p = data.draw(st.sampled_from([2.0, 3.0, 1.5]), label="p")
    return (lambda a: pooling.lp_pool(a, geometry=g, p=p)), [x]


CONV_POOL_SPECS = {
    "conv": _draw_conv, "conv_transpose": _draw_conv_transpose,
    "conv_weight_grad": _draw_conv_weight_grad, "max_pool": _draw_max_pool,
    "avg_pool": _draw_avg_pool, "lp_pool": _draw_lp_pool,
}
CONV_POOL_SMOOTH = {"conv", "conv_transpose", "conv_weight_grad", "max_pool", "avg_pool",
                    "lp_pool"}


def test_specs_cover_the_conv_and_pooling_composites():
    from graphgrad.composites import COMPOSITES

    assert set(CONV_POOL_SPECS) <= set(COMPOSITES)
    ours = {name for name, c in COMPOSITES.items()
            if getattr(c.fused, "forward", None) is not None
            and c.fused.forward.__module__ in ("graphgrad.composites.conv",
                                                "graphgrad.composites.pooling")}
    assert ours <= set(CONV_POOL_SPECS)

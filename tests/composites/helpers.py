"""Shared checks for the conv and pooling tests: fused path vs gate expansion."""

from __future__ import annotations

import numpy as np

import graphgrad as gg


def _derivatives(fn, arrays, expand: bool, seed: int = 0):
    """Value, first derivatives of <u, fn>, and second derivatives of <v, grad <u, fn>>."""
    rng = np.random.default_rng(seed)
    with gg.expand_composites(expand):
        out_shape = fn(*[gg.tensor(a) for a in arrays]).shape
    u = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    argnums = tuple(range(len(arrays)))

    def scalar(*tensors):
        with gg.expand_composites(expand):
            return (fn(*tensors) * gg.tensor(u)).sum()

    def first_along_v(*tensors):
        grads = gg.grad(scalar, argnums)(*tensors)
        total = None
        for g, v in zip(grads, vs):
            term = (g * gg.tensor(v)).sum()
            total = term if total is None else total + term
        return total

    with gg.expand_composites(expand):
        value = fn(*[gg.tensor(a) for a in arrays]).numpy()
    first = [g.numpy() for g in gg.grad(scalar, argnums)(*[gg.tensor(a) for a in arrays])]
    second = [g.numpy() for g in gg.grad(first_along_v, argnums)(*[gg.tensor(a) for a in arrays])]
    return value, first, second


def assert_fused_matches_expansion(fn, arrays, rtol=1e-9, atol=1e-10):
    """The fused composite and its gate expansion agree in value, 1st and 2nd derivatives."""
    fused = _derivatives(fn, arrays, expand=False)
    gates = _derivatives(fn, arrays, expand=True)
    np.testing.assert_allclose(fused[0], gates[0], rtol=rtol, atol=atol, err_msg="values")
    for order in (1, 2):
        for index, (a, b) in enumerate(zip(fused[order], gates[order])):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"derivative of order {order}, input {index}")


def op_names(root) -> set[str]:
    """Names of the ops in root's graph (iterative walk)."""
    names, stack, seen = set(), [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is not None:
            names.add(node.op.name)
        stack.extend(node.inputs)
    return names

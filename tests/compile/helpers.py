"""Compiled against eager: values, first and second derivatives, on one device."""

from __future__ import annotations

import numpy as np

import graphgrad as gg


def _cotangent(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _grads(fn, tensors, device):
    """Output, and the gradient of <cotangent, fn(...)> for every input (None: no gradient)."""
    out = fn(*tensors)
    if not out.requires_grad:
        return out, [None] * len(tensors)
    cot = gg.tensor(_cotangent(out.shape), device=device).astype(out.dtype)
    gg.backward([out], [cot])
    return out, [t.grad for t in tensors]


def _second(fn, arrays, device):
    """d/dx of <v, grad <cot, fn(x)>>: second derivatives along a fixed direction."""
    count = len(arrays)

    def first_order(*xs):
        out = fn(*xs)
        cot = gg.tensor(_cotangent(out.shape), device=device).astype(out.dtype)
        grads = gg.grad(lambda *ys: (fn(*ys) * cot).sum(), argnums=tuple(range(count)))(*xs)
        return sum((g * gg.tensor(_cotangent(g.shape, 2 + i), device=device)).sum()
                   for i, g in enumerate(grads))

    tensors = [gg.tensor(a, device=device) for a in arrays]
    return gg.grad(first_order, argnums=tuple(range(count)))(*tensors)


def assert_close(a, b, what):
    a, b = np.asarray(a.numpy()), np.asarray(b.numpy())
    assert a.shape == b.shape and a.dtype == b.dtype, (
        f"{what}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    )
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=what)


def check_against_eager(fn, arrays, device="cpu", second_order=False, differentiable=True):
    """The compiled fn gives eager's values, gradients and (optionally) second derivatives."""
    compiled = gg.compile(fn)
    for call in range(2):  # the tracing call, then a call of the generated code alone
        eager_in = [gg.tensor(a, device=device, requires_grad=differentiable) for a in arrays]
        comp_in = [gg.tensor(a, device=device, requires_grad=differentiable) for a in arrays]
        eager_out, eager_grads = _grads(fn, eager_in, device)
        comp_out, comp_grads = _grads(compiled, comp_in, device)
        assert_close(comp_out, eager_out, f"value (call {call})")
        assert comp_out.requires_grad == eager_out.requires_grad
        for i, (c, e) in enumerate(zip(comp_grads, eager_grads)):
            assert (c is None) == (e is None), f"input {i}: gradient presence differs"
            if c is not None:
                assert_close(c, e, f"gradient of input {i} (call {call})")
    assert compiled.cache_info()["traces"] == 1
    if second_order:
        for c, e in zip(_second(compiled, arrays, device), _second(fn, arrays, device)):
            assert_close(c, e, "second derivative")
    return compiled

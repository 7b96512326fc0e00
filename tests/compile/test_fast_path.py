"""The generated fast path of a compiled call (guards, inlined Python-float forward, inlined
result construction): it must give what the cache and the traced code give, and fall back to
them whenever a guard fails."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad._tensor import Tensor
from graphgrad.backend import CPU

VALUES = (2.0, -1.0, -3.0, -2.0, -3.0)


def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))


def _inputs(values=VALUES, dtype="float64", requires_grad=False):
    return [gg.tensor(v, dtype=dtype, requires_grad=requires_grad) for v in values]


def _eager_value_and_grad(values):
    return gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))(*_inputs(values))


def _assert_same(compiled, eager):
    value, grads = compiled
    e_value, e_grads = eager
    for a, b in zip((value, *grads), (e_value, *e_grads)):
        assert type(a.data) is type(b.data) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fast_path_results_are_leaves_as_the_core_makes_them():
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    step(*_inputs())
    value, grads = step(*_inputs())  # the generated fast path
    reference = Tensor._leaf(value.data, CPU)
    for t in (value, *grads):
        for slot in Tensor.__slots__:
            if slot in ("data", "seq", "__weakref__"):
                continue
            assert getattr(t, slot) == getattr(reference, slot), slot
    seqs = [t.seq for t in (value, *grads)]
    assert sorted(set(seqs)) == seqs and seqs[-1] < reference.seq  # fresh creation numbers


@pytest.mark.parametrize("values", [(-500.0, 2.0, 0.0, 0.0, 0.0),     # exp overflows
                                    (1.0, 2.0, 3.0, 4.0, 5.0)])
def test_inlined_float_forward_matches_eager_and_falls_back_to_numpy(values):
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    _assert_same(step(*_inputs()), _eager_value_and_grad(VALUES))
    assert "try:" in step._last.fast_source  # the Python-float body is written in place
    with np.errstate(over="ignore", invalid="ignore"):
        _assert_same(step(*_inputs(values)), _eager_value_and_grad(values))
    assert step.cache_info()["traces"] == 1


def test_every_guard_sends_a_changed_call_back_to_the_cache():
    """After a steady call, a change of dtype, requires_grad, grad mode, array class or a
    non-Tensor argument must not run the old code: the results are the eager ones."""
    step = gg.compile(lambda x, y, scale: (x * y * scale).sum())
    x, y = gg.tensor(np.ones(3)), gg.tensor(np.arange(3.0))
    for _ in range(2):
        assert step(x, y, 2.0).item() == 6.0
    assert step(x, y, 3.0).item() == 9.0                        # non-Tensor argument
    f32 = step(x.astype("float32"), y.astype("float32"), 3.0)  # dtype
    assert f32.dtype == np.float32 and f32.item() == 9.0
    g = step(gg.tensor(np.ones(3), requires_grad=True), y, 3.0)  # requires_grad
    assert g.requires_grad
    with gg.no_grad():                                          # grad mode
        h = step(gg.tensor(np.ones(3), requires_grad=True), y, 3.0)
    assert not h.requires_grad
    assert step(gg.tensor(np.ones(4)), gg.tensor(np.ones(4)), 1.0).item() == 4.0  # shape
    reasons = step.cache_info()["reasons"]
    assert len(reasons) == 6 and "grad mode" in reasons[-2]


def test_a_zero_d_array_where_a_numpy_scalar_was_traced_gives_the_same_values():
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    step(*_inputs())
    arrays = [Tensor._leaf(np.array(v), CPU) for v in VALUES]  # 0-d ndarrays, not np.float64
    value, grads = step(*arrays)
    e_value, e_grads = _eager_value_and_grad(VALUES)
    assert value.item() == e_value.item()
    assert [g.item() for g in grads] == [g.item() for g in e_grads]


def test_names_of_the_traced_function_never_shadow_the_fast_paths():
    """A function whose variables are called like the fast path's own (args, o0, MISS, d0)
    still computes its values: the fast path then calls the forward instead of inlining it."""
    def fn(args, o0, MISS, d0):
        return args * o0 + MISS * d0

    step = gg.compile(fn)
    inputs = _inputs((1.0, 2.0, 3.0, 4.0))
    for _ in range(3):
        assert step(*inputs).item() == 14.0
    assert step(*_inputs((2.0, 2.0, 2.0, 2.0))).item() == 8.0
    assert "res = forward(d0, d1, d2, d3)" in step._last.fast_source
    assert "try:" not in step._last.fast_source


@pytest.mark.parametrize("names", ["new, Tensor", "L_params, r0", "next_seq, R0"])
def test_names_the_result_construction_uses_are_not_shadowed_either(names):
    first, second = (n.strip() for n in names.split(","))
    namespace: dict = {"gg": gg}
    exec(f"def fn({first}, {second}):\n    return ({first} * {second}, {second})", namespace)
    step = gg.compile(namespace["fn"])
    for values in ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0)):
        product, same = step(*_inputs(values))
        assert product.item() == values[0] * values[1] and same.item() == values[1]


def test_graph_node_made_by_the_fast_path_backpropagates_like_eager():
    compiled = gg.compile(neuron)
    for values in (VALUES, (0.5, -1.5, 2.0, 0.25, -1.0)):  # the trace, then the fast path
        inputs = _inputs(values, requires_grad=True)
        f = compiled(*inputs)
        f.backward()
        eager_inputs = _inputs(values, requires_grad=True)
        neuron(*eager_inputs).backward()
        assert f.op.name == "compiled:neuron" and f.inputs == tuple(inputs)
        assert [t.grad.item() for t in inputs] == pytest.approx(
            [t.grad.item() for t in eager_inputs], rel=1e-14)


def test_an_array_or_a_number_where_a_tensor_was_traced_falls_back_to_the_cache():
    """The guards check the argument's class before reading its `.data` (an ndarray's `.data`
    is a memoryview, a float has none)."""
    step = gg.compile(lambda x: (x * x).sum())
    x = np.arange(3.0)
    for _ in range(2):
        assert step(gg.tensor(x)).item() == 5.0
    assert step(x).item() == 5.0                    # made a tensor by the cache path
    assert step(gg.tensor(x)).item() == 5.0
    with pytest.raises(Exception, match="sum"):     # a float has no .sum(): the function's error
        step(2.0)


def test_a_mutable_leaf_default_is_never_shared_between_results(monkeypatch):
    """Should the core give every leaf its own list in some slot, the fast path calls
    `Tensor._leaf` instead of sharing the probe's object between results."""
    original = Tensor._leaf

    def leaf_with_a_list(data, device):
        t = original(data, device)
        t.hooks = []
        return t

    monkeypatch.setattr(Tensor, "_leaf", staticmethod(leaf_with_a_list))
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    step(*_inputs())
    value, grads = step(*_inputs())
    assert "leaf(o0, DEV)" in step._last.fast_source
    assert value.hooks == [] and value.hooks is not grads[0].hooks


def test_clear_cache_also_forgets_the_fast_path():
    step = gg.compile(lambda x: x * 2.0)
    for _ in range(2):
        assert step(gg.tensor(np.ones(2))).numpy().tolist() == [2.0, 2.0]
    step.clear_cache()
    assert step(gg.tensor(np.ones(2))).numpy().tolist() == [2.0, 2.0]
    assert step.cache_info() == {"traces": 2, "entries": 1,
                                 "reasons": ["first call", "first call"]}


def test_python_floats_where_value_and_grad_differentiates_are_data_not_signature():
    """As under jax.jit: `step(2.0, ...)` then `step(2.5, ...)` is one trace, not one per
    value; the floats become tensors of the default dtype, as the eager call makes them."""
    steps = {}
    for dtype in ("float64", "float32"):
        with gg.default_dtype(dtype):
            eager = gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))
            step = steps[dtype] = gg.compile(eager)
            for last in (-3.0, -3.5, 1e3, -4.0):
                values = VALUES[:4] + (last,)
                with np.errstate(over="ignore"):
                    _assert_same(step(*values), eager(*values))
            assert step.cache_info()["traces"] == 1, step.cache_info()
            assert "if not (a0.__class__ is C0" in step._last.fast_source
    with gg.default_dtype("float32"):  # NumPy scalars keep their own dtype, as eagerly
        eager = gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))
        mixed = gg.compile(eager)
        for last in (-3.0, -3.5):
            values = (np.float32(2.0), -1.0, np.float32(-3.0), -2.0, np.float32(last))
            _assert_same(mixed(*values), eager(*values))
        assert mixed.cache_info()["traces"] == 1
    step = steps["float64"]
    with gg.default_dtype("float32"):
        value, _ = step(*VALUES)  # the default dtype changed: a trace of its own
    assert value.dtype == np.float32 and step.cache_info()["traces"] == 2
    _assert_same(step(*_inputs()), _eager_value_and_grad(VALUES))  # tensors still work


def test_a_float_argument_nothing_differentiates_stays_static():
    scale = gg.compile(lambda x, s: x * s)
    x = gg.tensor([1.0, 2.0], dtype="float32")
    assert scale(x, 3.0).tolist() == [3.0, 6.0] and scale(x, 4.0).tolist() == [4.0, 8.0]
    assert scale.cache_info()["reasons"] == ["first call", "changed: non-tensor arguments"]
    assert scale(x, 3.0).dtype == np.float32  # a static number takes x's dtype, as eager


def test_retracing_for_changing_numbers_warns_once_and_the_cache_stays_bounded():
    """torch.compile's recompile warning: each new number is a new signature, so a loop over
    values would trace every call and keep every trace."""
    from graphgrad.compiler import function

    scale = gg.compile(lambda x, s: x * s)
    x = gg.tensor([1.0])
    with pytest.warns(gg.RetraceWarning, match=r"traced 9 times.*gg\.tensor") as caught:
        for i in range(function.CACHE_ENTRIES + 10):
            assert scale(x, float(i)).item() == float(i)
    assert len([w for w in caught if w.category is gg.RetraceWarning]) == 1
    assert scale.cache_info()["entries"] == function.CACHE_ENTRIES
    assert scale(x, 0.0).item() == 0.0  # the oldest went: traced again, still right


def test_the_call_runs_the_last_signatures_fast_path_and_clear_cache_resets_it():
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    other = gg.compile(neuron)
    assert isinstance(step, gg.compiler.CompiledFunction) and type(step) is not type(other)
    step(*_inputs())
    assert type(step).__call__ is step._last.fast  # no dispatch between the call and the guard
    assert type(other).__call__ is gg.compiler.CompiledFunction.__call__  # untouched
    step.clear_cache()
    assert type(step).__call__ is gg.compiler.CompiledFunction.__call__
    _assert_same(step(*_inputs()), _eager_value_and_grad(VALUES))
    assert step.cache_info()["traces"] == 2 and step(1.0, 2.0, 3.0, 4.0, 5.0)  # (all traces ever)
    with pytest.raises(TypeError):
        step(*_inputs(), bogus=1)  # keyword arguments go to the cache and on to the function


def test_the_seed_of_value_and_grad_is_not_multiplied_in():
    """`1.0 * out0` was written for the backward's seed; the product is its other factor, so the
    code reads as the notes' and runs one statement less, with the same numbers."""
    step = gg.compile(gg.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)))
    _assert_same(step(*_inputs()), _eager_value_and_grad(VALUES))
    assert "1.0 *" not in step.source and "* 1.0" not in step.source
    assert "1.0 *" not in step._last.fast_source
    for x in (gg.tensor([1.5, -2.0], dtype="float32"), gg.tensor(-0.0, dtype="float64")):
        times_one = gg.compile(lambda x: x * 1.0)
        got, want = times_one(x), x * 1.0
        assert got.dtype == want.dtype and got.tolist() == want.tolist()


def test_repr_says_what_it_compiled_and_how_often_it_traced():
    step = gg.compile(neuron)
    assert repr(step) == "<compiled neuron: 0 traces, 0 kept>"
    step(*_inputs())
    assert repr(step) == "<compiled neuron: 1 traces, 1 kept>"

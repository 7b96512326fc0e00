"""gg.compile's behaviour: the neuron's generated code, retracing, captured parameters,
dropout, value-dependent control flow, modules, hooks, value_and_grad."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.compiler import ConcretizationError

NEURON = [("w0", 2.0), ("x0", -1.0), ("w1", -3.0), ("x1", -2.0), ("w2", -3.0)]


def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + gg.exp(-(w0 * x0 + w1 * x1 + w2)))


def _neuron_inputs(dtype="float64"):
    return [gg.tensor(v, dtype=dtype, requires_grad=True, name=n) for n, v in NEURON]


def test_neuron_source_reads_like_the_notes(capsys):
    compiled = gg.compile(neuron)
    inputs = _neuron_inputs()
    f = compiled(*inputs)
    f.backward()
    print(compiled.source)
    source = capsys.readouterr().out
    # seed 001: f = 1/(1+e^-(w0x0+w1x1+w2)), grads w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20
    for line in ("def neuron(w0, x0, w1, x1, w2):", "t0 = w0 * x0", "t1 = w1 * x1",
                 "t5 = exp(t4)", "out = 1.0 / t6", "def neuron_backward(",
                 "dt4 = dt6 * t5", "dw0 = dt3 * x0", "dx0 = dt3 * w0", "dw2 = dt3",
                 "def neuron_xp(w0, x0, w1, x1, w2):", "t5 = xp.exp(t4)"):
        assert line in source, line
    assert f.op.name == "compiled:neuron"
    assert f.item() == pytest.approx(0.7310585786300049)
    expected = [-0.19661193324148185, 0.3932238664829637, -0.3932238664829637,
                -0.5898357997244456, 0.19661193324148185]
    assert [t.grad.item() for t in inputs] == pytest.approx(expected, rel=1e-12)


def test_float_path_falls_back_to_arrays_on_overflow():
    """Python floats raise on exp(1000); the compiled neuron gives NumPy's answer instead."""
    compiled = gg.compile(neuron)
    compiled(*_neuron_inputs())
    big = [gg.tensor(v, dtype="float64", requires_grad=True) for v in (-500.0, 2.0, 0.0, 0.0, 0.0)]
    with np.errstate(over="ignore"):
        f = compiled(*big)
        f.backward()
        eager = neuron(*[gg.tensor(t.item(), dtype="float64", requires_grad=True) for t in big])
    assert f.item() == eager.item() == 0.0
    assert compiled.cache_info()["traces"] == 1


def test_float32_neuron_uses_arrays_and_matches_eager():
    compiled = gg.compile(neuron)
    f = compiled(*_neuron_inputs("float32"))
    assert f.dtype == np.float32 and "float(" not in compiled.source
    assert f.item() == neuron(*_neuron_inputs("float32")).item()


def test_retrace_on_new_shapes_and_cache_info():
    compiled = gg.compile(lambda x: (x * x).sum())
    compiled(gg.tensor(np.ones(3)))
    compiled(gg.tensor(np.ones(3) * 2))
    assert compiled.cache_info()["traces"] == 1
    y = compiled(gg.tensor(np.ones((2, 2))))
    assert y.item() == 4.0
    compiled(gg.tensor(np.ones(3), requires_grad=True))
    info = compiled.cache_info()
    assert info["traces"] == 3
    assert info["reasons"][0] == "first call"
    assert "shapes" in info["reasons"][1] and "requires_grad" in info["reasons"][2]
    with gg.no_grad():
        z = compiled(gg.tensor(np.ones(3), requires_grad=True))
    assert not z.requires_grad and "grad mode" in compiled.cache_info()["reasons"][3]


def test_non_tensor_arguments_are_part_of_the_key():
    compiled = gg.compile(lambda x, power: (x ** power).sum())
    x = gg.tensor(np.array([1.0, 2.0]))
    assert compiled(x, 2).item() == 5.0
    assert compiled(x, 3).item() == 9.0
    assert compiled.cache_info()["traces"] == 2


def test_captured_parameters_are_read_at_call_time():
    rng = np.random.default_rng(0)
    model = gg.nn.Linear(3, 2, dtype="float64", rng=0)
    x = gg.tensor(rng.standard_normal((4, 3)))
    loss_fn = gg.compile(lambda x: (model(x) ** 2).mean())
    opt = gg.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        eager_model_loss = (model(x) ** 2).mean()
        assert loss.item() == pytest.approx(eager_model_loss.item(), rel=1e-12)
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        for p in model.parameters():
            p.grad = None
        eager_model_loss.backward()
        for g, p in zip(grads, model.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
        opt.step()
    assert loss_fn.cache_info()["traces"] == 1
    assert "weight" in loss_fn.source and "dweight" in loss_fn.source


def test_dropout_draws_a_fresh_mask_every_call():
    layer = gg.nn.Dropout(0.5, rng=0)
    compiled = gg.compile(lambda x: layer(x))
    x = gg.tensor(np.ones(200))
    masks = [compiled(x).numpy() for _ in range(3)]
    assert compiled.cache_info()["traces"] == 1
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    for m in masks:
        assert set(np.unique(m)) <= {0.0, 2.0}
    layer.eval()
    assert np.array_equal(compiled(x).numpy(), x.numpy())
    assert "train/eval" in compiled.cache_info()["reasons"][-1]


def test_dropout_matches_eager_for_the_same_generator_state():
    x = gg.tensor(np.arange(1.0, 11.0), requires_grad=True)
    compiled = gg.compile(lambda x, gen: gg.dropout(x, 0.3, generator=gen))
    gen_eager, gen_comp = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(2):
        eager = gg.dropout(x, 0.3, generator=gen_eager)
        np.testing.assert_array_equal(compiled(x, gen_comp).numpy(), eager.numpy())


@pytest.mark.parametrize("read", [lambda x: x.item() > 0, lambda x: bool(x.sum() > 0),
                                  lambda x: float(x.sum()) > 0, lambda x: int(x.sum()) > 0])
def test_value_dependent_control_flow_is_rejected(read):
    def fn(x):
        if read(x):  # the line the error names
            return x * 2.0
        return x

    compiled = gg.compile(fn)
    with pytest.raises(ConcretizationError) as error:
        compiled(gg.tensor(np.ones(1)))
    message = str(error.value)
    assert "compile(fn)" in message and "test_compile.py" in message and "gg.where" in message
    assert float(gg.tensor(1.5)) == 1.5  # outside a trace, reading values works again


def test_shape_dependent_control_flow_is_fine():
    compiled = gg.compile(lambda x: x.sum() if x.ndim == 1 else x.sum(axis=0).sum())
    assert compiled(gg.tensor(np.ones((2, 3)))).item() == 6.0
    assert compiled(gg.tensor(np.ones(4))).item() == 4.0


def test_hooks_and_retain_grad_see_the_compiled_node():
    x = gg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    compiled = gg.compile(lambda x: (x * x).sum())
    y = compiled(x * 3.0)  # the compiled node sits inside a larger graph
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    assert len(seen) == 1


def test_second_derivative_through_compiled_region_matches_eager():
    f = lambda x: gg.sin(x) * x * x
    x = gg.tensor(0.7, dtype="float64")
    compiled = gg.grad(gg.grad(gg.compile(f)))(x)
    eager = gg.grad(gg.grad(f))(x)
    assert compiled.item() == pytest.approx(eager.item(), rel=1e-12)


def test_value_and_grad_compiles_without_an_eager_graph():
    rng = np.random.default_rng(0)
    data = gg.tensor(rng.standard_normal((5, 3)))

    def loss_fn(w, b):
        return ((data @ w + b) ** 2).mean()

    w, b = gg.tensor(rng.standard_normal((3, 2))), gg.tensor(np.zeros(2))
    step = gg.compile(gg.value_and_grad(loss_fn, argnums=(0, 1)))
    for _ in range(2):
        value, (gw, gb) = step(w, b)
        eager_value, (ew, eb) = gg.value_and_grad(loss_fn, argnums=(0, 1))(w, b)
        assert value.item() == pytest.approx(eager_value.item(), rel=1e-12)
        np.testing.assert_allclose(gw.numpy(), ew.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb.numpy(), eb.numpy(), rtol=1e-12)
        assert value.op is None and gw.op is None  # plain results: nothing to backpropagate
        w = w - 0.1 * gw
    assert step.cache_info()["traces"] == 1
    assert "def loss_fn(w, b, data):" in step.source


def test_model_step_with_cross_entropy_in_train_and_eval():
    rng = np.random.default_rng(1)
    model = gg.nn.Sequential(gg.nn.Linear(4, 8, dtype="float64", rng=1), gg.nn.ReLU(),
                             gg.nn.Dropout(0.5, rng=2), gg.nn.Linear(8, 3, dtype="float64", rng=3))
    model_step = gg.compile(lambda x, y: gg.cross_entropy(model(x), y))
    x, y = gg.tensor(rng.standard_normal((6, 4))), gg.tensor(rng.integers(0, 3, 6))
    loss = model_step(x, y)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    eval_loss = model_step(x, y)
    assert eval_loss.item() == pytest.approx(gg.cross_entropy(model(x), y).item(), rel=1e-12)
    assert model_step.cache_info()["traces"] == 2


def test_a_module_compiled_itself_follows_its_train_and_eval_modes():
    """torch.compile(model)'s habit: gg.compile(model) saw no module (none in a closure), so
    after model.eval() it kept running the training trace, dropout and all: silently wrong."""
    model = gg.nn.Sequential(gg.nn.Linear(4, 8, dtype="float64", rng=1), gg.nn.ReLU(),
                             gg.nn.Dropout(0.5, rng=2), gg.nn.Linear(8, 3, dtype="float64", rng=3))
    compiled = gg.compile(model)
    x = gg.tensor(np.random.default_rng(0).standard_normal((6, 4)))
    compiled(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    np.testing.assert_allclose(compiled(x).numpy(), model(x).numpy(), rtol=1e-12)
    assert compiled.cache_info()["reasons"] == ["first call", "changed: train/eval mode of modules"]
    assert compiled.__name__ == "Sequential" and compiled.source.startswith("def Sequential(")


def test_tensors_passed_by_keyword_are_inputs():
    """`step(x, w=w)` compared its tensors in the cache key (an ambiguous truth value on the
    second call) and traced w as a constant; keywords now take their positions."""
    scale = gg.compile(lambda x, w: x * w)
    x = gg.tensor([1.0, 2.0])
    for k in range(3):
        w = gg.tensor([float(k), 1.0])
        assert scale(x, w=w).tolist() == scale(w=w, x=x).tolist() == [float(k), 2.0]
    assert scale.cache_info()["traces"] == 1
    loose = gg.compile(lambda x, **extra: x * extra["w"])
    with pytest.raises(TypeError, match=r"keyword 'w' has no position.*pass it positionally"):
        loose(x, w=gg.tensor([2.0, 2.0]))


def test_source_before_any_call_says_so():
    with pytest.raises(RuntimeError, match="not called yet"):
        _ = gg.compile(neuron).source  # the property access itself must raise


def test_labels_are_read_at_every_call_not_frozen():
    """cross_entropy makes one-hot rows from the labels' values: a new batch, new rows."""
    rng = np.random.default_rng(3)
    logits = gg.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    compiled = gg.compile(lambda z, y: gg.cross_entropy(z, y))
    for labels in ([0, 1, 2, 3, 0], [3, 3, 1, 0, 2]):
        y = gg.tensor(np.array(labels))
        assert compiled(logits, y).item() == pytest.approx(
            gg.cross_entropy(logits, y).item(), rel=1e-12)
    assert compiled.cache_info()["traces"] == 1
    with pytest.raises(ValueError, match="labels must lie in"):  # as eager mode
        compiled(logits, gg.tensor(np.array([0, 1, 2, 3, 4])))


def test_compile_neuron_example_prints_the_source(capsys):
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "compile_neuron.py"
    f, inputs = runpy.run_path(str(example))["main"]()
    out = capsys.readouterr().out
    assert "def neuron(w0, x0, w1, x1, w2):" in out and "def neuron_backward(" in out
    assert "df/dw0 = -0.20" in out and "df/dx1 = -0.59" in out
    assert f.op.name == "compiled:neuron"


@pytest.mark.parametrize("pack", [tuple, list, lambda ts: {"a": ts[0], "b": ts[1]}])
def test_a_container_of_tensors_is_refused_with_the_fix(pack):
    """A tuple of tensors hashed into the cache key: traced as constants on the first call, an
    ambiguous truth value on the second. Containers are not unpacked (no pytrees): say so."""
    product = gg.compile(lambda pair: pair[0] * pair[1])
    x, y = gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0])
    with pytest.raises(TypeError, match=r"argument 0 is a \w+ of tensors.*f\(\*tensors\)"):
        product(pack((x, y)))


def test_a_compiled_module_answers_for_the_module():
    """torch.compile(model) forwards attribute access to the model: users build the optimizer
    from `compiled.parameters()` and switch `compiled.eval()`."""
    model = gg.nn.Sequential(gg.nn.Linear(4, 3, dtype="float64", rng=1), gg.nn.Dropout(0.5))
    compiled = gg.compile(model)
    assert compiled.parameters() == model.parameters()
    compiled.eval()
    assert not model.training and compiled.state_dict().keys() == model.state_dict().keys()
    with pytest.raises(AttributeError, match="bogus"):
        _ = compiled.bogus


def test_a_compiled_forward_method_binds_to_each_module():
    """`@gg.compile` on a Module's forward (torch.compile's decorator habit) was called without
    its instance ("missing argument x"); it binds now, one signature per instance, each
    following its own train/eval mode, and many instances are no cause for a retrace warning."""
    import warnings

    class Net(gg.nn.Module):
        def __init__(self, seed):
            super().__init__()
            self.fc = gg.nn.Linear(3, 2, dtype="float64", rng=seed)
            self.drop = gg.nn.Dropout(0.5, rng=seed)

        @gg.compile
        def forward(self, x):
            return self.drop(gg.relu(self.fc(x)))

    x = gg.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    nets = [Net(seed) for seed in range(10)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", gg.RetraceWarning)
        for net in nets:
            net(x).sum().backward()
            assert net.fc.weight.grad is not None
            net.eval()
            np.testing.assert_allclose(net(x).numpy(), gg.relu(net.fc(x)).numpy(), rtol=1e-12)
    assert Net.forward.source.startswith("def forward(x, fc_weight, fc_bias):")


def test_torch_compile_options_are_accepted_where_true_and_refused_otherwise():
    """torch.compile(model, mode="reduce-overhead") habits: an option is never ignored."""
    doubled = gg.compile(lambda x: x * 2.0, fullgraph=True, dynamic=False)
    assert doubled(gg.tensor(1.5)).item() == 3.0
    assert gg.compile(fullgraph=True) is gg.compile  # the decorator form, options checked
    for option in ({"mode": "reduce-overhead"}, {"dynamic": True}, {"backend": "inductor"},
                   {"fullgraph": False}):
        with pytest.raises(TypeError, match=r"has no graphgrad meaning.*gg\.compile\(fn\)"):
            gg.compile(neuron, **option)

"""Per-node local-gradient checker and the check=True overlay that finds the backprop bug."""

import numpy as np

import graphgrad as gg
from graphgrad._primitive import PRIMITIVES, primitive
from graphgrad.testing.nodecheck import check_node
from graphgrad.viz.common import CHECK_FAIL_FILL

# exp with the classic bug: the local gradient uses the input instead of the output
buggy_exp = primitive("buggy_exp", symbol="exp", forward=lambda xp, x: xp.exp(x),
                      vjp=lambda g, out, x: (g * x,), register=False)


def test_correct_primitives_pass():
    x = np.array([0.3, -1.2, 2.0])
    y = np.array([1.5, 0.7, -0.4])
    for name, inputs in [("mul", [x, y]), ("add", [x, y]), ("exp", [x]), ("reciprocal", [y])]:
        result = check_node(PRIMITIVES[name], inputs)
        assert result.ok, result.message
    big = np.random.default_rng(0).standard_normal((10, 10))  # random-direction path
    assert check_node(PRIMITIVES["matmul"], [big, big]).ok


def test_buggy_rule_is_caught_with_a_readable_report():
    result = check_node(buggy_exp, [np.array([0.5, -1.0, 2.0])])
    assert not result.ok
    assert "buggy_exp" in result.message and "DISAGREES" in result.message
    (slot,) = result.slots
    assert slot.slot == 0 and slot.error > 0.1
    # element by element, the numerical side is u_i * exp(x_i): the true local gradient
    assert slot.where.startswith("element (")


def test_check_overlay_colours_only_the_buggy_node():
    x = gg.tensor([0.5, -1.0, 2.0], requires_grad=True, name="x")
    y = (buggy_exp(x) * 2.0).sum()
    view = gg.viz.trace(y, check=True, grads=True)
    failing = [n.op for n in view.nodes if n.check is not None and not n.check.ok]
    assert failing == ["buggy_exp"]
    source = gg.viz.draw(y, check=True, grads=True).source
    assert source.count(CHECK_FAIL_FILL) == 1
    assert "DISAGREES with finite differences" in source  # in the tooltip
    circuit = gg.viz.draw(y, check=True, style="circuit").source
    assert circuit.count(CHECK_FAIL_FILL) == 1


def test_nodes_without_gradient_rule_or_float_input_are_skipped():
    less = PRIMITIVES["less"]
    assert check_node(less, [np.ones(2), np.zeros(2)]).ok
    ints = [np.ones(2, dtype=np.int64), np.ones(2, dtype=np.int64)]
    assert check_node(PRIMITIVES["mul"], ints).slots == ()

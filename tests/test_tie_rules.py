"""The max gate's tie rule, tested with exact ties (finite differences cannot see it)."""

import numpy as np

import graphgrad as gg


def test_maximum_routes_to_larger_input():
    x, y = gg.tensor(3.0, requires_grad=True), gg.tensor(1.0, requires_grad=True)
    gg.maximum(x, y).backward()
    assert (x.grad.item(), y.grad.item()) == (1.0, 0.0)


def test_maximum_tie_splits_gradient_in_half():
    x, y = gg.tensor(2.0, requires_grad=True), gg.tensor(2.0, requires_grad=True)
    (gg.maximum(x, y) * 4.0).backward()
    assert (x.grad.item(), y.grad.item()) == (2.0, 2.0)


def test_maximum_is_symmetric_at_ties():
    for order in ((0, 1), (1, 0)):
        a = [gg.tensor(np.array([1.0, 5.0]), requires_grad=True) for _ in range(2)]
        gg.maximum(a[order[0]], a[order[1]]).sum().backward()
        np.testing.assert_array_equal(a[0].grad.numpy(), [0.5, 0.5])


def test_max_reduction_shares_among_tied_winners():
    x = gg.tensor(np.array([[1.0, 3.0, 3.0, 3.0], [2.0, 0.0, -1.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0, 0.5]])


def test_relu_at_zero_follows_the_tie_rule_fused_and_expanded():
    for expand in (False, True):
        x = gg.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
        with gg.expand_composites(expand):
            gg.relu(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 1.0])


def test_abs_gradient_at_zero_is_zero():
    x = gg.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    gg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])

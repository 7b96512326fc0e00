"""Under `gg.expand_composites()` a named input that carries no gradient (a target, an image)
is drawn as itself, linked through the gates that use it, not as an anonymous constant."""

import graphgrad as gg


def _drawn(root):
    return [(n.kind, n.name, n.op) for n in gg.viz.trace(root, expand=True).nodes]


def test_a_loss_target_stays_a_named_input_when_expanded():
    pred = gg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="pred")
    target = gg.tensor([[0.0, 1.0], [1.0, 0.0]], name="target")
    with gg.expand_composites():
        loss = gg.mse_loss(pred, target)
    loss.backward()
    nodes = _drawn(loss)
    assert ("input", "target", None) in nodes
    assert ("op", None, "neg") in nodes  # -target, linked to the input it negates
    assert pred.grad.numpy().tolist() == [[0.5, 0.5], [1.0, 2.0]]  # 2 (pred - target) / 4


def test_gates_on_data_only_carry_no_gradient_and_do_not_enter_backward():
    x = gg.tensor([1.0, 2.0], name="x")
    w = gg.tensor([3.0, 4.0], requires_grad=True, name="w")
    with gg.expand_composites():
        shifted = -x  # no input requires grad: linked for drawing only
        loss = gg.mse_loss(w, shifted)
    assert shifted.op is not None and not shifted.requires_grad
    loss.backward()
    assert x.grad is None
    assert w.grad.numpy().tolist() == [4.0, 6.0]  # 2 (w + x) / 2


def test_outside_expansion_data_only_results_stay_plain_leaves():
    x = gg.tensor([1.0, 2.0], name="x")
    assert (-x).op is None

"""cross_entropy and nll_loss with PyTorch's weight=, ignore_index= and label_smoothing=: closed
forms written out here, PyTorch's own values and gradients when torch is importable, the modules,
and the errors. (Fused == expanded and gradients vs numerical: the registry specs.)"""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.errors import ArgumentError, ShapeError

RNG = np.random.default_rng(15)
LOGITS = RNG.standard_normal((5, 3))
LABELS = np.array([0, 2, -100, 1, 2])
WEIGHT = np.array([0.5, 2.0, 1.5])


def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _targets(labels, in_graph):
    return gg.tensor(labels) if in_graph else labels


@pytest.mark.parametrize("in_graph", [False, True])
def test_weighted_mean_divides_by_the_weights_of_the_targets_not_ignored(in_graph):
    log_p = _log_softmax(LOGITS)
    kept = [0, 1, 3, 4]
    w = WEIGHT[LABELS[kept]]                                   # 0.5, 1.5, 2.0, 1.5
    per = -w * log_p[kept, LABELS[kept]]
    x = gg.tensor(LOGITS, requires_grad=True)
    loss = gg.cross_entropy(x, _targets(LABELS, in_graph), weight=WEIGHT)
    assert loss.item() == pytest.approx(per.sum() / 5.5, rel=1e-12)
    loss.backward()
    softmax = np.exp(log_p)
    expected = np.zeros_like(LOGITS)
    expected[kept] = w[:, None] * (softmax[kept] - np.eye(3)[LABELS[kept]]) / 5.5
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10, atol=1e-15)
    sums = gg.cross_entropy(gg.tensor(LOGITS), _targets(LABELS, in_graph), weight=WEIGHT,
                            reduction="none").numpy()
    np.testing.assert_allclose(sums, np.insert(per, 2, 0.0), rtol=1e-12)


@pytest.mark.parametrize("in_graph", [False, True])
def test_label_smoothing_mixes_the_one_hot_with_the_uniform_distribution(in_graph):
    eps, log_p = 0.2, _log_softmax(LOGITS)
    kept = [0, 1, 3, 4]
    smoothed = (1 - eps) * np.eye(3)[LABELS[kept]] + eps / 3
    per = -(smoothed * log_p[kept]).sum(axis=1)
    loss = gg.cross_entropy(gg.tensor(LOGITS), _targets(LABELS, in_graph), label_smoothing=eps)
    assert loss.item() == pytest.approx(per.mean(), rel=1e-12)
    # the same smoothing on one-hot rows given as distributions (nothing ignored there)
    rows = np.eye(3)[LABELS[kept]]
    assert gg.cross_entropy(gg.tensor(LOGITS[kept]), rows, label_smoothing=eps).item() == \
        pytest.approx(per.mean(), rel=1e-12)


@pytest.mark.parametrize("in_graph", [False, True])
def test_ignore_index_may_be_a_class(in_graph):
    log_p = _log_softmax(LOGITS)
    labels = np.array([0, 2, 1, 1, 2])
    loss = gg.nll_loss(gg.tensor(log_p), _targets(labels, in_graph), ignore_index=2)
    assert loss.item() == pytest.approx(-(log_p[0, 0] + log_p[2, 1] + log_p[3, 1]) / 3, rel=1e-12)


@pytest.mark.parametrize("in_graph", [False, True])
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT, "label_smoothing": 0.3}])
def test_mean_of_nothing_is_nan(in_graph, options):
    """As PyTorch's 0/0. Labels given as an array: a zero gradient, as PyTorch's; as a Tensor
    (the gate gg.compile re-reads per batch, which cannot know in advance): NaN."""
    x = gg.tensor(LOGITS, requires_grad=True)
    labels = np.full(5, -100)
    loss = gg.cross_entropy(x, _targets(labels, in_graph), **options)
    assert np.isnan(loss.item())
    loss.backward()
    if in_graph:
        assert np.isnan(x.grad.numpy()).all()
    else:
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(LOGITS))
    assert gg.cross_entropy(gg.tensor(LOGITS), labels, reduction="sum", **options).item() == 0.0


def test_the_modules_take_the_options_and_keep_the_weight_as_a_buffer():
    criterion = nn.CrossEntropyLoss(weight=WEIGHT, ignore_index=1, label_smoothing=0.1)
    expected = gg.cross_entropy(gg.tensor(LOGITS), LABELS.clip(0), weight=WEIGHT, ignore_index=1,
                                label_smoothing=0.1)
    assert criterion(gg.tensor(LOGITS), LABELS.clip(0)).item() == expected.item()
    np.testing.assert_array_equal(criterion.state_dict()["weight"], WEIGHT)
    assert nn.CrossEntropyLoss().state_dict() == {}
    nll = nn.NLLLoss(WEIGHT, reduction="sum")
    log_p = gg.tensor(_log_softmax(LOGITS))
    assert nll(log_p, LABELS).item() == gg.nll_loss(log_p, LABELS, WEIGHT, reduction="sum").item()


def test_bad_options_are_named():
    x = gg.tensor(LOGITS)
    with pytest.raises(ArgumentError, match=r"cross_entropy: label_smoothing must lie in \[0, 1\], "
                                            r"got 1.5"):
        gg.cross_entropy(x, LABELS, label_smoothing=1.5)
    with pytest.raises(ShapeError, match=r"cross_entropy: weight must hold one number per class, "
                                         r"shape \(3,\) for input \(5, 3\); got shape \(2,\)"):
        gg.cross_entropy(x, LABELS, weight=np.ones(2))
    with pytest.raises(ArgumentError, match="cross_entropy: ignore_index applies to integer class "
                                            "labels only"):
        gg.cross_entropy(x, np.full((5, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ShapeError, match=r"nll_loss: labels must lie in \[0, 2\] for 3 classes "
                                         r"\(or be ignore_index=-1\); got values from 0 to 3"):
        gg.nll_loss(x, np.array([0, -1, 3, 1, 1]), ignore_index=-1)
    with pytest.raises(ShapeError, match=r"nll_loss: labels must lie in \[0, 2\] for 3 classes "
                                         r"\(or be ignore_index=-1\)"):
        gg.nll_loss(x, gg.tensor(np.array([0, -1, 3, 1, 1])), ignore_index=-1)
    with pytest.raises(ArgumentError, match="ignore_index must be an int"):
        gg.nll_loss(x, LABELS, ignore_index=1.0)


CASES = [
    ((5, 3), LABELS, {"weight": WEIGHT, "label_smoothing": 0.2}),
    ((4, 3, 2), np.array([[0, 2], [-100, 1], [1, 1], [2, -100]]),
     {"weight": WEIGHT, "label_smoothing": 0.3}),
    ((4, 3), np.array([0, 2, 1, 1]), {"ignore_index": 1}),
    ((3, 3), np.array([-100, -100, -100]), {"label_smoothing": 0.1}),
    ((3, 4), "distribution", {"weight": np.array([1.0, 0.5, 2.0, 3.0]), "label_smoothing": 0.25}),
]


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("in_graph", [False, True])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_values_and_gradients_match_pytorch(loss, reduction, in_graph, case):
    torch = pytest.importorskip("torch")
    shape, labels, options = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape)
    if isinstance(labels, str):
        if loss == "nll_loss":
            pytest.skip("nll_loss takes class labels only")
        labels = np.exp(rng.standard_normal(shape))
        labels /= labels.sum(axis=1, keepdims=True)
    if loss == "nll_loss":
        options = {k: v for k, v in options.items() if k != "label_smoothing"}
    projection = rng.standard_normal(shape[:1] + shape[2:]) if reduction == "none" else 1.0

    ours = gg.tensor(x, requires_grad=True)
    value = getattr(gg, loss)(ours, _targets(labels, in_graph), reduction=reduction, **options)
    (value * gg.tensor(projection)).sum().backward()

    theirs = torch.tensor(x, requires_grad=True)
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    expected = getattr(torch.nn.functional, loss)(theirs, torch.tensor(labels),
                                                  reduction=reduction, **torch_options)
    (expected * torch.tensor(projection)).sum().backward()
    np.testing.assert_allclose(value.numpy(), expected.detach().numpy(), rtol=1e-12,
                               equal_nan=True)
    if not (in_graph and reduction == "mean" and np.isnan(expected.item())):  # see above
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-15)

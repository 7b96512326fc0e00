"""torch.nn.init's in-place initialisers and torch.nn.utils' gradient clipping, under their
PyTorch names. Expected statistics and norms are written out from the formulas."""

import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn


def weight(shape=(400, 300)):
    return nn.Linear(shape[1], shape[0]).weight


@pytest.mark.parametrize("fill, std", [
    (lambda w: nn.init.kaiming_normal_(w, generator=0), math.sqrt(2 / 300)),
    (lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=0),
     math.sqrt(2 / 400)),
    (lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=0),  # nn.Linear's own
     math.sqrt(2 / (1 + 5)) / math.sqrt(300)),
    (lambda w: nn.init.xavier_uniform_(w, generator=0), math.sqrt(2 / 700)),
    (lambda w: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh"), generator=0),
     5 / 3 * math.sqrt(2 / 700)),
    (lambda w: nn.init.normal_(w, 0.0, 0.02, generator=0), 0.02),
    (lambda w: nn.init.uniform_(w, -0.5, 0.5, generator=0), 1 / math.sqrt(12)),
])
def test_initialisers_write_the_documented_spread_in_place(fill, std):
    w = weight()
    assert fill(w) is w
    assert w.dtype == np.float32 and w.requires_grad and w.is_leaf
    assert w.numpy().std() == pytest.approx(std, rel=0.02)
    assert abs(w.numpy().mean()) < 0.05 * std + 1e-3


def test_constant_fills_and_generator_reproducibility():
    w = weight((3, 2))
    assert nn.init.zeros_(w).numpy().tolist() == [[0, 0]] * 3
    assert nn.init.ones_(w).numpy().tolist() == [[1, 1]] * 3
    assert nn.init.constant_(w, 0.5).numpy().tolist() == [[0.5, 0.5]] * 3
    a, b = weight(), weight()
    nn.init.kaiming_normal_(a, generator=7)
    nn.init.kaiming_normal_(b, generator=7)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(gg.errors.ConfigError, match="calculate_gain: unknown nonlinearity"):
        nn.init.calculate_gain("swish")


def test_model_apply_with_an_init_function():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    model.apply(init)
    out = model(gg.tensor(np.ones((1, 4), dtype=np.float32)))
    assert out.numpy().tolist() == [[12.0, 12.0]]  # 4 ones -> 4 each of 3 -> 12 each of 2


def grads_of(values):
    params = [gg.tensor(np.zeros_like(v), requires_grad=True) for v in values]
    (sum((p * gg.tensor(v)).sum() for p, v in zip(params, values))).backward()
    return params


def test_clip_grad_norm_scales_all_gradients_together():
    params = grads_of([np.array([3.0, 0.0]), np.array([[4.0]])])  # total norm 5
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(params[1].grad.numpy(), [[0.8]], rtol=1e-5)
    untouched = grads_of([np.array([0.3, 0.4])])
    assert nn.utils.clip_grad_norm_(untouched, 1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(untouched[0].grad.numpy(), [0.3, 0.4])
    inf_norm = grads_of([np.array([-3.0, 2.0])])
    assert nn.utils.clip_grad_norm_(inf_norm, 1.5, norm_type=math.inf) == 3.0
    np.testing.assert_allclose(inf_norm[0].grad.numpy(), [-1.5, 1.0], rtol=1e-5)


def test_clip_grad_value_and_nonfinite_norms():
    params = grads_of([np.array([-3.0, 0.5, 2.0])])
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [-1.0, 0.5, 1.0])
    bad = grads_of([np.array([np.nan, 1.0])])
    with pytest.raises(gg.ArgumentError, match="clip_grad_norm_: the total norm .* nan"):
        nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)

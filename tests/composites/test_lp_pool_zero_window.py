"""lp_pool2d at an all-zero window: the gradient is 0 (a subgradient, as PyTorch gives), not
NaN, on the fused path and on the gate expansion (issue 13; the expansion's (sum)^(1/p) had an
infinite slope at 0, and 0 * inf = NaN)."""

from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg


def image():
    """One 4x4 channel: three all-zero 2x2 windows and the window [[1, 2], [3, 4]]."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[1.0, 2.0], [3.0, 4.0]]
    return x


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_gradient_is_zero_at_an_all_zero_window(p, expand):
    x = gg.tensor(image(), requires_grad=True)
    with gg.expand_composites(expand), np.errstate(all="raise"):
        gg.lp_pool2d(x, p, 2).sum().backward()
    grad = x.grad.data[0, 0]
    window = image()[0, 0, 2:, 2:]
    norm = (window ** p).sum() ** (1 / p)
    expected = np.zeros((4, 4))
    expected[2:, 2:] = window ** (p - 1) / norm ** (p - 1)  # d ||w||_p / d w_i, all w_i > 0
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=0)


def test_matches_pytorch_at_zero_windows():
    torch = pytest.importorskip("torch")
    x = torch.tensor(image(), requires_grad=True)
    torch.nn.functional.lp_pool2d(x, 3.0, 2).sum().backward()
    ours = gg.tensor(image(), requires_grad=True)
    with gg.expand_composites(True):
        gg.lp_pool2d(ours, 3.0, 2).sum().backward()
    np.testing.assert_allclose(ours.grad.data, x.grad.numpy(), rtol=1e-12)

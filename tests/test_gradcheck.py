"""gradcheck itself: it must catch a wrong local gradient and say where."""

import numpy as np
import pytest

import graphgrad as gg
from graphgrad._primitive import primitive
from graphgrad.testing import GradcheckError

# a deliberately wrong gate: forward x^2, local gradient x instead of 2x (the classic backprop bug)
_bad_square = primitive("bad_square_for_test", forward=lambda xp, x: x * x,
                        vjp=lambda g, out, x: (g * x,), register=False)


def test_gradcheck_reports_the_wrong_element():
    x = np.array([1.0, -2.0, 3.0])
    with pytest.raises(GradcheckError) as info:
        gg.gradcheck(lambda t: _bad_square(t).sum(), [x])
    message = str(info.value)
    assert "input 0" in message and "element (2,)" in message
    assert "analytic 3" in message and "numerical 6" in message


def test_gradcheck_can_return_false():
    assert gg.gradcheck(lambda t: _bad_square(t), [np.array([1.0])], raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # first derivative right, second wrong: vjp uses a detached x, so d/dx of the gradient is lost
    wrong = primitive("bad_second_for_test", forward=lambda xp, x: x * x * x,
                      vjp=lambda g, out, x: (g * 3.0 * gg.tensor(x.data) ** 2,), register=False)
    x = [np.array([0.7, -1.1])]
    assert gg.gradcheck(wrong, x)
    with pytest.raises(GradcheckError):
        gg.gradgradcheck(wrong, x)


def test_large_inputs_use_random_directions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 20))
    assert gg.gradcheck(lambda t: gg.tanh(t) * t, [x])
    with pytest.raises(GradcheckError, match="direction"):
        gg.gradcheck(lambda t: _bad_square(t), [x])


def test_numerical_grad():
    grads = gg.numerical_grad(lambda a, b: a * b, [np.array([2.0, 3.0]), np.array([5.0, 7.0])])
    np.testing.assert_allclose(grads[0], [5.0, 7.0], rtol=1e-6)
    np.testing.assert_allclose(grads[1], [2.0, 3.0], rtol=1e-6)

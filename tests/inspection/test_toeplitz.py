import numpy as np
import pytest

import graphgrad as gg
from graphgrad.composites.conv import conv2d
from graphgrad.inspection import ModelError, conv_matrix


@pytest.mark.parametrize("stride, padding, dilation", [
    (1, 0, 1), (2, 1, 1), (1, 2, 2), ((2, 1), (0, 1), (1, 2))])
def test_the_matrix_times_the_flattened_input_equals_conv2d(stride, padding, dilation):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 2))
    x = rng.standard_normal((2, 7, 6))
    matrix = conv_matrix(w, x.shape, stride, padding, dilation)
    y = conv2d(gg.tensor(x[None]), gg.tensor(w), stride=stride, padding=padding,
               dilation=dilation)
    np.testing.assert_allclose(matrix @ x.ravel(), y.numpy().ravel(), atol=1e-12)
    assert matrix.shape == (y.numpy().size, x.size)


def test_rows_are_offset_copies_of_the_kernel():
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    matrix = conv_matrix(w, (1, 5, 5))
    assert matrix.shape == (9, 25)
    for row in matrix:                          # no padding: every row holds all 9 taps
        np.testing.assert_array_equal(np.sort(row[row != 0]), np.arange(1.0, 10.0))
    # moving one output to the right shifts the row by one input pixel (Toeplitz structure)
    np.testing.assert_array_equal(matrix[1, 1:], matrix[0, :-1])
    assert np.count_nonzero(matrix) == 9 * 9


def test_the_wrong_channel_count_is_named():
    with pytest.raises(ModelError, match="C = 2"):
        conv_matrix(np.ones((1, 2, 3, 3)), (3, 5, 5))

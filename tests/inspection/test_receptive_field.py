import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.inspection import receptive_field, receptive_fields


def _stack(dilations, size=40, pool_after=(), pool=nn.MaxPool2d):
    rng = np.random.default_rng(0)
    layers = []
    for index, d in enumerate(dilations):
        layers += [nn.Conv2d(1, 1, 3, padding=d, dilation=d, rng=rng, dtype="float64"), nn.ReLU()]
        if index in pool_after:
            layers.append(pool(2))
    side = size // 2 ** len(pool_after)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(side * side, 2, dtype="float64"))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_k_stacked_3x3_convs_see_2k_plus_1_pixels(k):
    field = receptive_field(_stack([1] * k), (1, 40, 40), layer=str(2 * k - 2))
    assert field.size == (2 * k + 1, 2 * k + 1) and field.jump == (1, 1)
    assert field.start == (-k, -k)                     # padding k pixels before


def test_dilation_1_2_4_grows_the_field_exponentially():
    fields = receptive_fields(_stack([1, 2, 4, 8]), (1, 40, 40))
    assert [fields[str(i)].size[0] for i in (0, 2, 4, 6)] == [3, 7, 15, 31]   # 2^(k+1) - 1
    assert fields["output"].whole_input


def test_pooling_multiplies_the_jump():
    fields = receptive_fields(_stack([1, 1], pool_after=(0,)), (1, 40, 40))
    assert fields["2"].size == (4, 4) and fields["2"].jump == (2, 2)   # 3x3 conv, 2x2 pool
    assert fields["3"].size == (8, 8) and fields["3"].jump == (2, 2)   # + 3x3 conv: 4 + 2*2


def _gradient_support(model, layer_index, shape, unit):
    """The input pixels that reach one unit, found by backpropagation (independent of the graph
    walk): rows and columns where d unit / d x is non-zero, for a random input."""
    x = gg.tensor(np.abs(np.random.default_rng(1).standard_normal(shape)) + 0.1,
                  requires_grad=True)
    h = x
    for layer in list(model)[:layer_index + 1]:
        h = layer(h)
    h[(0, 0) + unit].backward()
    rows, cols = np.nonzero(np.abs(x.grad.numpy()[0, 0]) > 0)
    return (rows.min(), rows.max() + 1), (cols.min(), cols.max() + 1)


def test_the_field_is_where_the_gradient_reaches():
    # average pooling and positive weights and inputs: every pixel of the field really reaches
    # the unit (max pooling would pass only each window's winner: a subset of the field)
    model = _stack([1, 2, 1], size=24, pool_after=(0,), pool=nn.AvgPool2d)
    for index in (3, 5):
        for p in model.parameters():       # all-positive weights: no accidental cancellation
            p.data = np.abs(p.data) + 0.1
        field = receptive_field(model, (1, 24, 24), layer=str(index))
        unit = (5, 6)
        rows, cols = field.window(*unit)
        assert _gradient_support(model, index, (1, 1, 24, 24), unit) == (
            (rows.start, rows.stop), (cols.start, cols.stop))


def test_plain_functions_are_listed_by_op_selector():
    w = gg.tensor(np.ones((1, 1, 3, 3)))
    from graphgrad.composites.conv import conv2d

    def model(x):
        return conv2d(conv2d(x, w, dilation=2), w).reshape((x.shape[0], -1))

    fields = receptive_fields(model, (1, 12, 12))
    assert fields["conv:0"].size == (5, 5) and fields["conv:1"].size == (7, 7)

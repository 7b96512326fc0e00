"""Issue 12, renderer side: pictures that print the right numbers and fit a 16:9 slide.

Folded constants exactly, composites under their own name, every channel's numbers for lecture
sized volumes, layouts measured through the real `dot`, inputs in creation order, a legend that
explains only what is drawn, and errors for `expand=` typos.
"""

import io
import re
import warnings

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn
from graphgrad.viz.layout import MAX_ASPECT, TooLargeWarning
from graphgrad.viz.labels import format_constant, reciprocal_of

from .conftest import neuron, requires_dot

GATE = re.compile(r'POINT-SIZE="1[24]">([^<]*)</FONT>')


def gates(dot) -> list[str]:
    return GATE.findall(dot.source)


def png_size(dot) -> tuple[int, int]:
    from PIL import Image

    from graphgrad.viz.render import dot_bytes

    return Image.open(io.BytesIO(dot_bytes(dot, "png"))).size


def positions(dot) -> dict[str, tuple[float, float]]:
    """Node centres (inches) of dot's layout."""
    out = {}
    for line in dot.pipe(format="plain").decode().splitlines():
        parts = line.split()
        if parts[0] == "node":
            out[parts[1]] = (float(parts[2]), float(parts[3]))
    return out


# ---------------------------------------------------------------- constants and composite names


def test_folded_constants_print_exactly():
    a = gg.tensor(2.0, requires_grad=True, name="a")
    f = (a * 0.5 + 0.25) * 1.5 - 0.1 + a / 3
    assert gates(gg.viz.draw(f, style="circuit", grads=True)) == [
        "*0.5", "+0.25", "*1.5", "−0.1", "/3", "+"]


@pytest.mark.parametrize("value, text, n", [
    (np.float32(0.1), "0.1", None), (np.float64(0.1), "0.1", None), (0.5, "0.5", None),
    (1 / 3, "0.3333333333333333", 3), (np.float32(1 / 3), "0.33333334", 3), (-1 / 7, None, -7),
    (1e-8, "1e-8", None), (2.0, "2", None), (0.1 + 1e-12, None, None),
])
def test_constant_text_reads_back_as_the_same_number(value, text, n):
    a = np.asarray(value)
    out = format_constant(a)
    assert a.dtype.type(out) == a  # round-trips in its own dtype
    assert text is None or out == text
    assert reciprocal_of(a) == n


def test_mean_and_unit_multiply_gates():
    x = gg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, name="x")
    m = x.mean()  # a multiply by 1/6: drew as "*0"
    assert "/6" in gates(gg.viz.draw(m, style="circuit", grads=True))
    one = x.sum() * 1.0
    assert "×1 (no-op)" in gates(gg.viz.draw(one, style="circuit", grads=True))


def test_collapsed_composites_show_their_own_name():
    x = gg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True, name="x")
    loss = gg.cross_entropy(x, np.array([0, 1, 3]))
    assert gates(gg.viz.draw(loss, style="circuit", grads=True))[-1] == "cross_entropy"
    source = gg.viz.draw(loss, grads=True).source
    assert "<B>cross_entropy</B>" in source and "<B>*</B>" not in source
    a = gg.tensor(0.5, requires_grad=True, name="a")
    with gg.expand_composites():
        s = gg.sigmoid(a)
    assert gates(gg.viz.draw(s, style="circuit", grads=True)) == ["σ"]
    # opened, its mean over 3 rows reads /3
    assert "/3" in gates(gg.viz.draw(loss, style="circuit", grads=True, expand=True))


# ---------------------------------------------------------------- numbers of small volumes


@pytest.mark.parametrize("shape, tables", [((1, 3, 7, 7), 3), ((2, 3, 3, 3), 6), ((2, 8, 8), 2),
                                           ((12, 2, 2), 12), ((2, 2, 6, 6), 4), ((2, 2), 1)])
def test_small_volumes_print_one_table_per_channel(shape, tables):
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 4 - 1
    x = gg.tensor(values, requires_grad=True, name="v")
    y = x * 0.3
    y.name = "y"
    source = gg.viz.draw(y, grads=True).source
    node = next(line for line in source.splitlines() if line.strip().startswith(f"n{x.seq} "))
    for number in ("-1.000", "-0.750", f"{values.max():.3f}"):
        assert f">{number}</TD>" in node  # values
    assert node.count(">0.300</TD>") == values.size  # the gradient of y = 0.3 x, every element
    if len(shape) > 2:
        first = "&#91;0, 0&#93;" if len(shape) == 4 else "&#91;0&#93;"  # [0, 0], escaped
        assert node.count(first) == 2  # value and grad grids
        assert len(re.findall(r"&#91;[\d, ]+&#93;</FONT>", node)) == 2 * tables


@pytest.mark.parametrize("shape", [(1, 3, 9, 9), (13, 2, 2), (1, 2, 3, 20), (4, 1, 8, 8)])
def test_larger_volumes_print_statistics(shape):
    x = gg.tensor(np.ones(shape), requires_grad=True, name="big")
    source = gg.viz.draw(x * 2.0, grads=True).source
    node = next(line for line in source.splitlines() if line.strip().startswith(f"n{x.seq} "))
    assert "μ" in node and "</TD></TR></TABLE></TD>" not in node.split("μ")[0][-200:]


def test_whole_numbers_print_without_decimals_in_tables():
    w = gg.tensor(np.array([[[-1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, -1.0, 0.0]]]),
                  requires_grad=True, name="w")
    source = gg.viz.draw(w * 1.5, show="value").source
    node = next(line for line in source.splitlines() if line.strip().startswith(f"n{w.seq} "))
    node = node.split("tooltip=")[0]
    assert ">-1</TD>" in node and ">0</TD>" in node and ".000" not in node


def test_thumbnails_decorate_every_node_with_a_picture(tmp_path):
    model = nn.LeNet(rng=0).eval()
    images = gg.tensor(np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype("float32"),
                       name="images")
    loss = gg.cross_entropy(model(images), np.array([1, 2, 3, 4]))
    loss.backward(retain_graph=True)
    view = gg.viz.trace(loss)
    source = gg.viz.draw(view, thumbnails=True, thumbnail_dir=str(tmp_path)).source
    pictured = [n for n in view.nodes if len(n.shape) >= 2 and n.size >= 16]
    assert len(pictured) >= 8
    for node in pictured:
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{node.id} "))
        assert line.count("<IMG") == (2 if node.grad is not None else 1), node.name


# ---------------------------------------------------------------- slides


def lenet_step():
    """As `graphgrad demo` draws it: a batch of 8, modules collapsed."""
    model = nn.LeNet(rng=0)
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.standard_normal((8, 1, 8, 8)).astype("float32"))
    loss = gg.cross_entropy(model(x), rng.integers(0, 10, 8))
    loss.backward(retain_graph=True)
    return loss


def mlp_loss():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1))
    x = gg.tensor(rng.standard_normal((4, 2)).astype("float32"), name="x")
    y = gg.tensor(rng.standard_normal((4, 1)).astype("float32"), name="y")
    loss = gg.mse_loss(model(x), y)
    loss.backward(retain_graph=True)
    return loss


@requires_dot
@pytest.mark.parametrize("build, kwargs", [
    (lenet_step, dict(style="graph", depth=1, title="one training step of LeNet")),
    (mlp_loss, dict(expand=True)),
    (mlp_loss, dict(expand=True, style="circuit")),
])
def test_training_pictures_fit_a_slide(build, kwargs):
    w, h = png_size(gg.viz.draw(build(), **kwargs))  # was 817x3647 and 8736x1114
    assert max(w, h) / min(w, h) <= MAX_ASPECT, (w, h)


@requires_dot
def test_a_huge_chain_is_folded_and_says_how_to_see_more():
    x = gg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(3000):
        y = y * 1.0001
    with pytest.warns(TooLargeWarning, match="max_nodes=None"):
        dot = gg.viz.draw(y, style="circuit")
    assert "max_nodes=None" in dot.source and "nodes not drawn" in dot.source  # in the picture
    w, h = png_size(dot)  # was a blank 32767x6 bitmap
    assert h > 300 and max(w, h) / min(w, h) <= MAX_ASPECT
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        everything = gg.viz.trace(y)
        assert len(everything.nodes) == 6001  # the option that shows more: max_nodes=None
    with pytest.raises(ValueError, match="max_nodes"):
        gg.viz.draw(y, max_nodes=0)


@requires_dot
@pytest.mark.parametrize("style", ["circuit", "graph"])
def test_inputs_in_creation_order(style):
    f, leaves = neuron()
    x, y, z = (gg.tensor(v, requires_grad=True, name=n)
               for v, n in ((-2., "x"), (5., "y"), (-4., "z")))
    g = (x + y) * z
    g.backward(retain_graph=True)
    p, q, r, s = (gg.tensor(v, requires_grad=True, name=n)
                  for v, n in ((3., "x"), (-4., "y"), (2., "z"), (-1., "w")))
    h = 2 * (p * q + gg.maximum(r, s))
    h.backward(retain_graph=True)
    for root, names in ((f, list(leaves.values())), (g, [x, y, z]), (h, [p, q, r, s])):
        for rankdir in ("LR", "TB"):
            pos = positions(gg.viz.draw(root, style=style, rankdir=rankdir))
            coords = [pos[f"n{t.seq}"] for t in names]
            if rankdir == "LR":  # top to bottom: y decreasing
                assert [c[1] for c in coords] == sorted((c[1] for c in coords), reverse=True)
            else:
                assert [c[0] for c in coords] == sorted(c[0] for c in coords)


def test_title_on_top_and_legend_lists_only_drawn_gates():
    f, _ = neuron()
    dot = gg.viz.draw(f, style="circuit", gates=True, title="the neuron")
    assert 'labelloc=t' in dot.source
    assert dot.source.index("the neuron") < dot.source.index("forward value")
    assert "mul: switches" in dot.source and "max: routes" not in dot.source


def test_exact_zero_of_max_is_not_vanishing_and_dot_is_explained():
    x, y, z, w = (gg.tensor(v, requires_grad=True, name=n)
                  for v, n in ((3., "x"), (-4., "y"), (2., "z"), (-1., "w")))
    f = 2 * (x * y + gg.maximum(z, w))
    f.backward(retain_graph=True)
    source = gg.viz.draw(f, style="circuit", gates=True).source
    assert "vanishing" not in source and "max: routes" in source and "exactly 0" in source
    c = gg.tensor(5.0, name="c")  # data: no gradient, drawn "·"
    g = (x * c) * y
    g.backward(retain_graph=True)
    source = gg.viz.draw(g, style="circuit").source
    assert "does not require grad" in source


def test_expand_typo_lists_what_exists():
    f, _ = neuron(composite=True)
    with pytest.raises(ValueError, match=r"'sigmiod'.*'sigmoid'"):
        gg.viz.draw(f, expand="sigmiod")
    with pytest.raises(ValueError, match="draw\\(\\)"):
        gg.viz.draw(lenet_step(), expand=["conv1", "cnov"])
    gg.viz.draw(f, expand="sigmoid")  # a real name still works

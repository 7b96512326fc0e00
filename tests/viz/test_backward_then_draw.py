"""Issue #12: `backward()` then draw, the order every micrograd and PyTorch user tries first.

The four circuits of lecture seed 001, each drawn after a plain `backward()` (no retain_graph),
must show every value and gradient the notes print. The expected numbers are worked by hand from
the notes (seed 001: "q becomes 3, f becomes -12, gradient on z becomes 3, on q -4"; the sigmoid
neuron w0=2, x0=-1, w1=-3, x1=-2, w2=-3 gives 0.73 and the input gradients -0.20, 0.39, -0.39,
-0.59; the max circuit routes its gradient to the larger input), never computed by graphgrad.
"""

import html
import re

import pytest

import graphgrad as gg
from .conftest import requires_dot
from .test_circuit import wire_pairs


def leaves(**values):
    return {k: gg.tensor(v, requires_grad=True, name=k) for k, v in values.items()}


def add_mul():
    t = leaves(x=-2.0, y=5.0, z=-4.0)
    f = (t["x"] + t["y"]) * t["z"]
    # (value, gradient) on every wire, by hand: q = 3, f = -12; df/dz = q = 3, df/dq = z = -4
    wires = [("-2.00", "-4.00"), ("5.00", "-4.00"), ("-4.00", "3.00"), ("3.00", "-4.00"),
             ("-12.00", "1.00")]
    return f, wires


def neuron_gates():
    t = leaves(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    f = 1 / (1 + gg.exp(-(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"])))
    # forward: -2, 6, 4, 1, -1, 0.37, 1.37, 0.73; backward: 1, -0.53, -0.53, -0.20, 0.20 ...
    wires = [("2.00", "-0.20"), ("-1.00", "0.39"), ("-3.00", "-0.39"), ("-2.00", "-0.59"),
             ("-3.00", "0.20"), ("-2.00", "0.20"), ("6.00", "0.20"), ("4.00", "0.20"),
             ("1.00", "0.20"), ("-1.00", "-0.20"), ("0.37", "-0.53"), ("1.37", "-0.53"),
             ("0.73", "1.00")]
    return f, wires


def neuron_sigma():
    t = leaves(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    f = gg.sigmoid(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"])
    # the sigma gate: input 1.00, local gradient (1 - 0.73) 0.73 = 0.20
    wires = [("2.00", "-0.20"), ("-1.00", "0.39"), ("-3.00", "-0.39"), ("-2.00", "-0.59"),
             ("-3.00", "0.20"), ("-2.00", "0.20"), ("6.00", "0.20"), ("4.00", "0.20"),
             ("1.00", "0.20"), ("0.73", "1.00")]
    return f, wires


def max_circuit():
    t = leaves(x=3.0, y=-4.0, z=2.0, w=-1.0)
    f = 2 * (t["x"] * t["y"] + gg.maximum(t["z"], t["w"]))
    # xy = -12, max = 2, sum = -10, f = -20; the *2 gate sends 2 to the add, which distributes
    # it; mul switches (x gets 2 * -4 = -8, y gets 2 * 3 = 6); max routes (z 2, w 0)
    wires = [("3.00", "-8.00"), ("-4.00", "6.00"), ("2.00", "2.00"), ("-1.00", "0.00"),
             ("-12.00", "2.00"), ("2.00", "2.00"), ("-10.00", "2.00"), ("-20.00", "1.00")]
    return f, wires


CIRCUITS = {"add_mul": add_mul, "neuron_gates": neuron_gates, "neuron_sigma": neuron_sigma,
            "max": max_circuit}


EXPAND = {"add_mul": True, "neuron_gates": True, "neuron_sigma": False, "max": True}  # σ: one gate


def graph_numbers(source: str) -> list[str]:
    return re.findall(r"<B>(-?\d+\.\d+)</B>", source)


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_circuit_after_plain_backward_shows_every_value_and_gradient(name):
    f, wires = CIRCUITS[name]()
    f.backward()
    source = gg.viz.draw(f, style="circuit", expand=EXPAND[name]).source
    assert wire_pairs(source) == sorted(wires)
    assert "call backward()" not in source and "freed" not in source


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_graph_style_after_plain_backward_shows_every_value_and_gradient(name):
    f, wires = CIRCUITS[name]()
    f.backward()
    numbers = graph_numbers(gg.viz.draw(f, style="graph", precision=2).source)
    for value, grad in wires:  # each number as many times as its wires need
        assert value in numbers and grad in numbers
    assert len(gg.viz.trace(f).nodes) > 3  # the whole graph, not the root alone


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_drawing_after_backward_equals_drawing_a_retained_graph(name):
    kept, _ = CIRCUITS[name]()
    kept.backward(retain_graph=True)
    released, _ = CIRCUITS[name]()
    released.backward()
    assert wire_pairs(gg.viz.draw(released, style="circuit", expand=EXPAND[name]).source) == \
        wire_pairs(gg.viz.draw(kept, style="circuit", expand=EXPAND[name]).source)


@requires_dot
@pytest.mark.parametrize("style", ["circuit", "graph"])
def test_circuits_after_backward_render_through_dot(style, tmp_path):
    for name, build in CIRCUITS.items():
        f, wires = build()
        f.backward()
        svg = gg.viz.draw(f, style=style, precision=2,
                          expand=EXPAND[name]).pipe(format="svg").decode()
        texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        for value, grad in wires:
            assert value in texts and grad in texts, (name, value, grad)


@requires_dot
def test_grads_true_and_animation_after_plain_backward(tmp_path):
    """The issue's repro: both raised TypeError from the viewer's replay on a freed graph."""
    f, wires = add_mul()
    f.backward()
    assert wire_pairs(gg.viz.draw(f, style="circuit", grads=True).source) == sorted(wires)
    out = gg.viz.animate_backward(f, tmp_path / "b.gif", dpi=30)
    assert (tmp_path / "b.gif").stat().st_size > 0 and out.endswith("b.gif")


def test_render_cli_of_a_script_that_calls_backward(tmp_path, monkeypatch):
    script = tmp_path / "lecture.py"
    script.write_text("import graphgrad as gg\n"
                      "x = gg.tensor(-2.0, requires_grad=True, name='x')\n"
                      "y = gg.tensor(5.0, requires_grad=True, name='y')\n"
                      "z = gg.tensor(-4.0, requires_grad=True, name='z')\n"
                      "f = (x + y) * z\n"
                      "f.backward()\n")
    monkeypatch.chdir(tmp_path)
    from graphgrad.cli.render import load_target

    f = load_target("lecture.py:f")
    _, wires = add_mul()
    assert wire_pairs(gg.viz.draw(f, style="circuit").source) == sorted(wires)

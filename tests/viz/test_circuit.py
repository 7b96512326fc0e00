"""The sigmoid circuit of the lecture notes, in both styles: values and gradients in the DOT."""

import math
import re
from pathlib import Path

import pytest

import graphgrad as gg
from graphgrad.viz.common import GRAD_COLOR, VALUE_COLOR

from .conftest import NEURON, neuron, requires_dot


def expected_wires():
    """(value, gradient) on every wire, from closed-form formulas (not from graphgrad)."""
    w0, x0, w1, x1, w2 = (NEURON[k] for k in ("w0", "x0", "w1", "x1", "w2"))
    z = w0 * x0 + w1 * x1 + w2
    e = math.exp(-z)
    f = 1.0 / (1.0 + e)
    df_dden = -1.0 / (1.0 + e) ** 2  # d(1/u)/du at u = 1 + e
    dz = df_dden * e * -1.0  # through exp and *-1: equals f(1-f)
    assert abs(dz - f * (1 - f)) < 1e-12
    wires = [
        (w0, dz * x0), (x0, dz * w0), (w1, dz * x1), (x1, dz * w1), (w2, dz),  # inputs
        (w0 * x0, dz), (w1 * x1, dz), (w0 * x0 + w1 * x1, dz),  # into the adds
        (z, dz), (-z, df_dden * e), (e, df_dden), (1 + e, df_dden), (f, 1.0),  # the chain out
    ]
    return sorted((f"{v:.2f}", f"{g:.2f}".replace("-0.00", "0.00")) for v, g in wires)


def wire_pairs(source: str):
    pairs = []
    for line in source.splitlines():
        if re.match(r"\s*w_n\d+_\w+ \[", line):
            value = re.search(rf'<FONT COLOR="{VALUE_COLOR}">([^<]*)</FONT>', line).group(1)
            grad = re.search(rf'<FONT COLOR="{GRAD_COLOR}">([^<]*)</FONT>', line).group(1)
            pairs.append((value, grad))
    return sorted(pairs)


def test_expected_numbers_are_the_lectures():
    pairs = dict(expected_wires())
    assert ("0.73", "1.00") in expected_wires()
    for value, grad in [("2.00", "-0.20"), ("-1.00", "0.39"), ("-3.00", "-0.39"),
                        ("-2.00", "-0.59")]:
        assert (value, grad) in expected_wires()
    assert pairs["0.37"] == "-0.53"


def test_circuit_dot_holds_every_value_and_gradient(circuit):
    f, _ = circuit
    source = gg.viz.draw(f, style="circuit").source
    assert wire_pairs(source) == expected_wires()


def test_circuit_gate_symbols(circuit):
    f, _ = circuit
    source = gg.viz.draw(f, style="circuit").source
    gates = re.findall(r'\bn\d+ \[label=<<FONT POINT-SIZE="\d+">([^<]+)</FONT>', source)
    assert sorted(gates) == sorted(["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"])
    for name in NEURON:  # named input leaves
        assert f"<B>{name}</B>" in source


def test_graph_style_holds_every_node_value_and_gradient(circuit):
    f, leaves = circuit
    source = gg.viz.draw(f, style="graph", precision=2).source
    for value, grad in expected_wires():
        assert f"<B>{value}</B>" in source
        assert f"<B>{grad}</B>" in source
    for name in leaves:
        assert f"<B>{name}</B>" in source
    for op in ("mul", "add", "neg", "exp", "reciprocal"):
        assert op in source


def test_composite_collapses_to_one_node_and_expands_on_request():
    f, _ = neuron(composite=True)
    collapsed = gg.viz.trace(f)
    assert [n.op for n in collapsed.nodes if n.op not in (None,)].count("sigmoid") == 1
    expanded = gg.viz.trace(f, expand="sigmoid")
    ops = [n.op for n in expanded.nodes]
    assert "sigmoid" not in ops and {"neg", "exp", "add", "reciprocal"} <= set(ops)
    assert [c.name for c in expanded.clusters] == ["sigmoid"]
    source = gg.viz.draw(f, style="circuit", expand=True).source
    assert wire_pairs(source) == expected_wires()


def test_before_backward_gradients_read_not_computed_yet():
    f, _ = neuron(backward=False)
    graph = gg.viz.draw(f, style="graph").source
    assert "grad: not computed yet" in graph
    assert "grad </FONT>" not in graph  # no gradient numbers at all, in particular no zeros
    circuit = gg.viz.draw(f, style="circuit").source
    assert "not computed yet" in circuit
    pairs = _muted_pairs(circuit)
    assert len(pairs) == len(expected_wires())
    assert all(grad == "?" for _, grad in pairs)


def _muted_pairs(source):
    out = []
    for line in source.splitlines():
        if re.match(r"\s*w_n\d+_\w+ \[", line):
            cells = re.findall(r'<FONT COLOR="#[0-9a-f]{6}">([^<]*)</FONT>', line)
            out.append((cells[0], cells[1]))
    return out


def test_grads_true_computes_on_copies_without_backward():
    f, leaves = neuron(backward=False)
    source = gg.viz.draw(f, style="circuit", grads=True).source
    assert wire_pairs(source) == expected_wires()
    assert all(t.grad is None for t in leaves.values())  # nothing written into the graph


def test_dot_ids_are_deterministic():
    first = gg.viz.draw(neuron()[0], style="circuit").source
    second = gg.viz.draw(neuron()[0], style="circuit").source
    renumber = lambda s: re.sub(r"n\d+", "n", s)  # seq numbers differ per build
    assert renumber(first) == renumber(second)
    f = neuron()[0]
    assert gg.viz.draw(f).source == gg.viz.draw(f).source


@requires_dot
@pytest.mark.parametrize("style", ["circuit", "graph"])
def test_renders_svg_png_pdf_through_dot(tmp_path, circuit, style):
    f, _ = circuit
    written = gg.viz.save(gg.viz.draw(f, style=style), tmp_path / style)
    assert [p.rsplit(".", 1)[1] for p in written] == ["svg", "png", "pdf"]
    svg = (tmp_path / f"{style}.svg").read_text()
    assert "<svg" in svg and "0.73" in svg and "xlink:title" in svg  # tooltips carried
    assert (tmp_path / f"{style}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / f"{style}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


@requires_dot
def test_digraph_render_and_path_argument(tmp_path, circuit):
    f, _ = circuit
    dot = gg.viz.draw(f, style="circuit", path=tmp_path / "c", formats=("png",))
    assert (tmp_path / "c.png").exists()
    out = dot.render(tmp_path / "r", format="svg")
    assert out.endswith(".svg") and "0.73" in Path(out).read_text()


def test_bad_arguments_name_what_is_valid(circuit):
    f, _ = circuit
    with pytest.raises(ValueError, match="valid styles"):
        gg.viz.draw(f, style="fancy")
    with pytest.raises(ValueError, match="valid items"):
        gg.viz.draw(f, show=("value", "hessian"))
    with pytest.raises(ValueError, match="rankdir"):
        gg.viz.draw(f, rankdir="diagonal")
    with pytest.raises(TypeError, match="Tensors"):
        gg.viz.draw(3.0)
    with pytest.raises(ValueError, match="depth"):
        gg.viz.draw(f, depth=-1)

"""Issue 13 item 10: names holding Graphviz escString escapes (\\N node id, \\G graph name, \\E,
\\L, \\T, \\H) are drawn as written, in labels and tooltips, in both styles."""

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

import graphgrad as gg

from .conftest import requires_dot

ESCAPES = ["\\N", "\\G", "\\E", "\\L", "\\T", "\\H", "a\\Nb", "\\\\N"]
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}title"


@pytest.mark.parametrize("name", ESCAPES)
def test_escapes_are_doubled_in_the_dot_source(name):
    x = gg.tensor(2.0, requires_grad=True, name=name)
    source = gg.viz.draw(x * 3.0, style="circuit", grads=True).source
    label = next(line for line in source.splitlines() if line.strip().startswith(f"n{x.seq} "))
    # every backslash as two entities in the HTML label (dot halves them), four in the tooltip
    assert "&#92;&#92;" * name.count("\\") in label.split("tooltip=")[0]
    assert "\\" * 4 * name.count("\\") in label.split("tooltip=")[1]


@requires_dot
@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("style", ["circuit", "graph"])
def test_escapes_render_verbatim(name, style):
    x = gg.tensor(2.0, requires_grad=True, name=name)
    y = x * 3.0
    y.name = name + "out"
    dot = gg.viz.draw(y, style=style, grads=True, title=name)
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True,
                         check=True).stdout
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text") if t.text]
    assert name in texts  # the leaf (circuit: its label is the name; graph: the title cell)
    if style == "graph":
        assert name + "out" in texts  # an op result's name (a circuit gate shows its symbol)
    assert texts.count(name) >= 2  # and the picture's title
    titles = [a.get(XLINK).replace("\xa0", " ") for a in root.iter() if a.get(XLINK)]
    assert any(t.startswith(name + "  [param]") for t in titles)  # tooltip verbatim
    assert not any(re.fullmatch(r"n\d+", t) for t in texts)  # \N never became the node id

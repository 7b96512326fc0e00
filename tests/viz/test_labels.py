"""The one escaping helper, number formatting, and hostile names end to end through `dot`."""

import html
import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.viz.labels import escape, format_number, format_shape, stats, summarize

from .conftest import requires_dot

HOSTILE = ['a"b', "<b>bold</b>", "x & y", "{braces}|[x]", "back\\slash\\", 'q\\"', "two\nlines",
           "<<TABLE>>", "]; evil -> node [", "\\N \\G \\l", "tab\there", "nul\x00x"]
names = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=24))


def clean(text: str) -> str:
    """What a name must come out as: XML-invalid characters replaced, line ends normalised."""
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]", "\ufffd", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


@given(names)
def test_html_escape_round_trips_and_has_no_markup(name):
    out = escape(name)
    assert "<" not in out.replace("<BR/>", "") and ">" not in out.replace("<BR/>", "")
    assert '"' not in out and "\\" not in out and "{" not in out
    assert re.fullmatch(r"([^&]|&(amp|lt|gt|quot|#\d+);)*", out.replace("<BR/>", ""))
    # Graphviz halves backslashes after decoding entities (escString): each is written twice
    assert html.unescape(out.replace("<BR/>", "\n")).replace("\\\\", "\\") == clean(name)


@given(names)
def test_dot_escape_is_a_valid_escstring(name):
    out = escape(name, "dot")
    assert "\n" not in out
    unescaped = re.sub(r'\\{4}|\\"|\\n|&amp;',
                       lambda m: {'\\"': '"', "\\n": "\n", "&amp;": "&"}.get(m.group(), "\\"), out)
    assert unescaped == clean(name)
    assert not re.search(r'(?<!\\)(\\\\)*"', out.replace('\\"', ""))  # every quote is escaped


def test_escape_rejects_unknown_context():
    with pytest.raises(ValueError, match="valid contexts"):
        escape("x", "latex")


@requires_dot
@settings(max_examples=15)
@given(name=names)
def test_hostile_names_survive_dot_without_injection(name):
    """The name is used as a leaf name, an op result name and a module name; `dot` must parse
    the file, the SVG must be well-formed, hold exactly the expected nodes, and carry the name
    verbatim in the tooltip."""
    x = gg.tensor([1.0, 2.0], requires_grad=True, name=name)
    with gg.name_scope(name):
        y = (x * 3.0).sum()
    y.name = name
    for style in ("graph", "circuit"):
        dot = gg.viz.draw(y, style=style, grads=True, expand=True, title=name)
        result = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True,
                                check=False)
        assert result.returncode == 0, result.stderr.decode()
        root = ET.fromstring(result.stdout)
        ns = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}
        groups = root.findall(".//svg:g[@class='node']", ns)
        ids = sorted(g.find("svg:title", ns).text for g in groups)
        declared = re.findall(r"^\s*((?:n\d|w_n|sn)\w*) \[", dot.source, re.MULTILINE)
        assert ids == sorted(d for d in declared if not re.fullmatch(r"n\d+_out", d))  # invisible
        titles = [a.get("{http://www.w3.org/1999/xlink}title").replace("\xa0", " ")
                  for a in root.iter() if a.get("{http://www.w3.org/1999/xlink}title")]
        first_lines = [t.split("  [")[0] for t in titles]
        wanted = clean(name).replace("\xa0", " ")  # SVG writes runs of spaces with no-break spaces
        assert wanted in first_lines or any(wanted in t for t in titles)


def test_format_number_is_lecture_style():
    assert format_number(0.7310585786) == "0.73"
    assert format_number(-0.19661193) == "-0.20"
    assert format_number(-0.0001) == "-1.0e-04"
    assert format_number(-0.0) == "0.00"
    assert format_number(123456.0) == "1.2e+05"
    assert format_number(float("nan")) == "nan" and format_number(float("-inf")) == "-inf"
    assert format_shape(()) == "scalar" and format_shape((3,)) == "(3,)"


def test_stats_and_summary():
    a = np.array([[3.0, -4.0], [0.0, np.inf]])
    s = stats(a)
    assert s.nonfinite == 1 and s.norm == 5.0 and s.min == -4.0 and s.max == 3.0
    assert summarize(None) == "not computed yet"
    assert summarize(np.array(0.5)) == "0.50"
    assert summarize(np.array([1.0, 2.0])) == "[1.00, 2.00]"

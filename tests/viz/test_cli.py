"""`graphgrad render`: a lecturer draws a script's graph without a Python session."""

import html
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphgrad.__main__ import main

from .conftest import requires_dot

ROOT = Path(__file__).resolve().parents[2]


@requires_dot
def test_render_the_lecture_script_to_svg(tmp_path, capsys):
    out = tmp_path / "circuit.svg"
    code = main(["render", str(ROOT / "examples" / "sigmoid_circuit.py"), "-o", str(out),
                 "--style", "circuit"])
    text = html.unescape(out.read_text())  # SVG writes "-" as "&#45;"
    assert code == 0 and "0.73" in text
    for number in ("-0.20", "0.39", "-0.39", "-0.59"):
        assert number in text  # gradients computed on copies by default


def test_module_function_target_and_dot_output(tmp_path):
    out = tmp_path / "g.dot"
    code = main(["render", "tests.viz.render_target:two_heads", "-o", str(out), "--grads", "none"])
    assert code == 0
    source = out.read_text()
    assert source.startswith("digraph") and "loss_a" in source and "loss_b" in source


def test_script_with_named_function(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import graphgrad as gg\n"
                      "def mine():\n"
                      "    x = gg.tensor(3.0, requires_grad=True, name='x')\n"
                      "    return x * x\n")
    out = tmp_path / "s.dot"
    assert main(["render", f"{script}:mine", "-o", str(out)]) == 0
    assert "<B>x</B>" in out.read_text() and "6.000" in out.read_text()


def test_errors_say_what_is_valid(tmp_path, capsys):
    script = tmp_path / "empty.py"
    script.write_text("x = 1\n")
    assert main(["render", str(script), "-o", str(tmp_path / "a.svg")]) == 2
    assert "graph / build / main" in capsys.readouterr().err
    assert main(["render", str(script), "-o", str(tmp_path / "a.tiff")]) == 2
    assert ".svg" in capsys.readouterr().err
    assert main(["render", "no_such_module_xyz:f", "-o", str(tmp_path / "a.svg")]) == 2
    assert "cannot import" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["render", "--help"]])
def test_help_runs_as_a_program(args):
    result = subprocess.run([sys.executable, "-m", "graphgrad", *args], capture_output=True,
                            text=True, cwd=ROOT, check=False)
    assert result.returncode == 0 and "module:NAME" in result.stdout


LECTURE = ("import graphgrad as gg\n"
           "x = gg.tensor(-2.0, requires_grad=True, name='x')\n"
           "y = gg.tensor(5.0, requires_grad=True, name='y')\n"
           "z = gg.tensor(-4.0, requires_grad=True, name='z')\n"
           "q = x + y\n"
           "f = q * z\n")


@pytest.mark.parametrize("tail", ["", "f.backward()\n"])
def test_render_draws_the_root_never_an_input(tmp_path, monkeypatch, tail):
    """The issue: `f = (x + y) * z` drew the leaf y (the variable lookup found `y` first)."""
    (tmp_path / "lecture.py").write_text(LECTURE + tail)
    monkeypatch.chdir(tmp_path)
    assert main(["render", "lecture.py", "-o", "a.dot", "--style", "circuit"]) == 0
    source = (tmp_path / "a.dot").read_text()
    assert "-12.00" in source and "<B>x</B>" in source and "<B>y</B>" in source
    assert "3.00" in source  # by hand: q = 3, df/dz = q = 3, df/dx = -4
    assert "-4.00" in source


def test_render_lists_several_roots(tmp_path, monkeypatch, capsys):
    (tmp_path / "two.py").write_text(LECTURE + "g = q * 2.0\n")
    monkeypatch.chdir(tmp_path)
    assert main(["render", "two.py", "-o", "a.dot"]) == 2
    err = capsys.readouterr().err
    assert "several roots" in err and "f, g" in err and "two.py:f" in err
    assert main(["render", "two.py:g", "-o", "a.dot"]) == 0


@requires_dot
def test_render_output_names_the_script_relative_and_is_byte_identical(tmp_path):
    outputs = []
    for folder in ("one", "two/deeper"):
        here = tmp_path / folder
        here.mkdir(parents=True)
        (here / "lecture.py").write_text(LECTURE)
        subprocess.run([sys.executable, "-m", "graphgrad", "render", "lecture.py", "-o", "a.svg",
                        "--style", "circuit"], cwd=here, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})  # a fresh process each
        outputs.append((here / "a.svg").read_bytes())
    assert outputs[0] == outputs[1]
    text = outputs[0].decode()
    assert "created at lecture.py:5" in text and str(tmp_path) not in text

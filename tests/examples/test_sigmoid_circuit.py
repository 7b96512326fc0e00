"""The lecture's sigmoid circuit: gradients equal the closed form σ(1-σ)·input."""

import math
import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sigmoid_circuit.py"


def test_sigmoid_circuit_matches_closed_form(capsys):
    namespace = runpy.run_path(str(EXAMPLE))
    f, inputs = namespace["build"]()
    f.backward()
    w0, x0, w1, x1, w2 = 2.0, -1.0, -3.0, -2.0, -3.0
    sigma = 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
    local = sigma * (1 - sigma)
    expected = {"w0": local * x0, "x0": local * w0, "w1": local * x1, "x1": local * w1, "w2": local}
    assert f.item() == pytest.approx(sigma, rel=1e-6)
    assert f.item() == pytest.approx(0.73, abs=0.005)
    for name, value in expected.items():
        assert inputs[name].grad.item() == pytest.approx(value, rel=1e-5), name
    namespace["main"]()
    printed = capsys.readouterr().out
    for line in ("f = 0.73", "df/dw0 = -0.20", "df/dx0 = +0.39", "df/dw1 = -0.39",
                 "df/dx1 = -0.59", "df/dw2 = +0.20"):
        assert line in printed

"""Shared builders for the visualizer tests."""

import shutil

import pytest

import graphgrad as gg
import graphgrad.viz  # for gg.viz

NEURON = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}  # the lecture's numbers

requires_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def neuron(backward: bool = True, composite: bool = False):
    """f = 1/(1 + exp(-(w0*x0 + w1*x1 + w2))) with the lecture's values; returns (f, leaves)."""
    leaves = {k: gg.tensor(v, requires_grad=True, name=k) for k, v in NEURON.items()}
    z = leaves["w0"] * leaves["x0"] + leaves["w1"] * leaves["x1"] + leaves["w2"]
    f = gg.sigmoid(z) if composite else gg.reciprocal(1.0 + gg.exp(-z))
    if backward:
        f.backward(retain_graph=True)
    return f, leaves


@pytest.fixture
def circuit():
    return neuron()

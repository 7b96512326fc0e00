"""Time to build and to render diagrams of about 100, 1,000 and 10,000 nodes.

    .venv/bin/python benchmarks/bench_viz.py [--sizes 100 1000 10000] [--render-limit 600]

"build" is graphgrad's part: trace (walk, gradient replay on copies, statistics) plus the
graphviz.Digraph construction. "render" is Graphviz's `dot` laying out and writing SVG. The
graph is a ladder of tanh units over a vector of 8: per step two parameters, mul, add, tanh.
Prints a table; never a test.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import numpy as np

import graphgrad as gg
import graphgrad.viz  # noqa: F401


def ladder(nodes: int):
    rng = np.random.default_rng(0)
    h = gg.tensor(rng.standard_normal(8), requires_grad=True, name="x")
    steps = max(1, (nodes - 2) // 5)
    for k in range(steps):
        w = gg.tensor(rng.standard_normal(8) * 0.5 + 1.0, requires_grad=True, name=f"w{k}")
        b = gg.tensor(rng.standard_normal(8) * 0.1, requires_grad=True, name=f"b{k}")
        h = gg.tanh(h * w + b)
    loss = h.sum()
    loss.backward(retain_graph=True)
    return loss


def bench(nodes: int, style: str, render_limit: float) -> dict:
    loss = ladder(nodes)
    start = time.perf_counter()
    view = gg.viz.trace(loss)
    traced = time.perf_counter()
    # every node drawn (no slide folding) and a fixed direction (no layout trials with dot)
    dot = gg.viz.draw(view, style=style, max_nodes=None, rankdir="TB")
    built = time.perf_counter()
    source = dot.source
    render = None
    try:
        t0 = time.perf_counter()
        subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=source.encode(), check=True,
                       timeout=render_limit)
        render = time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        render = float("inf")
    return {"nodes": len(view.nodes), "style": style, "trace": traced - start,
            "digraph": built - traced, "render": render, "dot_kb": len(source) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--styles", nargs="+", default=["graph", "circuit"])
    parser.add_argument("--render-limit", type=float, default=600.0,
                        help="seconds before a dot run is given up (reported as inf)")
    args = parser.parse_args()
    print(f"{'nodes':>7} {'style':>8} {'trace s':>9} {'digraph s':>10} {'build s':>9} "
          f"{'render s':>9} {'DOT KiB':>8}")
    for size in args.sizes:
        for style in args.styles:
            r = bench(size, style, args.render_limit)
            print(f"{r['nodes']:>7} {r['style']:>8} {r['trace']:>9.3f} {r['digraph']:>10.3f} "
                  f"{r['trace'] + r['digraph']:>9.3f} {r['render']:>9.2f} {r['dot_kb']:>8.0f}",
                  flush=True)


if __name__ == "__main__":
    main()

"""`graphgrad render TARGET -o FILE`: draw what a script or a function returns, no Python session.

TARGET is one of
  path/to/script.py             run the script, then draw what its `graph()`, `build()` or
                                `main()` function returns, else the root of its graph: the
                                tensor no other tensor of the script was computed from (never
                                an input); when there are several, they are listed;
  path/to/script.py:NAME        the same script, but draw NAME (called if it is a function);
  package.module:NAME           import the module and draw NAME (called if it is a function).
The drawn value may be a Tensor, a list/tuple holding Tensors (several loss heads; other items
such as a dict of inputs are ignored) or a Digraph. Gradients are computed on copies by default.
The output format follows each -o suffix (.svg, .png, .pdf, .dot); -o may be repeated.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys

from ..errors import GraphgradError

FUNCTIONS = ("graph", "build", "main")
SUFFIXES = ("svg", "png", "pdf", "dot", "gv", "jpg", "gif")


class RenderTargetError(GraphgradError, ValueError):
    """The render target could not be found or did not give something drawable."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "render", help="draw the graph a script or module:function returns",
        description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    parser.add_argument("target", help="script.py, script.py:NAME or package.module:NAME")
    parser.add_argument("-o", "--output", action="append", required=True,
                        help="output file; format from the suffix (svg, png, pdf, dot); repeatable")
    parser.add_argument("--style", choices=("graph", "circuit"), default="graph")
    parser.add_argument("--show", default="value,grad",
                        help="comma list of value, grad, local, flow (default: value,grad)")
    parser.add_argument("--expand", action="append", default=None,
                        help="open a composite or module by name (repeatable); "
                             "'all' opens everything")
    parser.add_argument("--depth", type=int, default=1, help="module levels drawn open (default 1)")
    parser.add_argument("--rankdir", default="auto", choices=("auto", "LR", "TB", "RL", "BT"))
    parser.add_argument("--precision", type=int, default=None)
    parser.add_argument("--grads", choices=("auto", "compute", "none"), default="compute",
                        help="compute (default): gradients computed on copies, the graph is not "
                             "touched; auto: only if backward() has run; none: hide them")
    parser.add_argument("--check", action="store_true", help="gradient-check overlay")
    parser.add_argument("--gates", action="store_true", help="mark add/max/mul gradient behaviour")
    parser.add_argument("--thumbnails", action="store_true", help="heatmaps inside tensor nodes")
    parser.add_argument("--title", default=None)
    parser.set_defaults(run=run)


def _pick(namespace: dict, name: str | None, origin: str):
    if name is not None:
        if name not in namespace:
            raise RenderTargetError(f"{origin} defines no {name!r}")
        value = namespace[name]
        return value() if callable(value) and not _drawable(value) else value
    for fn in FUNCTIONS:
        if callable(namespace.get(fn)):
            return namespace[fn]()
    roots = graph_roots(namespace)
    if len(roots) == 1:
        return next(iter(roots.values()))
    if roots:
        listed = ", ".join(roots)
        raise RenderTargetError(
            f"{origin} has several roots (tensors nothing else was computed from): {listed}; "
            f"name the one to draw: {origin}:{next(iter(roots))}")
    raise RenderTargetError(
        f"{origin}: found nothing to draw; define a function {' / '.join(FUNCTIONS)}() returning "
        f"a Tensor, or compute a tensor from others, or name it: {origin}:NAME")


def graph_roots(namespace: dict) -> dict[str, object]:
    """{names: tensor} of the script's computed tensors that no other of them consumes, in the
    order the script made them (names of one tensor joined by ' = ')."""
    from graphgrad._tensor import Tensor
    from graphgrad.graph import ancestors

    computed: dict[int, tuple[list[str], Tensor]] = {}
    for key, value in namespace.items():
        if isinstance(value, Tensor) and value.op is not None and not key.startswith("_"):
            computed.setdefault(id(value), ([], value))[0].append(key)
    below: set[int] = set()  # creation numbers: a released large node is linked by its husk
    for _, tensor in computed.values():
        below.update(t.seq for t in ancestors([tensor]) if t is not tensor)
    roots = sorted((tensor.seq, names, tensor) for names, tensor in computed.values()
                   if tensor.seq not in below)
    return {" = ".join(names): tensor for _, names, tensor in roots}


def _drawable(value) -> bool:
    from graphgrad._tensor import Tensor

    if isinstance(value, Tensor) or hasattr(value, "source"):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value)


def load_target(target: str):
    """What TARGET designates (see the module docstring), ready to draw."""
    path, _, given = target.partition(":") if not os.path.exists(target) else (target, "", "")
    name = given or None
    if path.endswith(".py") or os.path.exists(path):
        if not os.path.isfile(path):
            raise RenderTargetError(f"script {path!r} not found "
                                    "(TARGET: script.py[:NAME] or module:NAME)")
        folder = os.path.dirname(os.path.abspath(path))
        sys.path.insert(0, folder)
        try:
            namespace = runpy.run_path(path, run_name="__graphgrad_render__")
        finally:
            if sys.path and sys.path[0] == folder:
                sys.path.pop(0)
        return _pick(namespace, name, path)
    if name is None:
        raise RenderTargetError(f"{target!r} is neither a .py file nor module:NAME")
    try:
        module = importlib.import_module(path)
    except ImportError as error:
        raise RenderTargetError(f"cannot import module {path!r}: {error}") from error
    return _pick(vars(module), name, path)


def run(args) -> int:
    from graphgrad import viz
    from graphgrad.atomic import atomic_write_bytes
    from graphgrad.viz.render import save

    for output in args.output:
        suffix = output.rsplit(".", 1)[-1].lower() if "." in os.path.basename(output) else ""
        if suffix not in SUFFIXES:
            print(f"graphgrad render: cannot tell the format of {output!r}; use one of the "
                  f"suffixes {', '.join('.' + s for s in SUFFIXES)}", file=sys.stderr)
            return 2
    try:
        value = load_target(args.target)
    except RenderTargetError as error:
        print(f"graphgrad render: {error}", file=sys.stderr)
        return 2
    if hasattr(value, "source"):
        dot = value
    else:
        from graphgrad._tensor import Tensor

        if not _drawable(value):
            print(f"graphgrad render: {args.target} gave a {type(value).__name__}, not a Tensor, "
                  "a list of Tensors or a Digraph", file=sys.stderr)
            return 2
        # (f, inputs) as returned by a build() function: the Tensors in it are the roots
        roots = [v for v in value if isinstance(v, Tensor)] if isinstance(value, (list, tuple)) \
            else [value]
        expand = None
        if args.expand:
            expand = True if "all" in args.expand else args.expand
        grads: bool | str = "auto" if args.grads == "auto" else args.grads == "compute"
        dot = viz.draw(*roots, style=args.style, show=args.show, expand=expand, depth=args.depth,
                       rankdir=args.rankdir, precision=args.precision, grads=grads,
                       check=args.check, gates=args.gates, thumbnails=args.thumbnails,
                       title=args.title)
    for output in args.output:
        suffix = output.rsplit(".", 1)[-1].lower()
        if suffix in ("dot", "gv"):
            atomic_write_bytes(output, dot.source.encode("utf-8"))
        else:
            save(dot, output, (suffix,))
        print(output)
    return 0

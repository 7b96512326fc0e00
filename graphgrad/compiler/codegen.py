"""Code generation: a traced graph as straight-line Python over the device's array namespace.

One statement per node, in creation order; only what the requested results need is emitted (dead
code removed), a node equal to an earlier one (same gate, same operands, same parameters) reuses
its variable (common subexpressions), and a node computed only from constants made inside the trace
is a constant (folded). The simple gates are written as the expressions their forward is
(`x + y`, `xp.exp(x)`); every other primitive is called as `forward(xp, ...)`. A graph of 0-d
float64 values also gets a Python-float version (`math.exp`), the fastest way CPython computes
a scalar circuit; it falls back to the array version on overflow, division by zero and domain
errors, where NumPy gives inf or nan instead of raising.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field

import numpy as np

from .._primitive import PRIMITIVES
from .._tensor import Tensor
from ..composites.dropouts import dropout_mask

INLINE = {
    "add": "{0} + {1}", "mul": "{0} * {1}", "neg": "-{0}", "reciprocal": "1.0 / {0}",
    "exp": "xp.exp({0})", "log": "xp.log({0})", "sin": "xp.sin({0})", "cos": "xp.cos({0})",
    "maximum": "xp.maximum({0}, {1})", "pow": "xp.pow({0}, {1})", "matmul": "xp.matmul({0}, {1})",
    "less": "{0} < {1}", "less_equal": "{0} <= {1}", "greater": "{0} > {1}",
    "greater_equal": "{0} >= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
}
FLOAT = {
    "add": "{0} + {1}", "mul": "{0} * {1}", "neg": "-{0}", "reciprocal": "1.0 / {0}",
    "exp": "exp({0})", "log": "log({0})", "sin": "sin({0})", "cos": "cos({0})",
    "pow": "pow({0}, {1})",
}
FLOAT_NAMESPACE = {"exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos,
                   "pow": math.pow, "_f64": np.float64}
RANDOM_OPS: set[int] = {id(dropout_mask)}  # ops drawing random numbers: never folded or shared


def identifier(name: str | None, fallback: str) -> str:
    """`name` made a Python identifier ('conv1.weight' -> 'conv1_weight')."""
    if not name:
        return fallback
    cleaned = re.sub(r"\W", "_", str(name))
    if not cleaned or cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = "v_" + cleaned
    return cleaned


def _is_literal(value) -> bool:
    if value is None or type(value) in (bool, int, str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if type(value) is tuple:  # not a NamedTuple: its repr is not valid code here
        return all(_is_literal(v) for v in value)
    return False


def _scalar_literal(data) -> str | None:
    """A 0-d finite number as source text, or None (then it is a named constant)."""
    if not isinstance(data, np.generic) or data.dtype.kind not in "biuf":
        return None
    value = data.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = repr(value)
    return f"({text})" if text.startswith("-") else text


@dataclass
class Graph:
    """Facts about the traced tensors that every generated function shares."""

    start_seq: int                                   # leaves made at or after this: the trace's
    inputs: dict[int, str] = field(default_factory=dict)    # id -> name: arguments, captured, g
    alias: dict[int, Tensor] = field(default_factory=dict)  # a detached copy -> what it copies
    names: dict[int, str] = field(default_factory=dict)     # preferred variable names
    _const: dict[int, bool] = field(default_factory=dict)

    def resolve(self, t: Tensor) -> Tensor:
        while id(t) in self.alias:
            t = self.alias[id(t)]
        return t

    def is_const(self, t: Tensor) -> bool:
        t = self.resolve(t)
        key = id(t)
        if key in self._const:
            return self._const[key]
        if key in self.inputs:
            result = False
        elif t.op is None:
            result = t.seq >= self.start_seq
        elif id(t.op) in RANDOM_OPS:
            result = False
        else:
            result = all(self.is_const(u) for u in t.inputs)
        self._const[key] = result
        return result


class Emitter:
    """Writes one function: `def name(params): statements; return results`."""

    def __init__(self, graph: Graph, namespace: dict, float_mode: bool, counter: list[int],
                 prefix: str = "t"):
        self.graph = graph
        self.prefix = prefix
        self.namespace = namespace
        self.float_mode = float_mode
        self.counter = counter        # shared numbering of temporaries across functions
        self.env: dict[int, str] = {}
        self.lines: list[str] = []
        self.cse: dict = {}
        self.residuals: list[Tensor] = []   # forward tensors a backward function reads
        self.used: set[str] = set()
        self.visited: list[Tensor] = []     # every tensor the function reads or computes
        self.constants: list = []           # every folded constant's value

    # ----- names --------------------------------------------------------------------------------
    def _fresh(self, t: Tensor) -> str:
        base = self.graph.names.get(id(t))
        if base is None:
            base = f"{self.prefix}{self.counter[0]}"
            self.counter[0] += 1
        name = base
        suffix = 1
        while name in self.used or name in self.namespace:
            name = f"{base}_{suffix}"
            suffix += 1
        self.used.add(name)
        return name

    def _constant(self, data, inline: bool) -> str:
        self.constants.append(data)
        if inline or self.float_mode:
            text = _scalar_literal(data)
            if text is not None:
                return text if not self.float_mode else repr(float(data))
        name = f"c{len([k for k in self.namespace if k.startswith('c')])}"
        while name in self.namespace:
            name += "_"
        self.namespace[name] = data
        return name

    def _function(self, op) -> str:
        base = "op_" + identifier(op.name, "op")
        name = base
        suffix = 1
        while name in self.namespace and self.namespace[name] is not op.forward:
            name = f"{base}{suffix}"
            suffix += 1
        self.namespace[name] = op.forward
        return name

    def _param(self, value) -> str:
        if _is_literal(value):
            return repr(value)
        name = f"k{sum(1 for k in self.namespace if k.startswith('k'))}"
        while name in self.namespace:
            name += "_"
        self.namespace[name] = value
        return name

    # ----- statements ---------------------------------------------------------------------------
    def bind(self, t: Tensor, name: str) -> None:
        self.env[id(self.graph.resolve(t))] = name
        self.used.add(name)

    def expr(self, t: Tensor, stop_before: int | None = None, inline: bool = False) -> str:
        """The variable (or literal) holding `t`, emitting what it needs first."""
        self.emit([t], stop_before)
        t = self.graph.resolve(t)
        if id(t) in self.env:
            return self.env[id(t)]
        return self._constant(t.data, inline)

    def emit(self, targets: list[Tensor], stop_before: int | None = None) -> None:
        """Emit statements for `targets`; with `stop_before`, forward tensors (created earlier)
        become residuals read from the forward pass instead of being recomputed."""
        graph = self.graph
        pending: dict[int, Tensor] = {}
        stack = [graph.resolve(t) for t in targets]
        while stack:
            t = stack.pop()
            key = id(t)
            if key in self.env or key in pending or graph.is_const(t):
                continue
            pending[key] = t
            if key in graph.inputs:
                continue
            if stop_before is not None and t.seq < stop_before:
                continue
            stack.extend(graph.resolve(u) for u in t.inputs)
        for t in sorted(pending.values(), key=lambda u: u.seq):
            key = id(t)
            self.visited.append(t)
            if stop_before is not None and (key in graph.inputs or t.seq < stop_before):
                self.residuals.append(t)  # a forward value (or input) the backward reads
                self.bind(t, graph.inputs.get(key) or graph.names.get(key) or self._fresh(t))
                continue
            if key in graph.inputs:
                raise RuntimeError(f"compile: input {graph.inputs[key]} is not a parameter here")
            self._statement(t)

    def _statement(self, t: Tensor) -> None:
        op = t.op
        assert op is not None  # a statement is an op's node, never a leaf
        operands = [self.expr(u, inline=True) if self._inlinable(op) else self.expr(u)
                    for u in t.inputs]
        if self._times_one(t, operands):
            return
        table = FLOAT if self.float_mode else INLINE
        if self._inlinable(op) and not t.params:
            text = table[op.name].format(*operands)
        else:
            call = [self._function(op), "xp", *operands]
            call += [f"{k}={self._param(v)}" for k, v in t.params.items()]
            text = f"{call[0]}({', '.join(call[1:])})"
        key = None
        if id(op) not in RANDOM_OPS:
            try:
                key = (id(op), tuple(operands), tuple(sorted(t.params.items())))
                hash(key)
            except TypeError:
                key = None
        if key is not None and key in self.cse:
            self.env[id(t)] = self.cse[key]
            return
        name = self._fresh(t)
        self.lines.append(f"{name} = {text}")
        self.env[id(t)] = name
        if key is not None:
            self.cse[key] = name

    def _times_one(self, t: Tensor, operands: list[str]) -> bool:
        """`1.0 * x` is x (a gradient seeded with 1.0 starts so): no statement, t is x's name.
        Only where x already has t's shape and dtype (a product may broadcast or promote)."""
        if t.op is not PRIMITIVES.get("mul") or t.params:
            return False
        for one, other in ((0, 1), (1, 0)):
            if operands[one] not in ("1.0", "1"):
                continue
            x = self.graph.resolve(t.inputs[other])
            if self.float_mode or (getattr(x.data, "shape", None) == getattr(t.data, "shape", ())
                                   and getattr(x.data, "dtype", None) == t.data.dtype):
                self.env[id(t)] = operands[other]
                return True
        return False

    def _inlinable(self, op) -> bool:
        table = FLOAT if self.float_mode else INLINE
        return op.name in table and PRIMITIVES.get(op.name) is op

    def source(self, name: str, params: list[str], results: list[str], returns: str) -> str:
        body = self.lines or ["pass"]
        lines = [f"def {name}({', '.join(params)}):"]
        if self.float_mode:
            lines += [f"    {p} = float({p})" for p in params]
        lines += ["    " + line for line in body]
        lines.append(f"    return {returns}")
        return "\n".join(lines) + "\n"


def is_float64_scalar(data) -> bool:
    """A 0-d float64 NumPy value (scalar or 0-d array): what Python floats compute exactly."""
    return isinstance(data, (np.generic, np.ndarray)) and data.dtype == np.float64 and \
        data.shape == ()


def float_ready(tensors: list[Tensor], constants: list, graph: Graph) -> bool:
    """Whether every tensor is a 0-d float64 NumPy value computed by a Python-float gate."""
    if not all(is_float64_scalar(c) for c in constants):
        return False
    for t in tensors:
        t = graph.resolve(t)
        if not is_float64_scalar(t.data):
            return False
        if t.op is not None and not graph.is_const(t) and id(t) not in graph.inputs:
            if t.op.name not in FLOAT or PRIMITIVES.get(t.op.name) is not t.op or t.params:
                return False
    return True


def compile_source(source: str, namespace: dict, filename: str) -> dict:
    code = compile(source, filename, "exec")
    exec(code, namespace)
    return namespace


__all__ = ["Graph", "Emitter", "INLINE", "FLOAT", "RANDOM_OPS", "identifier", "float_ready",
           "compile_source", "FLOAT_NAMESPACE"]

"""gg.compile: trace a function once per input signature, then run generated code.

A compiled call is one graph node per returned Tensor that needs a gradient (named
`compiled:<fn>`); its VJP runs the generated backward. Under `create_graph=True` (grad of grad)
the VJP is itself a compiled function (`<fn>_vjp`, traced on demand and cached per entry), so its
results are compiled nodes whose own VJP is generated code again, at any order.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import re
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _tensor as _tensor_module
from .. import config
from .._primitive import primitive
from .._tensor import Tensor
from ..backend import CPU
from ..errors import RetraceWarning, creation_site
from ..ops.structural import sum_to
from . import codegen
from .codegen import Emitter, Graph, identifier
from .expansion import CompiledRegion
from .trace import Trace, _install, _tracing, flatten, run_trace, unflatten

_ARITH = (ArithmeticError, ValueError)


def symbolic_vjp(root: Tensor, g: Tensor, stop: set[int],
                 record: dict | None = None) -> dict[int, Tensor]:
    """Cotangents of `root` (seeded with `g`) for every leaf and `stop` node below it.

    The engine's own VJP rules, run in reverse creation order; no hooks run and nothing is
    stored in `.grad`. Under grad mode the result is itself a graph (differentiable again).
    """
    reachable: dict[int, Tensor] = {}
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in reachable or not t.requires_grad:
            continue
        reachable[id(t)] = t
        if t.op is not None and id(t) not in stop:
            stack.extend(t.inputs)
    cotangents = {id(root): g}
    results: dict[int, Tensor] = {}
    for node in sorted(reachable.values(), key=lambda t: -t.seq):
        cot = cotangents.pop(id(node), None)
        if cot is None:
            continue
        if record is not None:
            record[id(node)] = (node, cot)
        if node.op is None or id(node) in stop:
            results[id(node)] = cot
            continue
        vjp = node.op.vjp
        assert vjp is not None  # a node recorded for gradients has a rule
        grads = vjp(cot, node, *node.inputs, **node.params)
        for parent, grad in zip(node.inputs, grads):
            if grad is None or not parent.requires_grad:
                continue
            if grad.shape != parent.shape:
                grad = sum_to(grad, parent.shape)
            previous = cotangents.get(id(parent))
            cotangents[id(parent)] = grad if previous is None else previous + grad
    return results


@dataclass
class CallState:
    """What one compiled call leaves on its output nodes for their VJPs."""

    residuals: tuple
    args: list
    kwargs: dict

    def __repr__(self) -> str:
        return f"<compiled call, {len(self.residuals)} residuals>"


class Entry:
    """One traced signature: generated forward, one backward per differentiable output."""

    def __init__(self, owner: CompiledFunction, trace: Trace, reason: str):
        self.owner = owner
        self.reason = reason
        self.trace = trace
        self.captured = trace.captured
        self.device = trace.outputs[0].device
        self.n_args = len(trace.arg_leaves)
        self.ops: dict[int, Any] = {}
        self.backward: dict[int, Callable] = {}
        self.owner_positions: list[int] = []  # where the traced tensors sit in the call
        self.vjp_functions: dict[int, CompiledFunction] = {}  # grad of grad, compiled on demand
        self.key: tuple = ()                  # the call signature this entry was traced for
        self._generate(trace)
        self._make_ops()

    # ----- generation ---------------------------------------------------------------------------
    def _generate(self, trace: Trace) -> None:
        name = identifier(self.owner.__name__, "fn")
        if name in codegen.FLOAT_NAMESPACE or name == "xp" or name.startswith("op_") or \
                re.fullmatch(r"[ck]\d+_*", name):
            name = f"fn_{name}"  # never shadow a helper the generated code calls
        graph = Graph(trace.start_seq)
        self.graph = graph  # (kept: a drawing replays the traced gates, see expansion.py)
        for index, t in enumerate(trace.arg_leaves):
            label = identifier(t.name, f"a{index}")
            while label in graph.inputs.values():
                label += "_"
            graph.inputs[id(t)] = label
        _find_aliases(graph, trace)
        inputs = trace.arg_leaves + trace.captured
        self.captured_facts = [(t.data.shape, t.data.dtype) for t in trace.captured]
        outputs = [graph.resolve(o) for o in trace.outputs]
        input_index = {id(t): i for i, t in enumerate(inputs)}
        # an argument returned as it is stays that Tensor, as in eager mode (x.reshape(x.shape))
        self.passthrough = {k: input_index[id(o)] for k, o in enumerate(trace.outputs)
                            if id(o) in input_index}
        for k, out in enumerate(outputs):
            if id(out) not in graph.inputs and out.op is not None:
                graph.names.setdefault(id(out), identifier(
                    out.name, "out" if len(outputs) == 1 else f"out{k}"))
        for index, t in enumerate(sorted(_forward_nodes(outputs, graph), key=lambda t: t.seq)):
            graph.names.setdefault(id(t), f"t{index}")
        # the backward graphs: built by the engine's own VJP rules, under tracing
        bwd_start = Tensor._leaf(None, CPU).seq  # (a throwaway leaf: the next creation number)
        grad_mode = config.is_grad_enabled()
        plans = []
        token = _tracing.set(self.owner.__name__)
        try:
            with _install(), config.enable_grad():
                for k, out in enumerate(outputs):
                    if not (grad_mode and trace.outputs[k].requires_grad and out.requires_grad
                            and id(out) not in graph.inputs):
                        continue
                    g = Tensor._leaf(out.data, out.device)
                    g.requires_grad = True
                    graph.inputs[id(g)] = "d" + graph.names.get(id(out), f"out{k}")
                    cotangents: dict[int, tuple] = {}
                    found = symbolic_vjp(out, g, {id(t) for t in inputs}, cotangents)
                    for node, cot in cotangents.values():  # dq: the gradient arriving at q
                        cot = graph.resolve(cot)
                        if cot.seq >= bwd_start and id(node) in graph.names:
                            graph.names.setdefault(id(cot), "d" + graph.names[id(node)])
                    grads = [found.get(id(t)) if t.requires_grad else None for t in inputs]
                    for t, grad in zip(inputs, grads):  # dw0: the gradient of input w0
                        if grad is not None and graph.resolve(grad).seq >= bwd_start:
                            graph.names.setdefault(id(graph.resolve(grad)),
                                                   "d" + graph.inputs[id(t)])
                    plans.append((k, g, grads))
        finally:
            _tracing.reset(token)
        params = [graph.inputs[id(t)] for t in inputs]

        def build(float_mode: bool):
            backwards: list = []
            residuals: list[Tensor] = []
            for k, g, grads in plans:
                emitter = Emitter(graph, self.namespace, float_mode, [0], prefix="b")
                emitter.used.update(graph.inputs.values())
                emitter.bind(g, graph.inputs[id(g)])
                results = [emitter.expr(grad, stop_before=bwd_start) if grad is not None
                           else "None" for grad in grads]
                results = _named_results(emitter, results, inputs, grads, graph)
                for r in emitter.residuals:
                    if all(r is not other for other in residuals):
                        residuals.append(r)
                backwards.append((k, g, emitter, results))
            residuals.sort(key=lambda t: t.seq)
            forward = Emitter(graph, self.namespace, float_mode, [0])
            forward.used.update(graph.inputs.values())
            for t in inputs:
                forward.bind(t, graph.inputs[id(t)])
            outs = [forward.expr(o) for o in outputs]
            res = [forward.expr(r) for r in residuals]
            return forward, outs, res, backwards, residuals

        self.namespace = {"xp": self.device.xp, **codegen.FLOAT_NAMESPACE}
        xp_version = build(False)
        emitters = [xp_version[0]] + [b[2] for b in xp_version[3]]
        floats = all(codegen.is_float64_scalar(t.data) for t in inputs) and all(
            codegen.float_ready(e.visited, e.constants, graph) for e in emitters)
        versions = [(True, build(True)), (False, xp_version)] if floats else [(False, xp_version)]
        sources = []
        self.float_body: tuple | None = None  # the Python-float forward, for the fast path
        for float_mode, (forward, outs, res, backwards, residuals) in versions:
            if float_mode:
                self.float_body = (params, list(forward.lines), outs, res, name + "_xp")
            suffix = "_xp" if floats and not float_mode else ""
            box = (lambda v: f"_f64({v})") if float_mode else (lambda v: v)
            returns = f"{_tuple(box(o) for o in outs)}, {_tuple(res)}"
            text = forward.source(name + suffix, params, [], returns)
            sources.append(_with_fallback(text, name, params) if float_mode else text)
            rparams = [graph.inputs.get(id(r)) or graph.names.get(id(r)) for r in residuals]
            for k, g, emitter, results in backwards:
                bname = f"{name}_backward{'' if len(outputs) == 1 else k}"
                bparams = rparams + [graph.inputs[id(g)]]
                boxed = _tuple("None" if r == "None" else box(r) for r in results)
                text = emitter.source(bname + suffix, bparams, [], boxed)
                sources.append(_with_fallback(text, bname, bparams) if float_mode else text)
            if float_mode:
                sources.append("# the array versions: run where Python floats overflow, divide "
                               "by zero or leave their domain")
        self.source = "\n".join(sources)
        codegen.compile_source(self.source, self.namespace, f"<compiled {name}>")
        self.forward = self.namespace[name]
        self.residual_tensors = versions[0][1][4]  # what CallState.residuals hold, in order
        for k, _, _, _ in versions[0][1][3]:
            self.backward[k] = self.namespace[f"{name}_backward{'' if len(outputs) == 1 else k}"]
        self.float_path = floats

    def _make_ops(self) -> None:
        region = f"compiled:{self.owner.__name__}"
        for k in self.backward:
            name = region + ("" if len(self.trace.outputs) == 1 else f"[{k}]")
            op = primitive(name, forward=self.forward,
                           vjp=functools.partial(_compiled_vjp, self, k), register=False,
                           doc=f"compiled region of {self.owner.__name__}")
            op.composite = CompiledRegion(self, k, region, name)  # a drawing can open it
            self.ops[k] = op

    # ----- running ------------------------------------------------------------------------------
    def make_fast_call(self, args: list, positions: list[int], modules: list,
                       floats: dict[int, type] | None = None) -> None:
        """Generate `fast(args)`: the guards of this signature, the forward, the results; it
        calls the cache (`_call_slow`) when a guard fails, which decides, and maybe retraces.

        Why generated: a steady loop pays only this one function. Each argument's `.data` is
        read once; a 0-d float64 value is checked by its class alone (its shape and dtype follow);
        the results are made by inlined leaf construction (`_leaf_lines`), not calls.
        `floats`: positions where the caller passed a number, and its class: a Python float
        (made a tensor of the default dtype: the guard checks the class and the default dtype;
        the float is the data on the float path, no boxing) or a NumPy float scalar (its own
        dtype: the class is the guard, the scalar the data)."""
        floats = floats or {}
        ns = {"slow": CompiledFunction._call_slow, "forward": self.forward,
              "THREAD": config._thread, "DEV": self.device, "f64": np.float64,
              "node": self.node, "DT": config.get_default_dtype(),
              # the default dtype, read as config reads it, without a call
              "DDV": config._default_dtype, "UNSET": config._UNSET,
              "PD": config._process_defaults}
        names = [f"a{i}" for i in range(len(args))]
        if floats and (self.ops or self.passthrough):  # a float would become a graph input
            self._install_fast("def fast(self, *args, **kwargs):\n"   # or a result: the cache
                               "    return slow(self, args, kwargs)\n", ns)  # makes its tensor
            return
        reads, classes, checks = [], [], []
        raw = set()  # datas that are the caller's Python floats as they are
        for i, arg in enumerate(args):
            a = names[i]
            if i in floats:
                ns[f"F{i}"], ns[f"C{i}"] = type(arg.data), floats[i]
                if floats[i] is not float:  # a NumPy scalar: the data as it is
                    reads.append(f"d{i} = {a}")
                elif self.float_body is not None and type(arg.data) is np.float64:
                    reads.append(f"d{i} = {a}")
                    raw.add(f"d{i}")
                else:
                    reads.append(f"d{i} = F{i}({a})")
                continue
            if isinstance(arg, Tensor):
                ns[f"T{i}"], ns[f"S{i}"], ns[f"D{i}"] = type(arg), arg.data.shape, arg.data.dtype
                reads.append(f"d{i} = {a}.data")
                data = f"d{i}.__class__ is f64" if type(arg.data) is np.float64 else \
                    f"d{i}.shape == S{i} and d{i}.dtype == D{i}"
                classes.append(data)  # (the data's facts first: the likeliest to change)
                # a NumPy float64 scalar lives on the CPU: its class says the device too
                device = "" if type(arg.data) is np.float64 and self.device is CPU else \
                    f"{a}.device is DEV and "
                checks.append(f"{device}{a}.requires_grad is {bool(arg.requires_grad)}")
            else:
                ns[f"V{i}"] = arg
                checks.append(f"({a} is V{i} or {a} == V{i})")
        checks.append(f"THREAD.grad_enabled is {bool(config.is_grad_enabled())}")
        if float in floats.values():
            checks.append('(DDV.get() is UNSET and PD["dtype"] == DT or DDV.get() == DT)')
        for j, t in enumerate(self.captured):
            ns[f"P{j}"], ns[f"PS{j}"], ns[f"PD{j}"] = t, t.data.shape, t.data.dtype
            checks.append(f"P{j}.data.shape == PS{j} and P{j}.data.dtype == PD{j}")
        for j, (module, mode) in enumerate(modules):
            ns[f"M{j}"] = module
            checks.append(f"M{j}.training is {mode}")
        datas = [f"d{p}" for p in positions] + [f"P{j}.data" for j in range(len(self.captured))]
        inputs = [names[p] for p in positions] + [f"P{j}" for j in range(len(self.captured))]
        miss = "        return slow(self, args, kwargs)"  # the cache decides, and maybe retraces
        lines = ["def fast(self, *args, **kwargs):", f"    if kwargs or len(args) != {len(args)}:",
                 miss]
        if args:
            lines.append(f"    {', '.join(names)}, = args")
        types = [f"{names[i]}.__class__ is {f'C{i}' if i in floats else f'T{i}'}"
                 for i, a in enumerate(args) if isinstance(a, Tensor)]
        if types:  # (before `.data` is read: an ndarray's is a memoryview, a number has none)
            lines += [f"    if not ({' and '.join(types)}):", miss]
        lines += ["    " + line for line in reads]
        lines += [f"    if not ({' and '.join(classes + checks)}):", miss]
        taken = set(names) | {"args", "self", "kwargs"}
        lines += _forward_lines(self, datas, ns, taken, frozenset(raw))  # o0, o1, ...: outputs
        results = []
        for k in range(len(self.trace.outputs)):
            if k in self.passthrough:
                results.append(inputs[self.passthrough[k]])
            elif k in self.ops:
                results.append(f"node({k}, o{k}, ({''.join(t + ', ' for t in inputs)}), "
                               f"res, args)")
            else:
                lines += ["    " + line for line in _leaf_lines(f"r{k}", f"o{k}", ns)]
                results.append(f"r{k}")
        lines.append(f"    return {_tree_source(self.trace.tree, results, ns)}")
        self._install_fast("\n".join(lines) + "\n", ns)

    def _install_fast(self, source: str, ns: dict) -> None:
        exec(builtins.compile(source, f"<guard of {self.owner.__name__}>", "exec"), ns)
        self.fast = ns["fast"]
        self.fast_source = source

    def node(self, k: int, data, inputs: tuple, residuals: tuple, args, kwargs=None) -> Tensor:
        """The graph node of differentiable output k: its VJP runs the generated backward."""
        out = Tensor._leaf(data, self.device)
        out.op = self.ops[k]
        out.inputs = inputs
        out.params = {"call": CallState(residuals, list(args), kwargs or {})}
        out.requires_grad = True
        out.scope = config.current_scope()
        out._site = creation_site(3)
        return out

    def run(self, tensors: list[Tensor], args: list, kwargs: dict):
        inputs = tensors + self.captured
        outs, residuals = self.forward(*[t.data for t in inputs])
        device = self.device
        results = []
        state = None
        for k, data in enumerate(outs):
            if k in self.passthrough:
                results.append(inputs[self.passthrough[k]])
                continue
            out = Tensor._leaf(data, device)
            op = self.ops.get(k)
            if op is not None:
                if state is None:
                    state = {"call": CallState(residuals, args, kwargs)}
                out.op = op
                out.inputs = tuple(inputs)
                out.params = state
                out.requires_grad = True
                out.scope = config.current_scope()
                out._site = creation_site(3)
            results.append(out)
        return unflatten(self.trace.tree, results)


RETRACE_WARNING = 8   # traces after which a retrace for a changed number warns (once)
CACHE_ENTRIES = 64    # signatures kept per compiled function; the oldest goes first


# the fast path's own names (also L_*, R<n>, r<n>)
_FAST_NAMES = {"new", "Tensor", "next_seq", "unflatten", "leaf", "slow", "THREAD", "ONE64"}


def _forward_lines(entry: Entry, datas: list[str], ns: dict, taken: set[str],
                   python_floats: frozenset[str] = frozenset()) -> list[str]:
    """The fast path's forward: `outs, res = forward(...)`, or for a Python-float graph its
    statements written in place (a call, a tuple of results and its indexing less per call),
    falling back to the array version as the float forward does. `python_floats`: the datas
    that are Python floats already (the caller passed floats): no `float()` for them."""
    outs = [f"o{k}" for k in range(len(entry.trace.outputs))]
    unpack = f"({''.join(o + ', ' for o in outs)}), res"
    call = [f"    {unpack} = forward({', '.join(datas)})"]
    if entry.float_body is None:
        return call
    params, body, values, res, xp_name = entry.float_body
    ours = body + [f"({', '.join(params + values + res)})"]  # every name the trace's code uses
    read = {n.id for n in ast.walk(ast.parse("\n".join(ours))) if isinstance(n, ast.Name)}
    taken = taken | set(ns) | set(outs) | {"res", "f64", "float", xp_name} | \
        {d.split(".")[0] for d in datas}
    later = {n for n in read if n in _FAST_NAMES or re.fullmatch(r"L_\w+|R\d+|r\d+", n)}
    if read & taken or later or xp_name not in entry.namespace:
        return call  # a name of the traced function's would shadow one of the fast path's
    lines = [f"{p} = {d}" if d in python_floats else f"{p} = float({d})"
             for p, d in zip(params, datas)] + body
    ns["ONE64"] = np.float64(1.0)  # ONE64 * v: the same np.float64 as f64(v), 20 ns sooner
    lines += [f"{o} = ONE64 * {v}" for o, v in zip(outs, values)]
    lines.append(f"res = ({''.join(r + ', ' for r in res)})")
    for n in read | {xp_name}:
        if n in entry.namespace:
            ns[n] = entry.namespace[n]
    return ["    try:"] + ["        " + line for line in lines] + [
        "    except (ArithmeticError, ValueError):  # NumPy gives inf/nan here instead",
        f"        {unpack} = {xp_name}({', '.join(f'f64({d})' for d in datas)})"]


def _leaf_lines(var: str, data: str, ns: dict) -> list[str]:
    """Statements that make `var` what `Tensor._leaf(data, DEV)` makes, without the call.

    The slots and their values are read off a leaf the core made, so a slot added to Tensor is
    filled here too (tests/compile compares the two); only `seq` (the creation counter) and the
    data and device differ from leaf to leaf."""
    probe = Tensor._leaf(None, CPU)
    ns["new"], ns["Tensor"], ns["next_seq"] = object.__new__, Tensor, _tensor_module._seq.__next__
    lines = [f"{var} = new(Tensor)", f"{var}.data = {data}", f"{var}.device = DEV",
             f"{var}.seq = next_seq()"]
    for slot in Tensor.__slots__:
        if slot in ("data", "device", "seq", "__weakref__") or not hasattr(probe, slot):
            continue
        value = getattr(probe, slot)
        if value is None or value is False or value is True or value == ():
            text = repr(value)
        elif type(value) in _SHAREABLE:
            text = f"L_{slot}"
            ns[text] = value
        else:  # a per-leaf object (a list, a dict): sharing one would alias them; call the core
            ns["leaf"] = Tensor._leaf
            return [f"{var} = leaf({data}, DEV)"]
        lines.append(f"{var}.{slot} = {text}")
    return lines


_SHAREABLE = (types.MappingProxyType, str, int, float, tuple, frozenset)  # immutable: shared


def _tree_source(tree, results: list[str], ns: dict) -> str:
    """The result structure as an expression (tuples and lists of tensors, constants)."""
    kind, body = tree
    if kind == "T":
        return results[body]
    if kind == "C" or kind not in (tuple, list):
        name = f"R{len([k for k in ns if k.startswith('R')])}"
        ns[name] = body if kind == "C" else None
        if kind != "C":
            ns["unflatten"], ns[name] = unflatten, tree
            return f"unflatten({name}, [{', '.join(results)}])"
        return name
    items = [_tree_source(t, results, ns) for t in body]
    if kind is list:
        return f"[{', '.join(items)}]"
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _with_fallback(source: str, name: str, params: Sequence[str | None]) -> str:
    """Wrap a Python-float body: on overflow, 1/0 or a domain error, run the array version."""
    lines = source.splitlines()
    body = ["    try:"] + ["    " + line for line in lines[1:]]
    body += ["    except (ArithmeticError, ValueError):  # NumPy gives inf/nan here instead",
             f"        return {name}_xp({', '.join(f'_f64({p})' for p in params)})"]
    return "\n".join([lines[0]] + body) + "\n"


def _named_results(emitter: Emitter, results: list[str], inputs, grads, graph: Graph) -> list[str]:
    """Give each input's gradient the name `d<input>` (one assignment where it is shared)."""
    named = []
    for text, t, grad in zip(results, inputs, grads):
        if grad is None or text == "None":
            named.append("None")
            continue
        want = "d" + graph.inputs[id(t)]
        if text != want:
            if want in emitter.used:
                named.append(text)
                continue
            emitter.lines.append(f"{want} = {text}")
            emitter.used.add(want)
        named.append(want)
    return named


def _forward_nodes(outputs: list[Tensor], graph: Graph) -> list[Tensor]:
    seen: dict[int, Tensor] = {}
    stack = [graph.resolve(o) for o in outputs]
    while stack:
        t = stack.pop()
        if id(t) in seen or id(t) in graph.inputs or t.op is None or graph.is_const(t):
            continue
        seen[id(t)] = t
        stack.extend(graph.resolve(u) for u in t.inputs)
    return list(seen.values())


def _find_aliases(graph: Graph, trace: Trace) -> None:
    """Captured tensors: whatever the trace reached that it did not make and that is not an
    argument (module parameters, tensors of the enclosing scope), read at every call.
    A leaf made in the trace by `.detach()` (as gg.value_and_grad does), or sharing the array of
    an input or of a node made earlier, stands for that tensor: it is not a constant."""
    arg_ids = {id(t) for t in trace.arg_leaves}
    detached = trace.tape[1]
    seen: dict[int, Tensor] = {}
    stack = list(trace.outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if id(t) in detached:
            stack.append(detached[id(t)][1])
        if t.seq >= trace.start_seq:
            stack.extend(t.inputs)
    ordered = sorted(seen.values(), key=lambda t: t.seq)
    known = _scope_names(trace.fn) if trace.fn is not None else {}
    captured = (u for u in ordered if u.seq < trace.start_seq and id(u) not in arg_ids)
    for index, t in enumerate(captured):
        label = identifier(t.name or known.get(id(t)), f"p{index}")
        while label in graph.inputs.values():
            label += "_"
        graph.inputs[id(t)] = label
        trace.captured.append(t)
    by_data: dict[int, Tensor] = {}
    for t in trace.arg_leaves + trace.captured + trace.tape[0]:
        by_data.setdefault(id(t.data), t)
    for t in ordered:
        if t.op is None and t.seq >= trace.start_seq:
            source = detached[id(t)][1] if id(t) in detached else by_data.get(id(t.data))
            if source is not None and source is not t and source.seq < t.seq:
                graph.alias[id(t)] = source


def _compiled_vjp(entry: Entry, k: int, g: Tensor, out: Tensor, *inputs: Tensor, call: CallState):
    if not config.is_grad_enabled():
        grads = entry.backward[k](*call.residuals, g.data)
        device, leaf = entry.device, Tensor._leaf
        return tuple([None if grad is None else leaf(grad, device) for grad in grads])
    # grad of grad: the VJP itself, compiled on demand (traced once per signature, cached), so
    # its result is a graph of compiled nodes whose own VJP is generated code again
    vjp = entry.vjp_functions.get(k)
    if vjp is None:
        vjp = entry.vjp_functions[k] = CompiledFunction(_vjp_function(entry, k, call))
    grads = vjp(*inputs[:entry.n_args], g)
    return tuple(grads)


def _vjp_function(entry: Entry, k: int, call: CallState) -> Callable:
    """`vjp(*tensor_args, g)`: the gradients of output k (seeded with g) for the arguments, then
    the captured tensors, built eagerly from `fn` by the engine's VJPs; gg.compile traces it.
    The non-Tensor arguments are this entry's (they are part of its cache key)."""
    template, kwargs = list(call.args), dict(call.kwargs)
    for position in entry.owner_positions:  # (keep no tensor of that call alive)
        template[position] = None
    owner, captured = entry.owner, list(entry.captured)

    def vjp(*tensors: Tensor):
        args = list(template)
        for position, t in zip(entry.owner_positions, tensors):
            args[position] = t
        outs: list[Tensor] = []
        flatten(owner.fn(*args, **kwargs), outs)
        wrt = list(tensors[:-1]) + captured
        found = symbolic_vjp(outs[k], tensors[-1], {id(t) for t in wrt})
        grads = tuple(found.get(id(t)) for t in wrt)
        for t, grad in zip(wrt, grads):  # the code says dx = ... (made here: safe to name)
            if grad is not None and grad.name is None and grad.seq > tensors[-1].seq and t.name:
                grad.name = f"d{t.name}"
        return grads

    vjp.__wrapped__ = owner.fn  # type: ignore[attr-defined]  # (its modules guard train/eval)
    vjp.__name__ = f"{owner.__name__}_vjp" + ("" if len(entry.trace.outputs) == 1 else str(k))
    return vjp


class CompiledFunction:
    """`gg.compile(fn)`: `fn` traced per input signature, run as generated code (see module doc)."""

    def __init__(self, fn: Callable) -> None:
        self.fn = fn
        forward = None if hasattr(fn, "__name__") else getattr(fn, "forward", None)
        if forward is not None:  # a module (gg.compile(model)): its class's name, its forward's
            named, self.__name__ = forward, type(fn).__name__  # signature
        else:  # a function (a lambda or a partial: "fn")
            named, self.__name__ = fn, getattr(fn, "__name__", "<lambda>")
            if self.__name__ == "<lambda>":
                self.__name__ = "fn"
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self._signature: inspect.Signature | None
        try:
            self._signature = inspect.signature(named)
            self._param_names = [p.name for p in self._signature.parameters.values()
                                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            self._signature, self._param_names = None, []
        self._cache: dict = {}
        self._last: Entry | None = None
        self.traces: list[str] = []
        # Its own class, whose __call__ becomes the fast path of the signature last called: a
        # steady loop then runs one generated function per call, with no dispatch in between
        self.__class__ = type(CompiledFunction.__name__, (CompiledFunction,),
                              {"__module__": CompiledFunction.__module__})
        self._retrace_warned = False

    def __getattr__(self, name: str) -> Any:
        """What the compiled callable has (as torch.compile's module wrapper forwards it):
        `gg.compile(model).parameters()`, `.eval()`, `.state_dict()`."""
        fn = self.__dict__.get("fn")
        if fn is None or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(fn, name)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """A compiled method (`@gg.compile` on a Module's `forward`): bound to its instance,
        which is then the first argument, part of the signature (and its modules' modes)."""
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __repr__(self) -> str:
        return f"<compiled {self.__name__}: {len(self.traces)} traces, {len(self._cache)} kept>"

    def _key(self, args, kwargs):
        tensors, positions, statics = [], [], []
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensors.append(arg)
                positions.append(index)
                statics.append(None)
            elif _holds_tensors(arg):  # (a tuple would hash, and its tensors compare by value)
                raise TypeError(
                    f"compile({self.__name__}): argument {index} is a {type(arg).__name__} of "
                    f"tensors; they are not unpacked (no pytrees yet), so they would be traced "
                    f"as constants: pass them as separate arguments, f(*tensors)")
            else:
                statics.append(arg)
        facts = tuple((t.data.shape, t.data.dtype, t.device.name, t.requires_grad) for t in tensors)
        try:
            key = (config.is_grad_enabled(), facts, tuple(statics), tuple(sorted(kwargs.items())),
                   _module_modes(self.fn, args))
            hash(key)
        except TypeError as error:
            raise TypeError(
                f"compile({self.__name__}): arguments that are not Tensors become part of the "
                f"cache key and must be hashable (numbers, strings, tuples); got {error}. Pass "
                f"arrays as gg.tensor(...)") from error
        return key, tensors, positions

    def _as_data(self, args) -> tuple[list, dict[int, type]]:
        """Arrays become tensors; so do floats where `fn` differentiates (gg.grad's and
        gg.value_and_grad's argnums), made as the eager call makes them (a Python float takes
        the default dtype, a NumPy scalar keeps its own): data, not part of the signature. Any
        other number stays static (part of the key). Returns the arguments and {position:
        class} of those floats."""
        nums = getattr(self.fn, "differentiated_argnums", None)
        dynamic: dict[int, type] = {}
        if nums is not None:
            count = len(args)
            for n in ((nums,) if isinstance(nums, int) else nums):
                if -count <= n < count and (type(args[n]) is float or
                                            isinstance(args[n], np.floating)):
                    dynamic[n % count] = type(args[n])
        converted = [gg_tensor(a) if isinstance(a, np.ndarray) else
                     Tensor(a) if i in dynamic else a for i, a in enumerate(args)]
        return converted, dynamic

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Until a signature is traced (and after clear_cache); then the generated fast path
        of the last signature called replaces it (it calls `_call_slow` when a guard fails)."""
        return self._call_slow(args, kwargs)

    def _positional(self, args, kwargs) -> tuple[tuple, dict]:
        """Keyword arguments bound to their positions (`step(x, y=y)` is `step(x, y)`): a
        keyword's tensor is then an input like any other. One that cannot take a position
        (keyword-only, **kwargs) may not be a tensor: it would be traced as a constant."""
        if self._signature is not None:
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError:
                pass  # the function itself says what is wrong when it runs
            else:
                args, kwargs = bound.args, bound.kwargs
        for name, value in kwargs.items():
            if isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(
                    f"compile({self.__name__}): the tensor passed as keyword {name!r} has no "
                    f"position in the signature, and keyword values are part of the compiled "
                    f"signature, not inputs; give {self.__name__} a parameter for it or pass "
                    f"it positionally")
        return args, kwargs

    def _call_slow(self, args, kwargs):
        """The cache: find this signature's entry (or trace one) and run it."""
        if kwargs:
            args, kwargs = self._positional(args, kwargs)
        args, floats = self._as_data(args)
        key, tensors, positions = self._key(args, kwargs)
        if floats:  # the same signature, but its fast path takes floats: an entry of its own
            key = key + (tuple(sorted(floats.items(), key=lambda item: item[0])),)
        entry = self._cache.get(key)
        if entry is None or not _captured_unchanged(entry):
            reason = self._why(key)
            if not self._retrace_warned and len(self.traces) >= RETRACE_WARNING and \
                    self._a_number_changed(key):
                self._retrace_warned = True  # (once per function, as torch.compile's)
                warnings.warn(
                    f"compile({self.__name__}): traced {len(self.traces) + 1} times; the last "
                    f"trace because a non-tensor argument changed (numbers are part of the "
                    f"compiled signature). Pass values that change from call to call as "
                    f"gg.tensor(...): one trace serves them all", RetraceWarning,
                    stacklevel=2)
            if len(self._cache) >= CACHE_ENTRIES:  # the oldest signature goes (memory bound)
                del self._cache[next(iter(self._cache))]
            names = [identifier(self._param_names[p] if p < len(self._param_names) else None,
                                f"a{p}") for p in positions]
            names = [t.name or n for t, n in zip(tensors, names)]
            trace = run_trace(self.fn, self.__name__, args, positions, names, kwargs)
            entry = Entry(self, trace, reason)
            entry.owner_positions = positions
            entry.key = key
            entry.make_fast_call(args, positions, _modules(self.fn, args), floats)
            self._cache[key] = entry
            self.traces.append(reason)
        self._last = entry
        type(self).__call__ = entry.fast
        return entry.run(tensors, args, kwargs)

    def _a_number_changed(self, key) -> bool:
        """Whether a number among the static arguments differs from the last call's (a new
        module instance, say, is a signature of its own and no cause to warn)."""
        if self._last is None:
            return False
        return any(a != b and isinstance(a, (int, float, np.number))
                   for a, b in zip(key[2], self._last.key[2]))

    def _why(self, key) -> str:
        if not self._cache:
            return "first call"
        last = self._last.key if self._last is not None else next(iter(self._cache))
        labels = ("grad mode", "tensor shapes/dtypes/devices/requires_grad", "non-tensor arguments",
                  "keyword arguments", "train/eval mode of modules")
        changed = [label for label, a, b in zip(labels, key, last) if a != b]
        return "changed: " + (", ".join(changed) or "captured tensors' shapes or dtypes")

    @property
    def source(self) -> str:
        """The generated code of the most recent signature (forward, then backward)."""
        if self._last is None:
            raise RuntimeError(f"compile({self.__name__}): not called yet, so nothing is traced")
        return self._last.source

    def cache_info(self) -> dict:
        """How many traces ran and why each one did (first call, a changed shape, ...)."""
        return {"traces": len(self.traces), "entries": len(self._cache),
                "reasons": list(self.traces)}

    def clear_cache(self) -> None:
        self._cache.clear()
        self._last = None
        type(self).__call__ = CompiledFunction.__call__  # type: ignore[method-assign]


def _holds_tensors(value) -> bool:
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, Tensor) or _holds_tensors(v) for v in value)


def _captured_unchanged(entry: Entry) -> bool:
    for t, (shape, dtype) in zip(entry.captured, entry.captured_facts):
        if t.data.shape != shape or t.data.dtype != dtype:
            return False
    return True


def _scope_objects(fn):
    """(name, value) for what `fn` (and the functions it wraps) can see: its closure and the
    globals its code names; `functools.wraps` chains (gg.value_and_grad) are followed."""
    seen = set()
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        code = getattr(fn, "__code__", None)
        if getattr(fn, "__self__", None) is not None:
            yield "self", fn.__self__
        elif code is None and not isinstance(fn, (types.BuiltinFunctionType, functools.partial)):
            yield "self", fn  # a callable object itself: gg.compile(model), as torch.compile
        if code is not None:
            for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
                try:
                    yield name, cell.cell_contents
                except ValueError:  # an empty cell
                    continue
            globals_ = getattr(fn, "__globals__", {})
            for name in code.co_names:
                if name in globals_:
                    yield name, globals_[name]
        fn = getattr(fn, "__wrapped__", None)


def _module_modes(fn, args) -> tuple:
    """Train/eval flags of the nn.Modules `fn` can see (closure, globals it names, arguments)."""
    from ..nn.module import Module  # compile sits beside nn, not in the engine core

    found: list[bool] = []
    for value in list(args) + [v for _, v in _scope_objects(fn)]:
        if isinstance(value, Module):
            found.extend(m.training for m in value.modules())
    return tuple(found)


def _modules(fn, args) -> list:
    """(module, training) for every nn.Module `fn` sees: the fast path's train/eval guards."""
    from ..nn.module import Module

    found: list[tuple] = []
    for value in list(args) + [v for _, v in _scope_objects(fn)]:
        if isinstance(value, Module):
            found.extend((m, m.training) for m in value.modules())
    return found


def _scope_names(fn) -> dict[int, str]:
    """{id(tensor): the name `fn` knows it by} ('data', 'model.0.weight'), for the code."""
    from ..nn.module import Module

    names: dict[int, str] = {}
    for name, value in _scope_objects(fn):
        if isinstance(value, Tensor):
            names.setdefault(id(value), name)
        elif isinstance(value, Module):
            for pname, param in value.named_parameters():
                names.setdefault(id(param), f"{name}.{pname}")
    return names


def gg_tensor(array) -> Tensor:
    return Tensor._leaf(array, _cpu())


def _cpu():
    from ..backend import CPU

    return CPU


# torch.compile's options and the value that says what gg.compile does anyway
_TORCH_OPTIONS = {"fullgraph": True, "dynamic": False, "mode": None}


def compile(fn: Callable | None = None, **options: Any) -> CompiledFunction | Callable:  # noqa: A001
    """Trace `fn` on its first call and run generated forward and backward code afterwards.

    Why: the eager engine pays Python for every node; the compiled function pays it once per
    input signature. `.source` shows the code, `.cache_info()` says how often it retraced.
    torch.compile's `fullgraph=True`, `dynamic=False` are accepted (that is what this does);
    any other option is refused, saying why, rather than ignored.
    """
    for name, value in options.items():
        if name not in _TORCH_OPTIONS or value != _TORCH_OPTIONS[name]:
            raise TypeError(
                f"compile: {name}={value!r} has no graphgrad meaning: gg.compile always traces "
                f"the whole function (fullgraph=True), specialises on shapes (dynamic=False: "
                f"a new shape is a new trace) and generates one Python function per signature; "
                f"call gg.compile(fn)")
    if fn is None:
        return compile
    return CompiledFunction(fn)


__all__ = ["compile", "CompiledFunction", "symbolic_vjp"]

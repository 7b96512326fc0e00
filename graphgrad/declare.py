"""One declaration per public op: a typed Python function that is the op, its documentation, its
argument checks and (where PyTorch has one) its `Tensor` method.

The way PyTorch's `native_functions.yaml` gives `variants: function, method` and JAX puts `lax.exp`
in front of `exp_p`: the gate (a `Primitive`, private) keeps the rules; the public function is
what `help()`, `inspect.signature`, IDEs and the API reference read. `@declare` reads the
function's annotations once and generates a wrapper with the same signature that checks the
arguments whose annotation it understands (Tensor, bool, int, float, str, None, tuples of those,
unions), so `gg.sum(None)` or `keepdims="no"` is an `ArgumentError` naming the op, the argument,
its value and what is valid, instead of an AttributeError deep inside or a silent coercion.

Usage::

    @declare(method=True)
    def exp(x: Tensor) -> Tensor:
        '''e ** x, element-wise; gradient e ** x (the node's own output).'''
        return _exp(x)
"""

from __future__ import annotations

import functools
import inspect as _inspect
import os
import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, Union

import numpy as np

if typing.TYPE_CHECKING:
    from ._tensor import Tensor

from .errors import ArgumentError, DtypeError, GraphgradError, user_site

F = TypeVar("F", bound=Callable[..., Any])

# every public op, by name: the API reference and the surface tests walk it
OPS: dict[str, Callable[..., Any]] = {}
# the Tensor methods each declaration installed: {method name: public op name}
METHODS: dict[str, str] = {}

_FILENAME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "<declared op {name}>")


def _tensor_class() -> type:
    from ._tensor import Tensor  # at call time: _tensor imports the ops, which use declare

    return Tensor


# A value that broadcasts against a Tensor: Python and NumPy numbers and NumPy arrays become
# constants of the Tensor's dtype. Used as an annotation (`y: TensorLike`).
TensorLike = Union["Tensor", float, int, bool, np.ndarray, np.generic]

_NUMBER_KINDS = (int, float, np.integer, np.floating)


class _Check(typing.NamedTuple):
    expr: str   # a Python expression over `{v}` that is true for a valid value (inlined: fast)
    valid: str  # what a valid value is, for the error message


def _is_bool(v) -> bool:
    return v is True or v is False or isinstance(v, np.bool_)


def _is_float(v) -> bool:
    return isinstance(v, _NUMBER_KINDS) and not isinstance(v, (bool, np.bool_))


# names the generated checks use
_CHECK_NAMESPACE: dict[str, Any] = {
    "__np_bool": np.bool_, "__ints": (int, np.integer), "__bools": (bool, np.bool_),
    "__numbers": _NUMBER_KINDS, "__sequences": (tuple, list), "__arrays": (np.ndarray, np.generic),
}

_SIMPLE = {
    type(None): _Check("{v} is None", "None"),
    bool: _Check("({v} is True or {v} is False or isinstance({v}, __np_bool))",
                 "a bool (True or False)"),
    int: _Check("(isinstance({v}, __ints) and not isinstance({v}, __bools))", "an int"),
    float: _Check("(isinstance({v}, __numbers) and not isinstance({v}, __bools))", "a number"),
    str: _Check("isinstance({v}, str)", "a string"),
}


def _check_for(annotation) -> _Check | None:
    """The runtime check an annotation implies, or None where the annotation says too little
    (Any, callables, devices, dtypes): those are checked by the op itself."""
    Tensor = _tensor_class()
    _CHECK_NAMESPACE["__Tensor"] = Tensor
    if annotation is Tensor:
        return _Check("isinstance({v}, __Tensor)", "a Tensor")
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        # get_type_hints resolves TensorLike's "Tensor", so compare members, not the Union
        tensor_like = {Tensor, float, int, bool, np.ndarray, np.generic}
        parts: list[_Check | None] = []
        if tensor_like <= set(args):
            parts.append(_Check("(isinstance({v}, __Tensor) or isinstance({v}, __arrays) or "
                                "isinstance({v}, __numbers))",
                                "a Tensor, a number or a NumPy array"))
            args = tuple(arg for arg in args if arg not in tensor_like)
        parts += [_check_for(arg) for arg in args]
        known = [part for part in parts if part is not None]
        if len(known) != len(parts):
            return None
        return _Check("(" + " or ".join(part.expr for part in known) + ")",
                      " or ".join(part.valid for part in known))
    if origin in (tuple, Sequence, list) or annotation in (tuple, list):
        args = typing.get_args(annotation)
        uniform = len(args) == 1 or len(args) == 2 and args[1] is Ellipsis
        element = _check_for(args[0]) if args and uniform else None
        if element is None:
            return _Check("isinstance({v}, __sequences)", "a tuple or list")
        return _Check("(isinstance({v}, __sequences) and all(" + element.expr.format(v="__e")
                      + " for __e in {v}))",
                      f"a tuple or list of {element.valid.removeprefix('a ').removeprefix('an ')}s")
    return None


class _ShownAlias:
    """Stands for a type alias in a displayed signature: `target: TensorLike`, not the union
    spelled out (help(), IDE tooltips and the API reference print its repr)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TENSOR_LIKE_SHOWN = _ShownAlias("TensorLike")


def _shown(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        tensor_like = {_tensor_class() if member == typing.ForwardRef("Tensor") else member
                       for member in typing.get_args(TensorLike)}
        if set(typing.get_args(annotation)) == tensor_like:
            return _TENSOR_LIKE_SHOWN
    return annotation


def _describe_value(value) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _bad_argument(op: str, name: str, value, valid: str):
    raise ArgumentError(f"{op}: {name} must be {valid}, got {_describe_value(value)} "
                        f"(at {user_site(3)})")


def _name_the_op(error: GraphgradError, op: str) -> None:
    """`sub` made of `add`: an error from a gate inside names that gate; put the op the user
    called in front ("sub: add: inputs have different dtypes ...") unless the message has it."""
    message = str(error)
    if len(error.args) == 1 and not re.search(rf"(?<![\w.]){re.escape(op)}\b", message):
        error.args = (f"{op}: {message}",)


def _generate(fn: Callable, name: str, checks: dict[str, _Check]) -> Callable:
    """A wrapper with `fn`'s exact parameter list that runs the checks, then calls `fn`.

    Generated source (as dataclasses does) so the common call pays one frame and one
    isinstance per checked argument, no `Signature.bind`."""
    signature = _inspect.signature(fn)
    params, call, lines = [], [], []
    namespace = {"__fn": fn, "__bad": _bad_argument, "__Error": GraphgradError,
                 "__name_the_op": _name_the_op, **_CHECK_NAMESPACE}
    seen_keyword_only = False
    for parameter in signature.parameters.values():
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            text = "*" + text
            seen_keyword_only = True
            call.append(text)
        elif parameter.kind is parameter.VAR_KEYWORD:
            text = "**" + text
            call.append(text)
        else:
            if parameter.kind is parameter.KEYWORD_ONLY and not seen_keyword_only:
                params.append("*")
                seen_keyword_only = True
            if parameter.default is not parameter.empty:
                namespace[f"__d_{parameter.name}"] = parameter.default
                text += f"=__d_{parameter.name}"
            call.append(parameter.name if parameter.kind is parameter.POSITIONAL_ONLY
                        or parameter.kind is parameter.POSITIONAL_OR_KEYWORD and
                        not seen_keyword_only else f"{parameter.name}={parameter.name}")
        params.append(text)
        check = checks.get(parameter.name)
        if check is not None:
            skip_default = ""
            if parameter.default is not parameter.empty:
                namespace[f"__d_{parameter.name}"] = parameter.default
                skip_default = f"{parameter.name} is not __d_{parameter.name} and "
            # `reshape(x, (1.5, 8))` fills `*shape` with one tuple: show what the user passed
            shown = parameter.name
            if parameter.kind is parameter.VAR_POSITIONAL:
                shown = f"({shown}[0] if len({shown}) == 1 else {shown})"
            lines.append(f"    if {skip_default}not {check.expr.format(v=parameter.name)}:\n"
                         f"        __bad({name!r}, {parameter.name!r}, {shown}, "
                         f"{check.valid!r})")
    if any(p.kind is p.POSITIONAL_ONLY for p in signature.parameters.values()):
        last = max(i for i, p in enumerate(signature.parameters.values())
                   if p.kind is p.POSITIONAL_ONLY)
        params.insert(last + 1, "/")
    body = "\n".join(lines) + ("\n" if lines else "")
    source = (f"def {fn.__name__}({', '.join(params)}):\n{body}    try:\n"
              f"        return __fn({', '.join(call)})\n"
              f"    except __Error as __e:\n        __name_the_op(__e, {name!r})\n        raise\n")
    code = compile(source, _FILENAME.format(name=name), "exec")
    exec(code, namespace)
    wrapper = namespace[fn.__name__]
    functools.update_wrapper(wrapper, fn)
    wrapper.__signature__ = signature  # the real annotations, not the generated strings
    return wrapper


def declare(fn: F | None = None, *, name: str | None = None,
            method: bool | str | Sequence[str] = False, check: bool = True) -> Any:
    """Register `fn` as the public op `name` (default: its own name) and return it, checked.

    `method=True` installs it as the `Tensor` method of the same name (`x.sum(...)`); a string or
    a list installs it under those names (`method=("clip", "clamp")`). `check=False` returns
    `fn` itself (an op whose arguments the engine checks on its hot path).
    """

    def register(fn: F) -> F:
        op_name = name or fn.__name__
        if op_name in OPS:
            raise ValueError(f"declare: the op {op_name!r} is declared twice")
        public: Callable[..., Any] = fn
        if check:
            hints = typing.get_type_hints(fn, localns={"TensorLike": TensorLike})
            parameters = _inspect.signature(fn).parameters
            checks = {}
            for arg, annotation in hints.items():
                c = _check_for(annotation) if arg != "return" else None
                if c is not None and parameters[arg].kind is parameters[arg].VAR_POSITIONAL:
                    # `*shape: int` annotates each element: check them all, not the tuple
                    c = _Check("all(" + c.expr.format(v="__a") + " for __a in {v})", c.valid)
                if c is not None:
                    checks[arg] = c
            public = _generate(fn, op_name, checks) if checks else fn
            # help() and inspect.signature show types, not the strings of postponed annotations
            signature = _inspect.signature(fn)
            public.__signature__ = signature.replace(  # type: ignore[attr-defined,unused-ignore]
                parameters=[p.replace(annotation=_shown(hints.get(p.name, p.annotation)))
                            for p in signature.parameters.values()],
                return_annotation=hints.get("return", signature.return_annotation))
        OPS[op_name] = public
        names = (op_name,) if method is True else () if method is False else \
            (method,) if isinstance(method, str) else tuple(method)
        if names:
            Tensor = _tensor_class()
            for method_name in names:
                setattr(Tensor, method_name, public)
                METHODS[method_name] = op_name
        return public  # type: ignore[return-value]

    return register(fn) if fn is not None else register


@functools.cache
def argument_check(annotation: Any) -> tuple[Callable[[Any], bool], str] | None:
    """The test `@declare` generates for a parameter annotated `annotation`, as a predicate, and
    what a valid value is ("an int"); None where the annotation says too little (Any, devices).

    Why: arguments checked outside a declared op (layer constructors, `gg.tensor`) follow the
    same rules and wording as the ops'. Built once per annotation; declared ops never call it."""
    check = _check_for(annotation)
    if check is None:
        return None
    holds = eval("lambda __v: " + check.expr.format(v="__v"), dict(_CHECK_NAMESPACE))
    return holds, check.valid


def check_argument(op: str, name: str, value: Any, annotation: Any) -> None:
    """Raise the ArgumentError a declared op would (naming `op`, the argument, its value and what
    is valid) unless `value` fits `annotation`."""
    check = argument_check(annotation)
    if check is not None and not check[0](value):
        _bad_argument(op, name, value, check[1])


def check_dtype(op: str, dtype: Any, kinds: str = "biuf") -> None:
    """Raise DtypeError naming `op` unless `dtype` names a dtype of one of NumPy's `kinds`
    (bool, ints, floats): a name, a NumPy dtype or scalar type, or a namespace's dtype. Why:
    NumPy's own messages ("Tuple must have size 2") name neither the op nor the choices."""
    try:
        kind = np.dtype(getattr(dtype, "_np_dtype", dtype)).kind if dtype is not None else ""
    except (TypeError, ValueError, SyntaxError):
        kind = ""
    if not kind or kind not in kinds:
        names = {"b": "'bool'", "i": "'int64'", "u": "'uint8'", "f": "'float32', 'float64'"}
        examples = ", ".join(names[k] for k in kinds if k in names)
        raise DtypeError(f"{op}: dtype {_describe_value(dtype)} is not a dtype {op} takes; give "
                         f"a name such as {examples} or a NumPy dtype (at {user_site()})")


def resolve_axis(op: str, axis, dim):
    """NumPy's `axis=` and PyTorch's `dim=` name the same thing: give one of them."""
    if dim is None:
        return axis
    if axis is not None:
        raise ArgumentError(f"{op}: got both axis={axis!r} and dim={dim!r}; they are the same "
                            f"argument (NumPy's and PyTorch's spelling), give one")
    return dim


def resolve_keepdims(op: str, keepdims, keepdim) -> bool:
    """NumPy's `keepdims=` and PyTorch's `keepdim=`: give one of them; a bool."""
    if keepdim is not None:
        if keepdims:
            raise ArgumentError(f"{op}: got both keepdims and keepdim; they are the same "
                                f"argument (NumPy's and PyTorch's spelling), give one")
        keepdims = keepdim
    if not _is_bool(keepdims):
        raise ArgumentError(f"{op}: keepdim must be a bool (True or False), got "
                            f"{_describe_value(keepdims)}")
    return bool(keepdims)


__all__ = ["ArgumentError", "METHODS", "OPS", "TensorLike", "argument_check", "check_argument",
           "check_dtype", "declare", "resolve_axis", "resolve_keepdims"]

"""Tensor: one backend array plus its place in the graph.

A Tensor is the graph node (like micrograd's Value). It refers to its inputs only, never to its
consumers and never to a closure over itself, so graphs hold no reference cycles and are freed by
reference counting alone, without waiting for Python's cyclic garbage collector.
"""

from __future__ import annotations

import copy as _copy
import itertools
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from . import config
from .backend import CPU, Device, device_of, get_device, is_floating, to_numpy
from .errors import BackwardError, DtypeError, ShapeError, format_site

_seq = itertools.count()
_SCALAR_TYPES = {"float32": np.float32, "float64": np.float64}
_NO_PARAMS = types.MappingProxyType({})  # shared, read-only: "this node has no parameters"
_new_tensor = object.__new__
_default_dtype = config.get_default_dtype


class Tensor:
    """An n-dimensional array whose operations are recorded as a graph for differentiation."""

    __slots__ = ("data", "grad", "op", "inputs", "params", "seq", "name", "requires_grad",
                 "scope", "hooks", "_site", "device", "retains_grad", "_backward", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False,
                 name: str | None = None):
        if type(data) is float and device is None and dtype is None:  # the scalar fast path
            self.data = _SCALAR_TYPES[config.get_default_dtype()](data)
            self.device = CPU
        else:
            if isinstance(data, Tensor):
                data = data.data
            if data is None:
                raise TypeError("tensor: got None; give a number, a (nested) list or an array")
            target = get_device(device) if device is not None else _device_of_or_cpu(data)
            try:
                if dtype is None and _is_python_float_data(data):
                    dtype = config.get_default_dtype()
                self.data = target.asarray(data, dtype=dtype)
            except ValueError as error:  # ragged lists, unparsable strings
                raise ShapeError(f"tensor: cannot make an array of this data: {error}") from error
            if isinstance(self.data, np.ndarray) and self.data.dtype.kind not in "biuf":
                raise DtypeError(
                    f"tensor: the data became {self.data.dtype} values; a tensor holds bool, "
                    f"integer or floating point numbers")
            self.device = target
        self.grad = None
        self.op = None
        self.inputs = ()
        self.params = _NO_PARAMS
        self.seq = next(_seq)
        self.name = name
        self.scope = ()
        self.hooks = None
        self._site = None
        self.retains_grad = False
        self._backward = None  # (stamp, gradient) recorded by a releasing backward (autodiff)
        self.requires_grad = False
        if requires_grad:
            if self.device is CPU and self.data.dtype.kind == "f":
                self.requires_grad = True
            else:
                self.requires_grad_(True)

    @staticmethod
    def _leaf(data, device: Device) -> Tensor:
        """Fast constructor for arrays already on `device` (the hot path of every op)."""
        t = _new_tensor(Tensor)
        t.data = data
        t.device = device
        t.grad = None
        t.op = None
        t.inputs = ()
        t.params = _NO_PARAMS
        t.seq = next(_seq)
        t.name = None
        t.requires_grad = False
        t.scope = ()
        t.hooks = None
        t._site = None
        t.retains_grad = False
        t._backward = None
        return t

    # ----- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return math.prod(self.data.shape)

    @property
    def site(self) -> str | None:
        """'file.py:123' where user code created this node (None for leaves and untracked results)."""
        return format_site(self._site)

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def item(self) -> float:
        if _tracer is not None:
            _tracer.read(self, "item")
        if self.size != 1:
            raise ValueError(f"item(): only a tensor with one element converts, this one has shape {self.shape}")
        return to_numpy(self.data).reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied to the host if needed; never part of the graph)."""
        return np.asarray(to_numpy(self.data))

    def tolist(self):
        if _tracer is not None:
            _tracer.read(self, "tolist")
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array.astype(dtype) if dtype is not None else array

    def __bool__(self) -> bool:
        if _tracer is not None:
            _tracer.read(self, "__bool__")
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        if _tracer is not None:
            _tracer.read(self, "__float__")
        return float(self.item())

    def __int__(self) -> int:
        if _tracer is not None:
            _tracer.read(self, "__int__")
        return int(self.item())

    # ----- graph facts -------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not (self.device is CPU and self.data.dtype.kind == "f") \
                and not _is_floating(self):
            raise TypeError(
                f"requires_grad_: only floating tensors can require gradients, this one is {self.dtype}"
            )
        if self.op is not None and not requires_grad:
            raise BackwardError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values as a new leaf, cut from the graph (shares the array)."""
        t = Tensor._leaf(self.data, self.device)
        t.name = self.name
        if _tracer is not None:
            _tracer.detached(t, self)
        return t

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        self.retains_grad = True
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call `hook(grad)` when this tensor's gradient is complete; a returned Tensor replaces it.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise BackwardError("register_hook: this tensor does not require grad, so no gradient reaches it")
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        return lambda: self.hooks.remove(hook)

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into `.grad` of the leaves."""
        _autodiff.sweep((self,), None if gradient is None else (gradient,),
                        retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def to(self, device) -> Tensor:
        """A copy on `device`; differentiable (the gradient moves back)."""
        target = get_device(device)
        if target is self.device:
            return self
        return _ops.to_device(self, device=target)

    def cpu(self) -> Tensor:
        return self.to(CPU)

    # ----- pickling and copying ---------------------------------------------------------------
    def __reduce_ex__(self, protocol):
        """Pickled as a leaf: values (on the host), device, requires_grad, name and .grad. The
        graph that computed it is not kept (nor hooks): unpickled, it is a fresh leaf."""
        return _rebuild, (type(self), to_numpy(self.data), self.device.name, self.requires_grad,
                          self.name, self.grad)

    def __deepcopy__(self, memo) -> Tensor:
        """A leaf with a copy of the values on the same device (`copy.deepcopy(model)` keeps
        the best model while training goes on). As in PyTorch, a node computed inside a graph
        cannot be deep-copied: `.detach()` it first."""
        if self.op is not None:
            raise RuntimeError(
                f"deepcopy: this tensor was computed by {self.op.name!r} (at {self.site}) and is "
                f"part of a graph; only leaves (inputs, parameters) can be deep-copied, so copy "
                f"x.detach() instead")
        copied = _rebuild(type(self), self.device.xp.asarray(self.data, copy=True),
                          self.device.name, self.requires_grad, self.name,
                          _copy.deepcopy(self.grad, memo))
        memo[id(self)] = copied
        return copied

    # ----- repr ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        values = np.array2string(self.numpy(), precision=4, separator=", ", threshold=20,
                                 prefix="tensor(")
        extras = []
        if self.device is not CPU:
            extras.append(f"device='{self.device}'")
        if str(self.dtype) not in ("float32", "int64", "bool"):
            extras.append(f"dtype={self.dtype}")
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.op is not None:
            extras.append(f"op={self.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([values] + extras) + ")"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Notebooks show this tensor's values, op and gradient (cheap: no graph walk); drawing
        the graph is the explicit `draw()`."""
        from . import viz

        return viz.tensor_mimebundle(self, include, exclude)

    def draw(self, **kwargs):
        """The graph that computed this tensor as a `graphviz.Digraph` (a notebook displays it);
        keywords as for `gg.viz.draw` (style="circuit", expand=True, path=...)."""
        from . import viz

        return viz.draw(self, **kwargs)

    # ----- operators (each one is a gate or a composition of gates) -----------------------------
    def __add__(self, other): return _apply(_ops.add, (self, other), _NO_PARAMS)
    def __radd__(self, other): return _apply(_ops.add, (self, other), _NO_PARAMS)  # other + self
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(_as_tensor_like(other, self), self)
    def __mul__(self, other): return _apply(_ops.mul, (self, other), _NO_PARAMS)
    def __rmul__(self, other): return _apply(_ops.mul, (self, other), _NO_PARAMS)  # other * self
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other):
        if isinstance(other, (int, float)) and other == 1:  # not an array: `arr == 1` is an array
            return _ops.reciprocal(self)  # 1/x is the lecture's single 1/x gate
        return _ops.div(_as_tensor_like(other, self), self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(_as_tensor_like(other, self), self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(_as_tensor_like(other, self), self)
    def __neg__(self): return _apply(_ops.neg, (self,), _NO_PARAMS)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __lt__(self, other): return _ops.less(self, other)
    def __le__(self, other): return _ops.less_equal(self, other)
    def __gt__(self, other): return _ops.greater(self, other)
    def __ge__(self, other): return _ops.greater_equal(self, other)
    def __eq__(self, other): return _ops.equal(self, other)  # type: ignore[override]
    def __ne__(self, other): return _ops.not_equal(self, other)  # type: ignore[override]
    __hash__ = object.__hash__

    def __getitem__(self, index): return _ops.getitem(self, index)

    def __iter__(self):
        """The rows along axis 0, each a node of the graph (`for row in x`, `a, b = x`)."""
        for i in range(len(self)):
            yield _ops.getitem(self, i)

    def __setitem__(self, index, value):
        raise TypeError(
            "Tensor does not support item assignment: a tensor is a node of the graph, and "
            "changing it in place would change what its consumers computed. Build a new one, "
            "e.g. gg.where(mask, value, x), or gg.concatenate / gg.stack of the pieces")

    # ----- methods users know from NumPy and PyTorch --------------------------------------------
    def sum(self, axis=None, keepdims: bool = False): return _ops.sum(self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims: bool = False): return _ops.mean(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims: bool = False): return _ops.max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims: bool = False): return _ops.min(self, axis=axis, keepdims=keepdims)
    def var(self, axis=None, keepdims: bool = False): return _ops.var(self, axis=axis, keepdims=keepdims)
    def std(self, axis=None, keepdims: bool = False): return _ops.std(self, axis=axis, keepdims=keepdims)
    def argmax(self, axis=None): return _ops.argmax(self, axis=axis)
    def argmin(self, axis=None): return _ops.argmin(self, axis=axis)
    def any(self, axis=None, keepdims: bool = False): return _ops.any(self, axis=axis, keepdims=keepdims)
    def all(self, axis=None, keepdims: bool = False): return _ops.all(self, axis=axis, keepdims=keepdims)
    def norm(self, p: float = 2, axis=None, keepdims: bool = False):
        return _ops.norm(self, p=p, axis=axis, keepdims=keepdims)
    def logsumexp(self, axis=None, keepdims: bool = False):
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)
    def clip(self, min=None, max=None): return _ops.clip(self, min, max)
    clamp = clip  # PyTorch's name
    def numel(self) -> int: return self.size          # PyTorch's names for size and ndim
    def dim(self) -> int: return self.ndim
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def abs(self): return _ops.abs(self)
    def reciprocal(self): return _ops.reciprocal(self)
    def maximum(self, other): return _ops.maximum(self, other)
    def astype(self, dtype): return _ops.astype(self, dtype=dtype)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape=shape)

    def view(self, *shape): return self.reshape(*shape)
    def flatten(self, start_dim: int = 0, end_dim: int = -1): return _ops.flatten(self, start_dim, end_dim)

    def transpose(self, *dims) -> Tensor:
        """Two axes are swapped (PyTorch's `transpose(0, 1)`). A full order, as a tuple or as
        one int per axis, permutes them, and no argument reverses them (NumPy's meanings, where
        they cannot be mistaken for a swap); `permute` always takes a full order."""
        if not dims:
            return _ops.transpose(self)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            return self.permute(dims[0])
        if len(dims) == 2:
            return _ops.swapaxes(self, *dims)
        if len(dims) == self.ndim:
            return self.permute(dims)
        raise TypeError(
            f"transpose: {len(dims)} axes {dims} for a tensor of shape {self.shape}; pass two "
            f"axes to swap (transpose(0, 1), as in PyTorch) or all {self.ndim} in their new "
            f"order (permute(...))")

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _ops.transpose(self, axes=dims)

    @property
    def T(self): return _ops.transpose(self)

    def squeeze(self, axis=None): return _ops.squeeze(self, axis=axis)
    def unsqueeze(self, axis: int): return _ops.expand_dims(self, axis=axis)
    def expand_dims(self, axis: int): return _ops.expand_dims(self, axis=axis)
    def broadcast_to(self, shape): return _ops.broadcast_to(self, shape=tuple(shape))


def _rebuild(cls: type, array, device: str, requires_grad: bool, name, grad) -> Tensor:
    """A leaf of class `cls` (Tensor, Parameter) from what `__reduce_ex__` saved."""
    t = object.__new__(cls)
    Tensor.__init__(t, array, device=device, name=name)
    t.requires_grad = requires_grad
    t.grad = grad
    return t


def _is_floating(t: Tensor) -> bool:
    return is_floating(t.device.xp, t.data.dtype)


def _is_python_float_data(data) -> bool:
    if isinstance(data, float) and not isinstance(data, np.generic):
        return True
    if isinstance(data, (list, tuple)):
        flat = np.asarray(data)
        return flat.dtype.kind == "f"
    return False


def _device_of_or_cpu(data) -> Device:
    if isinstance(data, (int, float, bool, list, tuple, np.ndarray, np.generic)):
        return CPU
    return device_of(data)


def _as_tensor_like(value, reference: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    from ._primitive import constant_like

    return constant_like(value, reference)


def tensor(data: Any, dtype=None, device=None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """Make a leaf tensor: `gg.tensor(2.0, requires_grad=True, name="w0")`.

    Python floats and lists of floats become the default dtype (float32, as in PyTorch and JAX;
    see `gg.set_default_dtype`); NumPy arrays keep their dtype.
    """
    if type(data) is float and device is None and dtype is None:  # a scalar: the fast path
        t = Tensor._leaf(_SCALAR_TYPES[_default_dtype()](data), CPU)
        t.requires_grad = bool(requires_grad)  # a Python float always makes a floating tensor
        t.name = name
        return t
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad, name=name)


# The hot operators call the primitive application directly (one Python call less per gate);
# graphgrad._primitive sets `_apply` when it is defined.
_apply = None
# Set by graphgrad.compile while a trace runs in any thread (the core never imports it):
# `read(tensor, method)` raises ConcretizationError in the tracing thread (control flow may not
# read values), `detached(copy, original)` notes that a `.detach()` copy stands for its original.
_tracer = None

from . import ops as _ops  # ops need Tensor defined first
from . import autodiff as _autodiff

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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import config
from .backend import CPU, Device, device_of, dtype_name, get_device, is_floating, to_numpy
from .errors import (ArgumentError, BackwardError, DeviceError, DtypeError, InPlaceError,
                     ShapeError, format_site)

if TYPE_CHECKING:
    from ._primitive import Primitive
    from .composites import activations as _activations
    from .config import Scope
    from .ops import elementwise as _elementwise
    from .ops import linalg as _linalg
    from .ops import reduction as _reduction
    from .ops import scan as _scan
    from .ops import selection as _selection
    from .ops import structural as _structural

_seq = itertools.count()
_current_scope = config.current_scope
# ONE[dtype] * number is dtype.type(number), the same value, overflow and warning included (NEP
# 50: the number takes the scalar's dtype), made 2.6x sooner for float32 (167 ns against 435)
ONE = {"float32": np.float32(1.0), "float64": np.float64(1.0),
       np.dtype(np.float32): np.float32(1.0), np.dtype(np.float64): np.float64(1.0)}
# shared, read-only: "this node has no parameters"
_NO_PARAMS: Mapping[str, Any] = types.MappingProxyType({})
_new_tensor = object.__new__
_default_dtype = config.get_default_dtype


class _Size(int):
    _shape: tuple[int, ...]
    """NumPy's `x.size` (the number of elements, an int) that PyTorch's `x.size()` /
    `x.size(dim)` can also call: an int everywhere (arithmetic, range, np.zeros) and, called,
    the shape tuple or one axis's size."""

    def __new__(cls, size: int, shape: tuple[int, ...]) -> _Size:
        self = super().__new__(cls, size)
        self._shape = shape  # the array's own shape tuple; made plain ints when called
        return self

    def __call__(self, dim: int | None = None) -> int | tuple[int, ...]:
        """The shape (no argument) or the size of axis `dim` (negative counts from the end)."""
        if dim is None:
            return tuple(int(n) for n in self._shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise ArgumentError(f"size: dim must be an int or None, got {dim!r} "
                                f"({type(dim).__name__})")
        if not -len(self._shape) <= dim < len(self._shape):
            raise ShapeError(f"size: dim {dim} is out of range for a tensor with "
                             f"{len(self._shape)} dimensions (valid: {-len(self._shape)} to "
                             f"{len(self._shape) - 1})")
        return int(self._shape[dim])

    def __reduce__(self):
        return int, (int(self),)  # pickled (and copied) as the plain int it is


class Tensor:
    """An n-dimensional array whose operations are recorded as a graph for differentiation."""

    __slots__ = ("data", "grad", "op", "inputs", "params", "seq", "name", "requires_grad",
                 "scope", "hooks", "_site", "device", "retains_grad", "_backward", "_from_library",
                 "__weakref__")
    # what each slot holds (for type checkers; the slots above are the storage)
    data: Any
    grad: Tensor | None
    op: Primitive | None
    inputs: tuple[Tensor, ...]
    params: Mapping[str, Any]
    seq: int
    name: str | None
    requires_grad: bool
    scope: tuple[Scope, ...]
    hooks: list[Callable[[Tensor], Tensor | None]] | None
    _site: tuple[str, int] | None
    device: Device
    retains_grad: bool
    _backward: tuple[int, Any] | None
    # True for constants the library makes or owns (a Python number in `x * 0.5`, pooling indices,
    # a module's buffers, a tensor made inside a module's forward such as a dropout mask): the
    # drawing folds those into the box that uses them, and keeps the user's own data in sight
    _from_library: bool

    if TYPE_CHECKING:
        # The methods `@declare(method=...)` installs, as type checkers and IDEs see them (at run
        # time the declarations set them; tests/test_api_surface.py keeps this list complete).
        # The casts float(), double(), long(), int() and bool() are installed too but not listed:
        # here the first three would shadow the built-in types in this class's annotations.
        abs = _elementwise.abs
        add = _elementwise.add
        all = _reduction.all
        amax = _reduction.amax
        amin = _reduction.amin
        any = _reduction.any
        argmax = _reduction.argmax
        argmin = _reduction.argmin
        astype = _structural.astype
        broadcast_to = _structural.broadcast_to
        ceil = _elementwise.ceil
        chunk = _structural.chunk
        clamp = _elementwise.clip
        clip = _elementwise.clip
        clone = _structural.clone
        cumsum = _scan.cumsum
        cos = _elementwise.cos
        div = _elementwise.div
        equal = eq = _elementwise.equal
        erf = _elementwise.erf
        exp = _elementwise.exp
        expand = _structural.expand
        expand_dims = _structural.expand_dims
        flatten = _structural.flatten
        floor = _elementwise.floor
        gather = _selection.gather
        greater = gt = _elementwise.greater
        greater_equal = ge = _elementwise.greater_equal
        isfinite = _elementwise.isfinite
        isinf = _elementwise.isinf
        isnan = _elementwise.isnan
        less = lt = _elementwise.less
        less_equal = le = _elementwise.less_equal
        log = _elementwise.log
        log_softmax = _activations.log_softmax
        logsumexp = _reduction.logsumexp
        masked_fill = _selection.masked_fill
        matmul = _linalg.matmul
        max = _reduction.max
        maximum = _elementwise.maximum
        mean = _reduction.mean
        min = _reduction.min
        minimum = _elementwise.minimum
        mm = _linalg.mm
        mul = _elementwise.mul
        neg = _elementwise.neg
        norm = _reduction.norm
        not_equal = ne = _elementwise.not_equal
        permute = _structural.permute
        pow = _elementwise.pow
        prod = _scan.prod
        reciprocal = _elementwise.reciprocal
        relu = _activations.relu
        repeat = _structural.repeat
        reshape = _structural.reshape
        round = _elementwise.round
        sigmoid = _activations.sigmoid
        sign = _elementwise.sign
        sin = _elementwise.sin
        softmax = _activations.softmax
        sort = _selection.sort
        split = _structural.split
        sqrt = _elementwise.sqrt
        squeeze = _structural.squeeze
        std = _reduction.std
        sub = _elementwise.sub
        sum = _reduction.sum
        swapaxes = _structural.swapaxes
        t = _structural.t
        tanh = _activations.tanh
        topk = _selection.topk
        unsqueeze = _structural.unsqueeze
        var = _reduction.var
        view = _structural.view

    def __init__(self, data: Any, dtype: str | np.dtype | type | None = None,
                 device: str | Device | None = None, requires_grad: bool = False,
                 name: str | None = None) -> None:
        if type(data) is float and device is None and dtype is None:  # the scalar fast path
            self.data = ONE[config.get_default_dtype()] * data
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
        self._from_library = bool(_current_scope())  # made inside a module's forward
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
        t._from_library = True
        return t

    # ----- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:  # np.dtype on NumPy and CuPy; the namespace's own dtype elsewhere
        return self.data.dtype

    @property
    def size(self) -> _Size:
        """The number of elements, as NumPy's `.size` (an int), and also callable as PyTorch's
        `size()`: `x.size()` is the shape tuple and `x.size(d)` is `x.shape[d]`. Both habits
        work because the value is an int subclass with a `__call__`."""
        return _Size(math.prod(self.data.shape), self.data.shape)

    @property
    def site(self) -> str | None:
        """'file.py:123' where user code created this node (None for leaves and untracked
        results)."""
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
        if math.prod(self.data.shape) != 1:
            raise ValueError(f"item(): only a tensor with one element converts, this one has "
                             f"shape {self.shape}")
        return to_numpy(self.data).reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied to the host if needed; never part of the graph)."""
        return np.asarray(to_numpy(self.data))

    def tolist(self) -> Any:  # nested lists, or one Python number for a 0-d tensor
        if _tracer is not None:
            _tracer.read(self, "tolist")
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array.astype(dtype) if dtype is not None else array

    def __bool__(self) -> bool:
        if _tracer is not None:
            _tracer.read(self, "__bool__")
        if math.prod(self.data.shape) != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or "
                f".all()"
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
                f"requires_grad_: only floating tensors can require gradients, this one is "
                f"{self.dtype}"
            )
        if self.op is not None and not requires_grad:
            raise BackwardError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values as a new leaf, cut from the graph (shares the array)."""
        t = Tensor._leaf(self.data, self.device)
        t.name = self.name
        t._from_library = False
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
            raise BackwardError("register_hook: this tensor does not require grad, so no "
                                "gradient reaches it")
        if self.hooks is None:
            self.hooks = []
        hooks = self.hooks
        hooks.append(hook)
        return lambda: hooks.remove(hook)

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, gradient: Tensor | np.ndarray | float | None = None,
                 retain_graph: bool = False, create_graph: bool = False) -> None:
        """Backpropagate from this tensor, accumulating into `.grad` of the leaves."""
        _autodiff.sweep((self,), None if gradient is None else (gradient,),
                        retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def to(self, *args: Any, device: str | Device | None = None, dtype: Any = None) -> Tensor:
        """This tensor on another device and/or with another dtype, as torch's `.to`:
        `x.to("cuda")`, `x.to(gg.float64)`, `x.to("cpu", "float32")`, `x.to(other)` (other's
        device and dtype). Differentiable (the gradient moves and casts back); `x` itself when
        nothing changes."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, Device) or (isinstance(arg, str) and _is_device_name(arg)):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None:
            out = out.astype(dtype)
        if device is not None:
            target = get_device(device)
            if target is not out.device:
                out = _ops.to_device(out, device=target)
        return out

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

    # `draw()` and the notebook display (`_repr_mimebundle_`) are installed by graphgrad.viz:
    # the viewer reaches the engine from outside, the core never imports it.

    # ----- operators (each one is a gate or a composition of gates) -----------------------------
    # They call the private gates directly (`_apply`, or the undeclared helpers bound at the end
    # of this file): `x + y` pays no argument checks. The named ops (`x.sum(...)`, `x.exp()`)
    # are the public functions themselves, installed by their declarations in graphgrad.ops.
    def __add__(self, other): return _apply(_add, (self, other), _NO_PARAMS)
    def __radd__(self, other): return _apply(_add, (self, other), _NO_PARAMS)  # other + self
    def __sub__(self, other): return _sub(self, other)
    def __rsub__(self, other): return _sub(_as_tensor_like(other, self), self)
    def __mul__(self, other): return _apply(_mul, (self, other), _NO_PARAMS)
    def __rmul__(self, other): return _apply(_mul, (self, other), _NO_PARAMS)  # other * self
    def __truediv__(self, other): return _div(self, other)
    def __rtruediv__(self, other):
        if isinstance(other, (int, float)) and other == 1:  # not an array: `arr == 1` is an array
            return _apply(_reciprocal, (self,), _NO_PARAMS)  # 1/x is the lecture's single 1/x gate
        return _div(_as_tensor_like(other, self), self)
    def __pow__(self, other): return _apply(_pow, (self, other), _NO_PARAMS)
    def __rpow__(self, other): return _apply(_pow, (_as_tensor_like(other, self), self), _NO_PARAMS)
    def __matmul__(self, other): return _matmul(self, other)
    def __rmatmul__(self, other): return _matmul(_as_tensor_like(other, self), self)
    def __neg__(self): return _apply(_neg, (self,), _NO_PARAMS)
    def __pos__(self): return self
    def __abs__(self): return _abs(self)
    def __lt__(self, other): return _apply(_less, (self, other), _NO_PARAMS)
    def __le__(self, other): return _apply(_less_equal, (self, other), _NO_PARAMS)
    def __gt__(self, other): return _apply(_greater, (self, other), _NO_PARAMS)
    def __ge__(self, other): return _apply(_greater_equal, (self, other), _NO_PARAMS)
    def __eq__(self, other): return _apply(_equal, (self, other), _NO_PARAMS)
    def __ne__(self, other): return _apply(_not_equal, (self, other), _NO_PARAMS)
    __hash__ = object.__hash__

    def __getitem__(self, index): return _index(self, index)

    def __iter__(self):
        """The rows along axis 0, each a node of the graph (`for row in x`, `a, b = x`)."""
        for i in range(len(self)):
            yield _index(self, i)

    def __setitem__(self, index, value):
        raise TypeError(
            "Tensor does not support item assignment: a tensor is a node of the graph, and "
            "changing it in place would change what its consumers computed. Build a new one, "
            "e.g. gg.where(mask, value, x), or gg.concatenate / gg.stack of the pieces")

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """NumPy meets a Tensor. `array + tensor` is `tensor.__radd__(array)` (a graph node);
        `array += tensor` updates the array in place with the tensor's values (micrograd's
        `p.data += -lr * p.grad`); any other NumPy function refuses, as before."""
        if method != "__call__" or kwargs:
            return NotImplemented
        if out is not None:
            if any(isinstance(o, Tensor) for o in out):
                return NotImplemented
            return ufunc(*[t.data if isinstance(t, Tensor) else t for t in inputs], out=out)
        reflected = _REFLECTED.get(ufunc.__name__)
        if reflected is None or len(inputs) != 2 or inputs[1] is not self:
            return NotImplemented
        return getattr(self, reflected)(inputs[0])

    # ----- in place: what PyTorch allows on leaves (a manual SGD step, zeroing a gradient) ------
    # A graph node never changes (its consumers computed with its values): `y += 1` on one makes
    # a new node, as `y = y + 1`. A leaf changes in place, keeping its identity, dtype and device,
    # unless it requires grad while gradients are recorded (PyTorch refuses that too).
    def _in_place(self, op: str, values: Any) -> Tensor:
        if self.op is not None:
            raise InPlaceError(
                f"{op}: this tensor is the result of {self.op.name} (created at {self.site}), a "
                f"node of the graph; changing it would change what its consumers computed. "
                f"Make a new tensor instead (y = y + other)")
        if self.requires_grad and config.is_grad_enabled():
            raise InPlaceError(
                f"{op}: {self.name or 'this leaf'} requires grad, and changing it in place while "
                f"gradients are recorded would corrupt them (PyTorch refuses it too). Update it "
                f"under `with gg.no_grad():`, or use an optimizer from gg.optim")
        if isinstance(values, Tensor):
            if values.device is not self.device:
                raise DeviceError(f"{op}: the values are on {values.device}, the tensor on "
                                  f"{self.device}")
            values = values.data
        xp = self.device.xp
        new = xp.asarray(values)
        if _KIND_ORDER.index(_kind(new.dtype)) > _KIND_ORDER.index(_kind(self.data.dtype)):
            raise DtypeError(f"{op}: {dtype_name(new.dtype)} values cannot go into a "
                             f"{self.dtype} tensor without losing their kind (convert them first)")
        try:
            new = xp.broadcast_to(new, self.shape)
        except ValueError:
            raise ShapeError(f"{op}: values of shape {tuple(new.shape)} do not broadcast to the "
                             f"tensor's shape {self.shape}") from None
        dtype = self.data.dtype
        self.data = xp.astype(new, dtype) if hasattr(xp, "astype") else new.astype(dtype)
        return self

    def _in_place_binary(self, op: str, other: Any, combine: Callable[[Any, Any], Any]) -> Tensor:
        value = other.data if isinstance(other, Tensor) else other
        return self._in_place(op, combine(self.data, value))

    def _augmented(symbol: str, combine: Callable[[Any, Any], Any]):  # type: ignore[misc]
        """`x op= y`: in place on a leaf; a graph node returns NotImplemented, so Python makes
        a new node (x = x op y)."""
        def update(self, other):
            if self.op is not None:
                return NotImplemented
            return self._in_place_binary(symbol, other, combine)
        return update

    __iadd__ = _augmented("+=", lambda a, b: a + b)
    __isub__ = _augmented("-=", lambda a, b: a - b)
    __imul__ = _augmented("*=", lambda a, b: a * b)
    __itruediv__ = _augmented("/=", lambda a, b: a / b)
    del _augmented

    def add_(self, other: Any, *, alpha: float = 1.0) -> Tensor:
        """self += alpha * other, in place (torch's add_); see the rules above `_in_place`."""
        return self._in_place_binary("add_", other, lambda a, b: a + alpha * b)

    def sub_(self, other: Any, *, alpha: float = 1.0) -> Tensor:
        """self -= alpha * other, in place (torch's sub_)."""
        return self._in_place_binary("sub_", other, lambda a, b: a - alpha * b)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place (torch's mul_)."""
        return self._in_place_binary("mul_", other, lambda a, b: a * b)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place (torch's div_)."""
        return self._in_place_binary("div_", other, lambda a, b: a / b)

    def fill_(self, value: float) -> Tensor:
        """Every element set to `value`, in place (torch's fill_)."""
        return self._in_place("fill_", value)

    def zero_(self) -> Tensor:
        """Every element set to 0, in place (torch's zero_: `w.grad.zero_()`)."""
        return self._in_place("zero_", 0)

    def copy_(self, src: Any) -> Tensor:
        """The values of `src` (broadcast to this shape), in place (torch's copy_)."""
        return self._in_place("copy_", src)

    # ----- methods that are not ops ---------------------------------------------------------------
    # Every op method (sum, exp, reshape, view, clip/clamp, float, chunk, ...) is installed by
    # its declaration in graphgrad.ops (`@declare(method=True)`): the method IS the public op.
    def numel(self) -> int:
        """The number of elements (PyTorch's numel; NumPy's size)."""
        return math.prod(self.data.shape)

    def dim(self) -> int:
        """The number of axes (PyTorch's dim; NumPy's ndim)."""
        return self.data.ndim

    def transpose(self, *dims: int | tuple[int, ...]) -> Tensor:
        """Two axes are swapped (PyTorch's `transpose(0, 1)`). A full order, as a tuple or as
        one int per axis, permutes them, and no argument reverses them (NumPy's meanings, where
        they cannot be mistaken for a swap); `permute` always takes a full order. Gradient: g
        transposed back. (`gg.transpose(x, axes)` is NumPy's function.)"""
        if not dims:
            return _ops.transpose(self)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            return _ops.permute(self, dims[0])
        if len(dims) == 2:
            return _ops.swapaxes(self, *dims)
        if len(dims) == self.ndim:
            return _ops.permute(self, dims)
        raise TypeError(
            f"transpose: {len(dims)} axes {dims} for a tensor of shape {self.shape}; pass two "
            f"axes to swap (transpose(0, 1), as in PyTorch) or all {self.ndim} in their new "
            f"order (permute(...))")

    @property
    def T(self) -> Tensor:
        """All axes reversed (NumPy's and PyTorch's .T); gradient: g reversed back."""
        return _ops.transpose(self)


def _rebuild(cls: type, array, device: str, requires_grad: bool, name, grad) -> Tensor:
    """A leaf of class `cls` (Tensor, Parameter) from what `__reduce_ex__` saved."""
    t: Tensor = object.__new__(cls)
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


def tensor(data: Any, dtype: str | np.dtype | type | None = None,
           device: str | Device | None = None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """Make a leaf tensor: `gg.tensor(2.0, requires_grad=True, name="w0")`.

    Python floats and lists of floats become the default dtype (float32, as in PyTorch and JAX;
    see `gg.set_default_dtype`); NumPy arrays keep their dtype. A bad `dtype` or a flag that is
    not a bool is an error naming `tensor` (not NumPy's message, not a truthy "no").
    """
    if dtype is not None or (requires_grad is not False and requires_grad is not True):
        from .declare import check_argument, check_dtype  # only on this path: no cost otherwise

        check_argument("tensor", "requires_grad", requires_grad, bool)
        if dtype is not None:
            check_dtype("tensor", dtype)
    if type(data) is float and device is None and dtype is None:  # a scalar: the fast path
        t = Tensor._leaf(ONE[_default_dtype()] * data, CPU)
        t._from_library = bool(_current_scope())  # the user's own value, unless in a forward
        t.requires_grad = bool(requires_grad)  # a Python float always makes a floating tensor
        t.name = name
        return t
    t = Tensor(data, dtype=dtype, device=device, name=name)
    if requires_grad:
        try:
            t.requires_grad_(True)
        except TypeError as error:  # integer or bool data: say which call made it
            raise DtypeError(f"tensor: {error}; give floating data or dtype='float32'") from None
    return t


_KIND_ORDER = ("bool", "int", "float")  # an in-place update never narrows to an earlier kind


def _kind(dtype: Any) -> str:
    name = dtype_name(dtype)
    return "bool" if name == "bool" else "int" if "int" in name else "float"


def _is_device_name(name: str) -> bool:
    """'cpu', 'cuda', 'cuda:1', 'strict:device1': a device (any other string is a dtype)."""
    return name.split(":", 1)[0] in ("cpu", "cuda", "strict")


# NumPy's ufunc for `array <op> tensor` -> the Tensor method that computes it
_REFLECTED = {"add": "__radd__", "subtract": "__rsub__", "multiply": "__rmul__",
              "divide": "__rtruediv__", "true_divide": "__rtruediv__", "power": "__rpow__",
              "matmul": "__rmatmul__", "less": "__gt__", "less_equal": "__ge__",
              "greater": "__lt__", "greater_equal": "__le__", "equal": "__eq__",
              "not_equal": "__ne__"}

# Shown (help(), signatures, reprs of the class) where users reach it, as torch.Tensor is
Tensor.__module__ = "graphgrad"

# The hot operators call the primitive application directly (one Python call less per gate);
# graphgrad._primitive sets `_apply` when it is defined.
_apply: Any = None
# Set by graphgrad.compiler while a trace runs in any thread (the core never imports it):
# `read(tensor, method)` raises ConcretizationError in the tracing thread (control flow may not
# read values), `detached(copy, original)` notes that a `.detach()` copy stands for its original.
_tracer = None

# The gates and undeclared helpers the operators call, bound by graphgrad.ops once defined (they
# import this module, so it cannot import them): `x + y` is one call to `_apply(_add, ...)`.
# Set before importing ops, which binds them, whichever of the two modules is imported first.
_add: Any = None
_mul: Any = None
_neg: Any = None
_pow: Any = None
_reciprocal: Any = None
_less: Any = None
_less_equal: Any = None
_greater: Any = None
_greater_equal: Any = None
_equal: Any = None
_not_equal: Any = None
_sub: Any = None
_div: Any = None
_abs: Any = None
_matmul: Any = None
_index: Any = None

# ops need Tensor defined first (their declarations add the methods); ops before autodiff
from . import ops as _ops  # noqa: E402, I001
from . import autodiff as _autodiff  # noqa: E402, I001

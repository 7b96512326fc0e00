"""The one place that knows NumPy from CuPy (and from array_api_strict, the CI stand-in).

Everything above this module receives an array namespace `xp` and calls array-API functions on it.
What the array API lacks (padding, scatter-add, random generators, moving data to the host) lives
here as small functions that dispatch on the namespace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DeviceError

# An array of some backend (NumPy, CuPy, array_api_strict): `Any`, because CuPy is optional and
# untyped and the namespaces share no common base class (why not np.ndarray: it would be a lie).
Array = Any


class Device:
    """A place where arrays live, with the namespace that computes on them."""

    __slots__ = ("name", "xp", "native")

    def __init__(self, name: str, xp: Any, native: Any = None) -> None:
        self.name = name
        self.xp = xp
        self.native = native  # the library's own device object (array_api_strict, CuPy), if any

    def __repr__(self) -> str:
        return f"device(type={self.name!r})"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name == other
        return self is other

    __hash__ = object.__hash__

    def __reduce__(self):
        """Pickled and copied by name: the copy is the process's own Device of that name, so
        `device is CPU` style checks keep holding (a second CPU object would be "another
        device" to every op)."""
        return get_device, (self.name,)

    def asarray(self, data: Any, dtype: Any = None) -> Array:
        """`data` (Python number, list, NumPy array, array of another backend) as an array here."""
        xp = self.xp
        if dtype is not None:
            dtype = resolve_dtype(xp, dtype)
        if self.native is None and xp is np:
            return np.asarray(data, dtype=dtype)
        if not isinstance(data, (int, float, bool, list, tuple, np.ndarray, np.generic)):
            data = to_numpy(data)
        if isinstance(data, (np.ndarray, np.generic)) and dtype is None:
            dtype = resolve_dtype(xp, str(data.dtype))
        return xp.asarray(data, dtype=dtype, device=self.native)


CPU = Device("cpu", np)
_DEVICES: dict[str, Device] = {"cpu": CPU}


def _cuda_device(name: str) -> Device:
    try:
        import cupy
        from array_api_compat import cupy as cupy_namespace
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise DeviceError(
            f"device {name!r} needs CuPy: install graphgrad with the 'cuda' extra "
            "(pip install 'graphgrad[cuda]') on a machine with an NVIDIA GPU"
        ) from error
    index = int(name.split(":")[1]) if ":" in name else 0
    if index >= cupy.cuda.runtime.getDeviceCount():  # pragma: no cover
        raise DeviceError(f"device {name!r}: this machine has "
                          f"{cupy.cuda.runtime.getDeviceCount()} GPU(s)")
    return Device(f"cuda:{index}", cupy_namespace, cupy.cuda.Device(index))


def _strict_device(name: str) -> Device:
    try:
        import array_api_strict
    except ImportError as error:
        raise DeviceError(
            f"device {name!r} needs array_api_strict (installed with the 'dev' extra)"
        ) from error
    native_name = name.split(":", 1)[1] if ":" in name else "CPU_DEVICE"
    return Device(f"strict:{native_name}", array_api_strict, array_api_strict.Device(native_name))


def get_device(spec: str | Device | None = None) -> Device:
    """`"cpu"`, `"cuda"`, `"cuda:1"`, `"strict"` or `"strict:device1"` as a Device (cached)."""
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    name = str(spec)
    device = _DEVICES.get(name)
    if device is not None:
        return device
    if name == "cuda" or name.startswith("cuda:"):
        device = _cuda_device(name)
    elif name == "strict" or name.startswith("strict:"):
        device = _strict_device(name)
    else:
        raise DeviceError(
            f"unknown device {name!r}: expected 'cpu', 'cuda', 'cuda:N', 'strict' or 'strict:NAME'"
        )
    _DEVICES[name] = _DEVICES[device.name] = device
    return device


def device_of(array: Array) -> Device:
    """The Device an array lives on."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    module = type(array).__module__
    if module.startswith("array_api_strict"):
        return get_device(f"strict:{array.device._device}")
    if module.startswith("cupy"):
        return get_device(f"cuda:{array.device.id}")
    raise DeviceError(f"cannot tell the device of an object of type {type(array).__name__}")


def to_numpy(array: Array) -> np.ndarray:
    """A host NumPy copy (or view) of any backend's array."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    module = type(array).__module__
    if module.startswith("cupy"):
        return array.get()
    if module.startswith("array_api_strict"):
        return np.asarray(array._array)
    return np.asarray(array)


def resolve_dtype(xp: Any, dtype: Any) -> Any:
    """A dtype name, NumPy dtype or namespace dtype as the namespace's dtype object."""
    if xp is np:
        return np.dtype(dtype)
    if isinstance(dtype, (str, np.dtype, type)):
        return getattr(xp, np.dtype(dtype).name)
    return dtype


def dtype_name(dtype: Any) -> str:
    """'float32' for a dtype of any namespace, or for the name itself."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return np.dtype(getattr(dtype, "_np_dtype", str(dtype))).name


def is_floating(xp: Any, dtype: Any) -> bool:
    """Whether `dtype` is a real floating dtype of namespace `xp` (what can carry a gradient)."""
    if xp is np:
        return dtype.kind == "f"
    return xp.isdtype(dtype, "real floating")


def pad(xp: Any, x: Array, pad_width: Sequence[tuple[int, int]],
        value: float = 0.0) -> Array:
    """Constant padding; `pad_width` is ((before, after), ...) per axis."""
    if xp is np:
        return np.pad(x, pad_width, mode="constant", constant_values=value)
    if xp.__name__.endswith("cupy"):
        import cupy

        return cupy.pad(x, pad_width, mode="constant", constant_values=value)
    shape = tuple(n + before + after for n, (before, after) in zip(x.shape, pad_width))
    out = xp.full(shape, value, dtype=x.dtype, device=x.device)
    out[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, pad_width))] = x
    return out


def is_basic_index(index: Any) -> bool:
    """Only ints, slices, None and ... (no arrays): NumPy's basic indexing."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis or isinstance(part, (int, slice)) for part in parts)


def is_mask(xp: Any, index: Any) -> bool:
    """Whether `index` is a boolean array of namespace `xp`."""
    dtype = getattr(index, "dtype", None)
    if dtype is None or isinstance(index, (np.ndarray, np.generic)) and xp is not np:
        return False
    return dtype == np.bool_ if xp is np else xp.isdtype(dtype, "bool")


def take_index(xp: Any, x: Array, index: Any) -> Array:
    """x[index]. The array API refuses a lone integer array (x[i] picking rows, as Embedding
    does; it wants every axis indexed, and an array index only beside integers): there it is
    `take` of the flattened indices along the first axis, reshaped."""
    dtype = getattr(index, "dtype", None)
    if xp is np or isinstance(index, tuple) or dtype is None or not xp.isdtype(dtype, "integral"):
        return x[index]
    flat = xp.reshape(index, (-1,))
    flat = xp.where(flat < 0, flat + x.shape[0], flat)  # take wants them in [0, n)
    return xp.reshape(xp.take(x, flat, axis=0), tuple(index.shape) + tuple(x.shape[1:]))


def scatter_add(xp: Any, shape: tuple[int, ...], index: Any, values: Array) -> Array:
    """zeros(shape) with `values` added at `index` (repeated fancy indices accumulate)."""
    out = xp.zeros(shape, dtype=values.dtype, device=values.device)
    if is_basic_index(index):
        parts = index if isinstance(index, tuple) else (index,)
        if xp is not np and any(part is None for part in parts):
            # the array API refuses None in an assignment: drop the new axes from the values
            index = tuple(part for part in parts if part is not None)
            values = xp.reshape(values, tuple(out[index].shape))
        out[index] = values
    elif is_mask(xp, index):  # a sole boolean mask selects each element at most once
        out[index] = values
    elif xp is np:
        np.add.at(out, index, values)
    elif xp.__name__.endswith("cupy"):
        import cupyx

        cupyx.scatter_add(out, index, values)
    else:
        return _segment_sum(xp, shape, index, values)
    return out


def _segment_sum(xp: Any, shape: tuple[int, ...], index: Any, values: Array) -> Array:
    """`scatter_add` on a namespace without `np.add.at` (the array API has no scatter-add):
    number every position of the result, pick their numbers with `index` as the forward did,
    sort them, and read each position's total as the difference of the prefix sums at the ends
    of its run (`searchsorted`). Only sort, take, cumulative_sum and searchsorted: every
    array-API namespace has them. The prefix sums run in float64, so a total is exact to about
    1e-16 of the sum of the magnitudes before it."""
    device = values.device
    int64 = xp.int64
    size = math.prod(shape)
    positions = take_index(xp, xp.reshape(xp.arange(size, dtype=int64, device=device), shape),
                           index)
    keys = xp.reshape(positions, (-1,))
    if size == 0 or keys.shape[0] == 0:
        return xp.zeros(shape, dtype=values.dtype, device=device)
    flat = xp.reshape(xp.broadcast_to(values, positions.shape), (-1,))
    order = xp.argsort(keys, stable=True)
    keys = xp.take(keys, order)
    wide = xp.float64 if xp.isdtype(values.dtype, "real floating") else values.dtype
    sums = xp.cumulative_sum(xp.astype(xp.take(flat, order), wide), include_initial=True)
    targets = xp.arange(size, dtype=int64, device=device)
    totals = (xp.take(sums, xp.searchsorted(keys, targets, side="right"))
              - xp.take(sums, xp.searchsorted(keys, targets, side="left")))
    return xp.reshape(xp.astype(totals, values.dtype), shape)


def random_generator(seed: int | None = None) -> np.random.Generator:
    """A seeded NumPy generator: random numbers are drawn on the host, then moved to the device.
    No seed: the default generator (`gg.manual_seed`)."""
    if seed is None:
        from ..config import default_generator

        return default_generator()
    return np.random.default_rng(seed)

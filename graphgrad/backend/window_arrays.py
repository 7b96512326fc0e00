"""Sliding windows on arrays: geometry, window extraction (im2col), its adjoint (col2im), and the
reusable scratch buffers the NumPy conv kernels copy windows and temporaries into.

Convolution and pooling rest on one linear pair. `unfold` copies every kernel-sized window of a
padded, N-d, channels-first input into one array; `fold` is its adjoint: it adds each window back
where it came from (a scatter-add, overlapping windows summing). Everything here works on arrays
and an array namespace `xp`; the graph-level primitives live in `graphgrad/ops/window.py`.

Three spellings of the same copy:
- NumPy: one `as_strided` view of the padded input, copied once into the requested layout;
- any array-API namespace (CuPy, array_api_strict): a loop over the kernel offsets (kh * kw for 2-d)
  with strided slicing, one slice assignment per offset;
- `fold` always loops over the kernel offsets: for one offset the target positions are distinct, so
  `out[slice] += cols[offset]` is a plain strided add on every backend (no `np.add.at`).

Layouts: `"nck"` is (N, C, *kernel, *out) (what the `unfold` primitive returns, reshapeable to
(N, C*K, L)); `"ckn"` is (C, *kernel, N, *out), reshapeable to the (C*K, N*L) matrix of one big
matmul (the fused conv path).
"""

from __future__ import annotations

import itertools
import math
import threading
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import ShapeError
from . import Array

Pairs = tuple[tuple[int, int], ...]


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def normalize_tuple(value: int | Sequence[int], ndim: int, name: str, op: str,
                    minimum: int = 1) -> tuple[int, ...]:
    """An int or a sequence of `ndim` ints as a tuple, each at least `minimum`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * ndim
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != ndim or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise ShapeError(
                f"{op}: {name} must be an int or {ndim} ints (one per spatial axis), got {value!r}"
            )
        values = tuple(int(v) for v in values)
    else:
        raise ShapeError(f"{op}: {name} must be an int or {ndim} ints, got {value!r}")
    for v in values:
        if v < minimum:
            what = "positive" if minimum == 1 else f"at least {minimum}"
            raise ShapeError(f"{op}: {name} must be {what}, got {value!r}")
    return values


def normalize_padding(padding: int | str | Sequence[int | Sequence[int]], ndim: int,
                      kernel: Sequence[int], dilation: Sequence[int], stride: Sequence[int],
                      op: str) -> Pairs:
    """Padding as ((lo, hi), ...) per spatial axis.

    Accepts an int, one int per axis, one (lo, hi) pair per axis, `"valid"` (no padding) or `"same"`
    (output size = input size; stride 1 only, the odd pixel goes after, as in PyTorch and
    TensorFlow).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(
                    f"{op}: padding='same' needs stride 1 (got stride {tuple(stride)}); "
                    "give the padding as numbers instead"
                )
            pairs = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        raise ShapeError(
            f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}"
        )
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        if padding < 0:
            raise ShapeError(f"{op}: padding must be non-negative, got {padding}")
        return ((int(padding), int(padding)),) * ndim
    if isinstance(padding, Sequence) and len(padding) == ndim:
        pairs = []
        for p in padding:
            if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
                pair = (int(p), int(p))
            elif isinstance(p, Sequence) and len(p) == 2:
                pair = (int(p[0]), int(p[1]))
            else:
                pair = None
            if pair is None or pair[0] < 0 or pair[1] < 0:
                raise ShapeError(
                    f"{op}: padding must be non-negative ints or (before, after) pairs, "
                    f"got {padding!r}"
                )
            pairs.append(pair)
        return tuple(pairs)
    raise ShapeError(
        f"{op}: padding must be an int, {ndim} ints, {ndim} (before, after) pairs, 'same' or "
        f"'valid', got {padding!r}"
    )


class WindowGeometry(NamedTuple):
    """Everything a sliding-window op needs, normalised and checked.

    `exact[i]` is True when the windows tile axis i exactly: the last window ends on the last
    (padded) element, no row or column is silently dropped by the floor convention.
    """

    in_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: Pairs
    dilation: tuple[int, ...]
    out_size: tuple[int, ...]
    exact: tuple[bool, ...]


def window_geometry(op: str, in_size: Sequence[int], kernel_size: int | Sequence[int],
                    stride: int | Sequence[int] = 1,
                    padding: int | str | Sequence[int | Sequence[int]] = 0,
                    dilation: int | Sequence[int] = 1, strict: bool = False) -> WindowGeometry:
    """Normalise and check a window geometry; the error names `op` and the numbers."""
    in_size = tuple(int(n) for n in in_size)
    ndim = len(in_size)
    kernel = normalize_tuple(kernel_size, ndim, "kernel_size", op)
    stride = normalize_tuple(stride, ndim, "stride", op)
    dilation = normalize_tuple(dilation, ndim, "dilation", op)
    pads = normalize_padding(padding, ndim, kernel, dilation, stride, op)
    for label, sizes in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation),
                         ("padding", tuple(v for pair in pads for v in pair))):
        if any(v >= 2**62 for v in sizes):  # NumPy's strides would overflow (OverflowError)
            raise ShapeError(f"{op}: {label} {sizes} is beyond any array (at most 2**62 - 1)")
    out, exact = [], []
    for axis, (n, k, s, (lo, hi), d) in enumerate(zip(in_size, kernel, stride, pads, dilation)):
        span = d * (k - 1) + 1
        padded = n + lo + hi
        if span > padded:
            dil = f" (kernel {k} with dilation {d})" if d > 1 else ""
            raise ShapeError(
                f"{op}: kernel spans {span} elements{dil} but the padded input has only "
                f"{padded} along spatial axis {axis} (size {n} + padding {lo}+{hi}); use a "
                f"kernel of at most {padded} or more padding"
            )
        steps, rest = divmod(padded - span, s)
        out.append(steps + 1)
        exact.append(rest == 0)
        if strict and rest:
            fits = [t for t in range(1, padded - span + 1) if (padded - span) % t == 0]
            raise ShapeError(
                f"{op}: stride {s} cannot tile spatial axis {axis}: input {n} + padding {lo}+{hi}"
                f" = {padded}, kernel span {span}: ({padded} - {span}) / {s} = "
                f"{(padded - span) / s:.4g} is not an integer; {rest} element(s) would be left "
                f"over. Strides that tile: {fits or [1]}; or change the padding"
            )
    return WindowGeometry(in_size, kernel, stride, pads, dilation, tuple(out), tuple(exact))


def _offsets(kernel: Sequence[int]):
    return itertools.product(*(range(k) for k in kernel))


def _window_slices(offset, geometry: WindowGeometry) -> tuple[slice, ...]:
    """The slice of the padded input that kernel position `offset` reads for every output."""
    return tuple(
        slice(o * d, o * d + s * (n_out - 1) + 1, s)
        for o, d, s, n_out in zip(offset, geometry.dilation, geometry.stride, geometry.out_size)
    )


def _is_numpy(x) -> bool:
    return isinstance(x, np.ndarray)


def _zeros(xp, shape, like):
    if _is_numpy(like):
        return np.zeros(shape, dtype=like.dtype)
    return xp.zeros(shape, dtype=like.dtype, device=like.device)


def _empty(xp, shape, like):
    if _is_numpy(like):
        return np.empty(shape, dtype=like.dtype)
    return xp.empty(shape, dtype=like.dtype, device=like.device)


def pad_spatial(xp: Any, x: Array, padding: Pairs) -> Array:
    """Zero padding of the trailing len(padding) axes (no copy when there is none)."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    shape = tuple(x.shape[:lead]) + tuple(
        n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], padding)
    )
    out = _zeros(xp, shape, x)
    inner = (slice(None),) * lead + tuple(
        slice(lo, lo + n) for n, (lo, _) in zip(x.shape[lead:], padding)
    )
    out[inner] = x
    return out


def crop_spatial(x: Array, padding: Pairs) -> Array:
    """The inverse of `pad_spatial`: a view without the padding."""
    if not any(lo or hi for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    return x[(slice(None),) * lead + tuple(
        slice(lo, n - hi) for n, (lo, hi) in zip(x.shape[lead:], padding)
    )]


# --------------------------------------------------------------------------------------------
# unfold (im2col) and fold (col2im)
# --------------------------------------------------------------------------------------------


def unfold(xp: Any, x: Array, geometry: WindowGeometry, layout: str = "nck",
           scratch: bool = False) -> Array:
    """All windows of `x` (N, C, *spatial): (N, C, *kernel, *out) or, with layout "ckn",
    (C, *kernel, N, *out). Padding is zeros. Output dtype = input dtype. `scratch=True` (NumPy,
    for callers that drop the result before the next call) copies into the reused scratch buffer."""
    nd = len(geometry.kernel)
    if x.ndim != nd + 2:
        raise ShapeError(f"unfold: expected an input with {nd + 2} axes (N, C, *spatial), "
                         f"got shape {tuple(x.shape)}")
    xp_ = pad_spatial(xp, x, geometry.padding)
    n, c = x.shape[0], x.shape[1]
    if _is_numpy(xp_):
        return _unfold_numpy(xp_, geometry, layout, n, c, scratch)
    if layout == "nck":
        out = _empty(xp, (n, c) + geometry.kernel + geometry.out_size, x)
        for offset in _offsets(geometry.kernel):
            out[(slice(None), slice(None)) + offset + (...,)] = xp_[
                (slice(None), slice(None)) + _window_slices(offset, geometry)]
        return out
    out = _empty(xp, (c,) + geometry.kernel + (n,) + geometry.out_size, x)
    swapped = xp.permute_dims(xp_, (1, 0) + tuple(range(2, nd + 2)))
    for offset in _offsets(geometry.kernel):
        out[(slice(None),) + offset + (...,)] = swapped[
            (slice(None), slice(None)) + _window_slices(offset, geometry)]
    return out


def _unfold_numpy(xp_, geometry: WindowGeometry, layout: str, n: int, c: int,
                  scratch: bool = False):
    strides = xp_.strides
    spatial = strides[2:]
    kernel_strides = tuple(st * d for st, d in zip(spatial, geometry.dilation))
    out_strides = tuple(st * s for st, s in zip(spatial, geometry.stride))
    if layout == "nck":
        shape = (n, c) + geometry.kernel + geometry.out_size
        view_strides = (strides[0], strides[1]) + kernel_strides + out_strides
    elif layout == "ckn":
        shape = (c,) + geometry.kernel + (n,) + geometry.out_size
        view_strides = (strides[1],) + kernel_strides + (strides[0],) + out_strides
    else:
        raise ValueError(f"unfold: unknown layout {layout!r}; expected 'nck' or 'ckn'")
    view = np.lib.stride_tricks.as_strided(xp_, shape, view_strides, writeable=False)
    if scratch and xp_.dtype.kind == "f":  # internal to a conv kernel: reuse the scratch buffer
        out = _scratch(shape, xp_.dtype)
        np.copyto(out, view)
        return out
    return np.ascontiguousarray(view)


def fold(xp: Any, cols: Array, geometry: WindowGeometry, layout: str = "nck") -> Array:
    """Adjoint of `unfold`: add every window back into a zero (N, C, *in_size) array.

    `cols` is (N, C, *kernel, *out) ("nck") or (C, *kernel, N, *out) ("ckn"). Overlapping
    windows sum; the padding is cropped off at the end.
    """
    nd = len(geometry.kernel)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geometry.in_size, geometry.padding))
    if layout == "nck":
        n, c = cols.shape[0], cols.shape[1]
        out = _zeros(xp, (n, c) + padded, cols)
        target = out
        lead = (slice(None), slice(None))

        def pick(offset):
            return cols[lead + offset + (...,)]
    elif layout == "ckn":
        c, n = cols.shape[0], cols.shape[1 + nd]
        out = _zeros(xp, (c, n) + padded, cols)  # (C, N, *padded): matches the cols layout
        target = out
        lead = (slice(None), slice(None))

        def pick(offset):
            return cols[(slice(None),) + offset + (...,)]
    else:
        raise ValueError(f"fold: unknown layout {layout!r}; expected 'nck' or 'ckn'")
    for offset in _offsets(geometry.kernel):
        index = lead + _window_slices(offset, geometry)
        if _is_numpy(target):
            view = target[index]
            np.add(view, pick(offset), out=view)
        else:
            target[index] = target[index] + pick(offset)
    if layout == "ckn":
        out = xp.permute_dims(out, (1, 0) + tuple(range(2, nd + 2)))
    return crop_spatial(out, geometry.padding)




# --------------------------------------------------------------------------------------------
# Scratch workspace (NumPy): reusable buffers per thread
# --------------------------------------------------------------------------------------------
#
# A fresh large array costs page faults on first touch (about 2.5 us per 4 KiB page on a
# virtual machine: a fresh 1 MB temporary costs more than the copy into it), so the NumPy conv
# kernels take their temporaries from buffers kept from call to call, one per named slot
# ("padded", "windows", "part", ...). A slot's content is valid until the slot is asked for
# again: nothing is carried from one kernel call to the next. `release_workspace()` frees them,
# in every thread (the kernels' worker threads keep theirs too).


class _ThreadBuffers(dict):
    """One thread's scratch buffers, by slot (a dict subclass, so the registry can hold it weakly:
    a thread that ends takes its buffers with it). Identity, not content, tells two apart."""

    __hash__ = object.__hash__  # type: ignore[assignment]  # (dict's is None: unhashable)
    __eq__ = object.__eq__


_workspace = threading.local()
_every_thread: weakref.WeakSet[_ThreadBuffers] = weakref.WeakSet()
_registry_lock = threading.Lock()


def _scratch(shape, dtype, slot: str = "windows"):
    """A reusable C-contiguous array from buffer `slot` (valid until that slot is asked again)."""
    buffers = getattr(_workspace, "buffers", None)
    if buffers is None:
        buffers = _workspace.buffers = _ThreadBuffers()
        with _registry_lock:
            _every_thread.add(buffers)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffer = buffers.get(slot)
    if buffer is None or buffer.nbytes < nbytes:
        buffers.pop(slot, None)  # let the old one go before allocating the new one
        buffer = buffers[slot] = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def _every_threads_buffers() -> list[_ThreadBuffers]:
    with _registry_lock:
        return list(_every_thread)


def release_workspace() -> None:
    """Free the conv scratch buffers of every thread (kept between calls for speed).

    A kernel running meanwhile keeps the arrays it was handed (they are views that hold their
    buffer); its next call allocates afresh.
    """
    for buffers in _every_threads_buffers():
        buffers.clear()


def workspace_bytes() -> int:
    """Bytes the conv scratch buffers of all threads hold now."""
    return sum(buffer.nbytes for buffers in _every_threads_buffers()
               for buffer in list(buffers.values()))

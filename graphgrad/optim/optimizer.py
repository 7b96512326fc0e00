"""Optimizer base: parameter groups, per-parameter state, zero_grad, step, state_dict.

Updates run on the parameters' arrays (``p.data``) under `no_grad()`: an optimizer step is not part
of any graph. Each parameter group is a dict with its own hyper-parameters, so a fine-tuned network
can train its head at the full rate, its middle at 1/10 and its first layers at 1/100 (the
lecture's transfer-learning tip), and frozen layers (``requires_grad=False``) are skipped.

Regularisation knobs of the lecture live in every group:
``weight_decay`` (L2, the gradient of ½λw²), ``l1`` (the gradient λ·sign(w) of λ|w|), both together
(L1+L2, "elastic net"), and ``max_norm`` (after each step, every unit's incoming weight vector is
rescaled to norm at most c). They apply to weights, i.e. parameters with two or more dimensions
(Linear and Conv2d weights); biases are not regularised.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from graphgrad import config
from graphgrad._tensor import Tensor
from graphgrad.backend import Array, dtype_name

__all__ = ["Optimizer"]

COMMON_DEFAULTS = {"weight_decay": 0.0, "l1": 0.0, "max_norm": None}


def _array_namespace(array):
    from graphgrad.backend import device_of

    return device_of(array).xp


class Optimizer:
    """Base class. Subclasses set `defaults` and implement `update(p, g, group, state)`.

    `update` gets the parameter, its (regularised) gradient array and returns the new array.
    """

    defaults: ClassVar[dict[str, Any]] = {}  # per class; each instance gets its merged copy

    def __init__(self, params: Iterable, **hyper: Any) -> None:
        allowed = {**COMMON_DEFAULTS, **type(self).defaults}
        unknown = sorted(set(hyper) - set(allowed))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {unknown}; valid: {sorted(allowed)}"
            )
        self.defaults = {**allowed, **hyper}  # type: ignore[misc]  # PyTorch's per-instance dict
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}  # id(parameter) -> state arrays
        if hasattr(params, "data") and hasattr(params, "grad"):  # iterating would give its rows
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, but got "
                f"{type(params).__name__}; pass a list: {type(self).__name__}([w], ...)"
            )
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if isinstance(params[0], Mapping):
            for group in params:
                self.add_param_group(group)
        else:
            self.add_param_group({"params": params})

    # ----------------------------------------------------------------------------- groups
    def add_param_group(self, group: Mapping) -> None:
        """Add ``{"params": [...], "lr": ..., ...}``; missing options take the defaults."""
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"a parameter group is a dict with a 'params' list, got {group!r}")
        index = len(self.param_groups)
        unknown = sorted(set(group) - set(self.defaults) - {"params", "name"})
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {unknown} in parameter group {index}; "
                f"valid: {sorted(self.defaults)}"
            )
        params = group["params"]
        params = [params] if hasattr(params, "data") else list(params)
        if not params:
            raise ValueError(f"parameter group {index} has no parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not hasattr(p, "data") or not hasattr(p, "grad"):
                raise TypeError(
                    f"parameter group {index}: expected Tensors/Parameters, got {type(p).__name__}"
                )
            if not getattr(p, "is_leaf", True):
                raise ValueError(
                    f"parameter group {index}: can't optimize a non-leaf Tensor (made by op "
                    f"{p.op.name!r}): its value is recomputed from its inputs; optimize those, "
                    f"or a leaf copy (`x.detach().requires_grad_()`)"
                )
            if id(p) in seen:
                name = getattr(p, "name", None) or "a parameter"
                raise ValueError(f"{name} appears in more than one parameter group")
            seen.add(id(p))
        merged = {**self.defaults, **dict(group), "params": params}
        if merged.get("lr") is None:
            raise ValueError(f"parameter group {index} has no learning rate: pass lr=")
        self._check_group(merged, index)
        merged.setdefault("initial_lr", merged["lr"])
        self.param_groups.append(merged)

    def _check_group(self, group: dict, index: int) -> None:
        """Validate (and normalise to Python numbers) the hyper-parameters of one group: what
        the constructor is given and what `load_state_dict` reads alike."""
        for key in ("lr", "weight_decay", "l1", "initial_lr"):
            if key in group:
                group[key] = check_real(group[key], key, index, low=0.0)
        if group["max_norm"] is not None:
            group["max_norm"] = check_real(group["max_norm"], "max_norm", index, low=0.0,
                                           low_open=True, what="a positive number or None")

    @property
    def parameters(self) -> list[Tensor]:
        """Every parameter of every group, in order (what `step` updates)."""
        return [p for group in self.param_groups for p in group["params"]]

    # ----------------------------------------------------------------------------- stepping
    def zero_grad(self) -> None:
        """Forget the gradients of the last backward (set ``p.grad = None``)."""
        for p in self.parameters:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient, all or nothing: every new value
        and state is computed first (`update` returns new arrays and fills a copy of the state),
        then all are assigned, so an error or Ctrl-C during the step changes no parameter."""
        pending = []
        with config.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None or not p.requires_grad:
                        continue  # frozen, or not reached by this backward
                    g = p.grad.data
                    if g.shape != p.data.shape:
                        name = getattr(p, "name", None) or "parameter"
                        raise ValueError(
                            f"{name}: gradient shape {tuple(g.shape)} differs from parameter "
                            f"shape {tuple(p.data.shape)}"
                        )
                    is_weight = p.data.ndim >= 2
                    if is_weight and (group["weight_decay"] or group["l1"]):
                        g = self._penalty_gradient(p.data, g, group)
                    state = dict(self.state.get(id(p), {}))
                    new = self.update(p.data, g, group, state)
                    if is_weight and group["max_norm"] is not None:
                        new = max_norm_project(new, group["max_norm"])
                    pending.append((p, new, state))
        self._assign(pending)

    def _assign(self, pending: list) -> None:
        """Assign the computed updates. A KeyboardInterrupt arriving meanwhile is held until
        every one is assigned (assigning twice is harmless), then raised."""
        done, interrupt = 0, None
        while done < len(pending):
            try:
                while done < len(pending):
                    p, new, state = pending[done]
                    p.data = new
                    self.state[id(p)] = state
                    done += 1
            except KeyboardInterrupt as error:
                interrupt = error
        if interrupt is not None:
            raise interrupt

    @staticmethod
    def _penalty_gradient(w, g, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w  # d/dw of ½λ‖w‖²
        if group["l1"]:
            xp = _array_namespace(w)
            g = g + group["l1"] * xp.sign(w)  # a subgradient of λ‖w‖₁ (0 at w = 0)
        return g

    def update(self, w: Array, g: Array, group: dict[str, Any],
               state: dict[str, Any]) -> Array:  # pragma: no cover - abstract
        """The new value of parameter array `w` from its gradient `g` (penalties already
        added), the group's hyper-parameters and the parameter's own `state`, which the rule
        updates in place. Each optimizer is this one method; `step` does the rest."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters per group and state arrays per parameter, keyed by position.

        Plain arrays and numbers only, so `gg.save(optimizer, path)` works without pickling.
        """
        groups, state = {}, {}
        position = 0
        for index, group in enumerate(self.param_groups):
            groups[str(index)] = {
                key: np.asarray(value)
                for key, value in group.items()
                if key not in ("params", "name") and value is not None
            }
            for p in group["params"]:
                if id(p) in self.state and self.state[id(p)]:
                    state[str(position)] = dict(self.state[id(p)])
                position += 1
        return {"groups": groups, "state": state}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore `state_dict()`; everything is checked before anything changes."""
        groups = state_dict.get("groups", {})
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"state has {len(groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        allowed = set(self.defaults) | {"initial_lr"}
        for index in range(len(self.param_groups)):
            saved = groups.get(str(index))
            if not isinstance(saved, Mapping):
                raise ValueError(  # noqa: TRY004  mostly a missing group (None): bad state data
                    f"state has no parameter group {index} (groups are keyed '0', '1', ...; "
                    f"got {sorted(groups)})"
                )
            unknown = sorted(set(saved) - allowed)
            if unknown:
                raise ValueError(
                    f"parameter group {index}: option(s) {unknown} are not options of "
                    f"{type(self).__name__} (valid: {sorted(allowed)}); was the state saved from "
                    f"another optimizer?"
                )
        new_groups = []
        for index, group in enumerate(self.param_groups):
            new_group = dict(group)
            for key, default in {**COMMON_DEFAULTS, **type(self).defaults}.items():
                if default is None and key not in groups[str(index)]:
                    new_group[key] = None  # state_dict() leaves out options that are None
            for key, value in groups[str(index)].items():
                value = np.asarray(value)
                new_group[key] = value.item() if value.ndim == 0 else tuple(value.tolist())
            self._check_group(new_group, index)
            new_groups.append(new_group)
        params = self.parameters
        new_state = {}
        for key, entry in state_dict.get("state", {}).items():
            position = int(key) if str(key).isdigit() else -1
            if not 0 <= position < len(params) or not isinstance(entry, Mapping):
                raise ValueError(f"state entry {key!r}: expected the position of one of the "
                                 f"{len(params)} parameters holding a dict of arrays")
            new_state[id(params[position])] = {
                name: _state_value(value, params[position], f"{name!r} of parameter {position}")
                for name, value in entry.items()
            }
        for group, new_group in zip(self.param_groups, new_groups):
            group.update(new_group)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for index, group in enumerate(self.param_groups):
            options = ", ".join(
                f"{k}={v}" for k, v in group.items() if k not in ("params", "initial_lr")
            )
            lines.append(f"  group {index}: {len(group['params'])} tensors, {options}")
        lines.append(")")
        return "\n".join(lines)


def check_real(value: Any, key: str, index: int, *, low: float, high: float = math.inf,
               low_open: bool = False, high_open: bool = False, what: str | None = None) -> float:
    """`value` as a Python float if it is a real, finite number in the range; a ValueError naming
    the group and option otherwise (a string or array would fail later, inside NumPy)."""
    number = None
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
    inside = (number is not None and math.isfinite(number)
              and (low < number if low_open else low <= number)
              and (number < high if high_open else number <= high))
    if not inside:
        interval = (f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
                    if math.isfinite(high) else f"{'>' if low_open else '>='} {low:g}")
        raise ValueError(f"parameter group {index}: {key} must be "
                         f"{what or 'a finite real number ' + interval}, got {value!r} "
                         f"({type(value).__name__})")
    assert number is not None  # (inside implies a number)
    return number


def check_bool(value: Any, key: str, index: int) -> bool:
    """`value` as a Python bool if it is one (NumPy's too, as a loaded state gives back); a
    ValueError naming the group and option otherwise ("no" or 1 would silently mean True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"parameter group {index}: {key} must be True or False, got {value!r}")
    return bool(value)


def _state_value(value: Any, p, what: str):
    """A loaded state value on `p`'s device: arrays in `p`'s dtype and shape (as PyTorch casts
    them: Adam moments from a float64 run must not turn a float32 model into float64), counters
    as Python numbers."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"state {what}: expected numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and array.shape == tuple(p.data.shape):
        return p.device.asarray(array, dtype=dtype_name(p.data.dtype))
    if array.ndim == 0:
        return array.item()
    raise ValueError(f"state {what}: expected shape {tuple(p.data.shape)}, got {array.shape}")


def max_norm_project(w: Array, c: float) -> Array:
    """Rescale every row (output unit / output channel) of `w` to Euclidean norm at most `c`."""
    xp = _array_namespace(w)
    axes = tuple(range(1, w.ndim))
    norms = xp.sqrt(xp.sum(w * w, axis=axes, keepdims=True))
    scale = xp.where(norms > c, c / (norms + 1e-12), xp.ones_like(norms))
    return w * xp.astype(scale, w.dtype) if hasattr(xp, "astype") else w * scale.astype(w.dtype)

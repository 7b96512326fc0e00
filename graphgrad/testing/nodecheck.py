"""Per-node local-gradient check: does one node's VJP agree with finite differences of its forward?

`gradcheck` tests a whole function; this tests a single gate where it sits in a graph, with the
input values it saw, which is how `gg.viz.draw(root, check=True)` points at "the backprop bug":
the node whose rule is wrong is coloured, the error in its tooltip.

For a node y = f(x_1, ..., x_n) and a fixed random upstream u, the analytic side is the VJP
`<u, df/dx_i>` and the numerical side the central difference of `phi(x) = <u, f(x)>`, element by
element for small inputs and along a few random directions for large ones, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ELEMENTWISE_LIMIT = 64
DIRECTIONS = 3


@dataclass(frozen=True)
class SlotCheck:
    slot: int
    analytic: float  # the compared quantity (worst element, or a directional derivative)
    numerical: float
    error: float  # |analytic - numerical| / max(1, |analytic|, |numerical|)
    where: str  # "element (i, j)" or "direction k"


@dataclass(frozen=True)
class NodeCheck:
    op: str
    ok: bool
    max_error: float
    slots: tuple[SlotCheck, ...]

    @property
    def message(self) -> str:
        if not self.slots:
            return f"{self.op}: nothing to check (no differentiable floating input)"
        worst = max(self.slots, key=lambda s: s.error)
        verdict = "agrees with" if self.ok else "DISAGREES with"
        return (f"{self.op}: local gradient {verdict} finite differences; "
                f"worst: input {worst.slot} {worst.where}: analytic {worst.analytic:.6g}, "
                f"numerical {worst.numerical:.6g}, "
                f"relative error {worst.error:.3g}")


def _forward(op, arrays, params) -> np.ndarray:
    from ..backend import get_device, to_numpy

    xp = get_device("cpu").xp
    return np.asarray(to_numpy(op.forward(xp, *[xp.asarray(a) for a in arrays], **params)),
                      dtype=np.float64)


def _vjp(op, u, out, arrays, params, slots) -> list:
    from .._tensor import Tensor
    from ..backend import to_numpy
    from ..config import no_grad

    with no_grad():
        copies = []
        for i, a in enumerate(arrays):
            t = Tensor(np.array(a, copy=True))
            if i in slots:
                t.requires_grad_(True)
            copies.append(t)
        result = op.vjp(Tensor(np.array(u)), Tensor(np.array(out)), *copies, **params)
    out_list: list[np.ndarray | None] = []
    for i, item in enumerate(result):
        if item is None:
            out_list.append(None)
            continue
        array = np.asarray(to_numpy(item.data if hasattr(item, "data") else item), dtype=np.float64)
        shape = np.shape(arrays[i])
        if array.shape != shape:  # the engine sums broadcast cotangents; do the same here
            extra = array.ndim - len(shape)
            array = array.sum(axis=tuple(range(extra))) if extra > 0 else array
            axes = tuple(k for k, n in enumerate(shape) if n == 1 and array.shape[k] != 1)
            array = array.sum(axis=axes, keepdims=True) if axes else array
            array = np.broadcast_to(array, shape)
        out_list.append(array)
    return out_list


def check_node(op, inputs, params=None, *, eps: float = 1e-6, rtol: float = 1e-4,
               seed: int = 0) -> NodeCheck:
    """Check `op`'s VJP at `inputs` (arrays; the values the node saw) against central differences.

    Floating inputs are promoted to float64; integer inputs (indices) and `op.nondiff` slots are
    left alone. Returns a NodeCheck; `ok` is False when some error exceeds `rtol`.
    """
    params = dict(params or {})
    name = getattr(op, "name", str(op))
    if getattr(op, "vjp", None) is None:
        return NodeCheck(name, True, 0.0, ())
    arrays = []
    slots = []
    for i, a in enumerate(inputs):
        a = np.asarray(a)
        if a.dtype.kind == "f" and i not in getattr(op, "nondiff", ()):
            arrays.append(a.astype(np.float64))
            slots.append(i)
        else:
            arrays.append(a)
    if not slots:
        return NodeCheck(name, True, 0.0, ())
    rng = np.random.default_rng(seed)
    out = _forward(op, arrays, params)
    u = rng.standard_normal(out.shape)
    analytic = _vjp(op, u, out, arrays, params, set(slots))

    def phi(shifted) -> float:
        return float(np.sum(u * _forward(op, shifted, params)))

    results = []
    for i in slots:
        a_i = analytic[i] if i < len(analytic) else None
        if a_i is None:
            a_i = np.zeros_like(arrays[i])
        base = arrays[i]
        worst = None
        if base.size <= ELEMENTWISE_LIMIT:
            for index in np.ndindex(base.shape):
                plus, minus = base.copy(), base.copy()
                plus[index] += eps
                minus[index] -= eps
                num = (phi(arrays[:i] + [plus] + arrays[i + 1:]) -
                       phi(arrays[:i] + [minus] + arrays[i + 1:])) / (2 * eps)
                ana = float(a_i[index])
                err = abs(ana - num) / max(1.0, abs(ana), abs(num))
                if worst is None or err > worst.error:
                    worst = SlotCheck(i, ana, num, err, f"element {tuple(int(k) for k in index)}")
        else:
            for k in range(DIRECTIONS):
                v = rng.standard_normal(base.shape)
                v /= np.linalg.norm(v) or 1.0
                num = (phi(arrays[:i] + [base + eps * v] + arrays[i + 1:]) -
                       phi(arrays[:i] + [base - eps * v] + arrays[i + 1:])) / (2 * eps)
                ana = float(np.sum(a_i * v))
                err = abs(ana - num) / max(1.0, abs(ana), abs(num))
                if worst is None or err > worst.error:
                    worst = SlotCheck(i, ana, num, err, f"direction {k}")
        if worst is not None:
            results.append(worst)
    max_error = max((s.error for s in results), default=0.0)
    return NodeCheck(name, max_error <= rtol, max_error, tuple(results))


__all__ = ["check_node", "NodeCheck", "SlotCheck"]

"""Gradient checking against central differences, with a report a student can act on.

Small inputs are checked element by element; large ones along random directions (the
inner-product test of JAX's check_grads and autograd's check_grads), so the cost stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._tensor import Tensor
from ..autodiff import sweep, value_and_grad
from ..backend import CPU, Device, get_device, to_numpy
from ..errors import GraphgradError

ELEMENTWISE_LIMIT = 256  # inputs with more elements are checked along random directions
DIRECTIONS = 6


class GradcheckError(GraphgradError, AssertionError):
    """The analytic gradient disagrees with the numerical one."""


@dataclass(frozen=True)
class Mismatch:
    input_index: int
    input_name: str | None
    element: tuple | str
    analytic: float
    numerical: float
    relative_error: float

    def __str__(self) -> str:
        name = f" ({self.input_name!r})" if self.input_name else ""
        return (f"input {self.input_index}{name}, element {self.element}: "
                f"analytic {self.analytic:.8g}, numerical {self.numerical:.8g}, "
                f"relative error {self.relative_error:.3g}")


def _prepare(inputs: Sequence) -> tuple[list[np.ndarray], list[str | None], Device]:
    arrays, names, device = [], [], None
    for value in inputs:
        if isinstance(value, Tensor):
            device = device or value.device
            names.append(value.name)
            value = value.data
        else:
            names.append(None)
        array = np.array(to_numpy(value), dtype=np.float64)
        arrays.append(array)
    return arrays, names, device or CPU


def _projected(fn: Callable, device, projection_seed: int):
    """fn with a random linear projection of its output, so any output shape becomes a scalar."""
    cache: dict = {}

    def scalar_fn(*tensors):
        out = fn(*tensors)
        if not isinstance(out, Tensor):
            raise TypeError("gradcheck: the function must return a Tensor, "
                            f"got {type(out).__name__}")
        if out.size == 1:
            return out.reshape(())
        if out.shape not in cache:
            rng = np.random.default_rng(projection_seed)
            cache[out.shape] = device.asarray(rng.standard_normal(out.shape))
        return (out * Tensor._leaf(cache[out.shape], out.device)).sum()

    return scalar_fn


def _evaluate(scalar_fn, arrays, device) -> float:
    tensors = [Tensor._leaf(device.asarray(a), device) for a in arrays]
    return float(to_numpy(scalar_fn(*tensors).data))


def numerical_grad(fn: Callable, inputs: Sequence, eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference gradient of sum(fn(*inputs)) with respect to each input, in float64."""
    arrays, _, device = _prepare(inputs)
    device = get_device(device)

    def scalar_fn(*tensors):
        return fn(*tensors).sum()

    grads = []
    for index, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for element in np.ndindex(array.shape):
            grad[element] = _central_difference(scalar_fn, arrays, device, index, element, eps)
        grads.append(grad)
    return grads


def _central_difference(scalar_fn, arrays, device, index, element, eps) -> float:
    original = arrays[index][element]
    arrays[index][element] = original + eps
    plus = _evaluate(scalar_fn, arrays, device)
    arrays[index][element] = original - eps
    minus = _evaluate(scalar_fn, arrays, device)
    arrays[index][element] = original
    return (plus - minus) / (2 * eps)


def _directional_difference(scalar_fn, arrays, device, index, direction, eps) -> float:
    base = arrays[index]
    arrays[index] = base + eps * direction
    plus = _evaluate(scalar_fn, arrays, device)
    arrays[index] = base - eps * direction
    minus = _evaluate(scalar_fn, arrays, device)
    arrays[index] = base
    return (plus - minus) / (2 * eps)


def _analytic(scalar_fn, arrays, device) -> list[np.ndarray]:
    leaves = [Tensor._leaf(device.asarray(a), device).requires_grad_() for a in arrays]
    out = scalar_fn(*leaves)
    if out.requires_grad:
        found = sweep([out], accumulate=False, stop=frozenset(id(t) for t in leaves))
    else:
        found = {}
    return [np.zeros_like(a) if id(t) not in found
            else np.asarray(to_numpy(found[id(t)].data), dtype=np.float64)
            for a, t in zip(arrays, leaves)]


def find_mismatches(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3, seed: int = 0) -> list[Mismatch]:
    """Every input's worst disagreement beyond tolerance (an empty list means the gradient is
    right)."""
    arrays, names, device = _prepare(inputs)
    scalar_fn = _projected(fn, device, seed)
    analytic = _analytic(scalar_fn, arrays, device)
    rng = np.random.default_rng(seed + 1)
    mismatches = []
    for index, (array, grad) in enumerate(zip(arrays, analytic)):
        worst = None
        if array.size <= ELEMENTWISE_LIMIT:
            checks = ((element, grad[element],
                       _central_difference(scalar_fn, arrays, device, index, element, eps))
                      for element in np.ndindex(array.shape))
        else:
            directions = [rng.standard_normal(array.shape) for _ in range(DIRECTIONS)]
            checks = ((f"direction {k}", float(np.sum(grad * d)),
                       _directional_difference(scalar_fn, arrays, device, index, d, eps))
                      for k, d in enumerate(directions))
        for element, a, n in checks:
            error = abs(a - n)
            # a NaN gradient where the differences are defined is wrong (NaN fails no comparison)
            if error > atol + rtol * abs(n) or bool(np.isnan(a)) and not bool(np.isnan(n)):
                relative = error / max(abs(n), 1e-300)
                if worst is None or error > abs(worst.analytic - worst.numerical):
                    worst = Mismatch(index, names[index], element, float(a), float(n), relative)
        if worst is not None:
            mismatches.append(worst)
    return mismatches


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Compare fn's analytic gradient with central differences in float64.

    A non-scalar output is projected on a fixed random direction. On disagreement, raises
    GradcheckError naming the input, the worst element, both values and the relative error
    (or returns False with `raise_exception=False`).
    """
    mismatches = find_mismatches(fn, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    if mismatches and raise_exception:
        name = getattr(fn, "__name__", repr(fn))
        raise GradcheckError(f"gradcheck of {name} failed:\n  " + "\n  ".join(map(str, mismatches)))
    return not mismatches


def gradgradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-5, atol: float = 1e-4,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of x -> <∇<u, fn(x)>, v> for fixed random u, v."""
    arrays, _, device = _prepare(inputs)
    scalar_fn = _projected(fn, device, seed)
    rng = np.random.default_rng(seed + 2)
    directions = [device.asarray(rng.standard_normal(a.shape)) for a in arrays]
    argnums = tuple(range(len(arrays)))

    def first_derivative_along_v(*tensors):
        _, grads = value_and_grad(scalar_fn, argnums)(*tensors)
        total = None
        for g, v in zip(grads, directions):
            term = (g * Tensor._leaf(v, g.device)).sum()
            total = term if total is None else total + term
        return total

    first_derivative_along_v.__name__ = f"gradient of {getattr(fn, '__name__', 'fn')}"
    return gradcheck(first_derivative_along_v, arrays if device is CPU else
                     [Tensor._leaf(device.asarray(a), device) for a in arrays],
                     eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed)

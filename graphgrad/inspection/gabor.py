"""Gabor functions: the model of V1 simple cells, and what trained first-layer kernels look like.

    w(x, y; alpha, beta_x, beta_y, f, phi, x0, y0, tau)
        = alpha * exp(-beta_x x'^2 - beta_y y'^2) * cos(f x' + phi)
    x' =  (x - x0) cos(tau) + (y - y0) sin(tau)
    y' = -(x - x0) sin(tau) + (y - y0) cos(tau)

(lecture notes, J. Braun). Coordinates: x runs along the columns and y along the rows (down), both
in pixels with 0 at the kernel's centre. f is in radians per pixel, tau in radians from the x axis.

- `gabor`: one kernel for any parameters; `gabor_bank`: orientations x frequencies x phases.
- `fit_gabor`: the eight parameters fitted to a kernel (for instance a learned first-layer kernel)
  by gradient descent with graphgrad itself: the parameters are tensors, the same formula builds
  the graph, `gg.value_and_grad` gives their gradients, Adam steps them, from several starts
  (orientations, frequencies, phases) at once; the best start wins. The fit error reported is
  ||K - G|| / ||K||.

The rotation and the carrier use the engine's `cos` and `sin` gates (each the other's
derivative), so the fit is ordinary backpropagation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .. import autodiff
from .._tensor import Tensor
from ..ops import cos, exp as gexp, sin
from ._model import ModelError

PARAMS = ("alpha", "beta_x", "beta_y", "f", "phi", "x0", "y0", "tau")



class _NumpyOps:
    exp, cos, sin = staticmethod(np.exp), staticmethod(np.cos), staticmethod(np.sin)


class _GraphOps:
    exp, cos, sin = staticmethod(gexp), staticmethod(cos), staticmethod(sin)


def _formula(ops, xs, ys, alpha, beta_x, beta_y, f, phi, x0, y0, tau):
    """The notes' formula, written once for arrays and for graph tensors."""
    dx, dy = xs - x0, ys - y0
    c, s = ops.cos(tau), ops.sin(tau)
    xr = dx * c + dy * s
    yr = dy * c - dx * s
    return alpha * ops.exp(-(beta_x * xr * xr) - beta_y * yr * yr) * ops.cos(f * xr + phi)


def grid(size: int | tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) pixel coordinates of a kernel of `size` (int or (H, W)), 0 at the centre."""
    h, w = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if h < 1 or w < 1:
        raise ModelError(f"kernel size must be positive, got {size!r}")
    ys, xs = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
    return xs, ys


def gabor(size: int | tuple[int, int], alpha: float = 1.0, beta_x: float = 0.1,
          beta_y: float = 0.1, f: float = 1.0,
          phi: float = 0.0, x0: float = 0.0, y0: float = 0.0, tau: float = 0.0) -> np.ndarray:
    """The Gabor kernel (H, W) for one set of parameters (see the module docstring)."""
    xs, ys = grid(size)
    return _formula(_NumpyOps, xs, ys, alpha, beta_x, beta_y, f, phi, x0, y0, tau)


def gabor_bank(size: int | tuple[int, int], orientations: int = 8,
               frequencies: Sequence[float] = (0.8, 1.6),
               phases: Sequence[float] = (0.0, math.pi / 2),
               sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(kernels (K, H, W), parameters (K, 8) in `PARAMS` order) for every orientation (tau in
    [0, pi)), frequency and phase; a round envelope of width `sigma` (default: size / 4)."""
    h = size if isinstance(size, (int, np.integer)) else max(size)
    sigma = sigma or h / 4
    beta = 1.0 / (2 * sigma ** 2)
    params = [(1.0, beta, beta, f, phi, 0.0, 0.0, math.pi * k / orientations)
              for f in frequencies for phi in phases for k in range(orientations)]
    table = np.array(params, dtype=np.float64)
    return np.stack([gabor(size, *row) for row in table]), table


def canonical(params: npt.ArrayLike) -> np.ndarray:
    """The same Gabor with alpha >= 0, f >= 0, tau in [0, pi), phi in (-pi, pi].

    (alpha, phi) ~ (-alpha, phi + pi); (f, phi) ~ (-f, -phi); (tau, phi) ~ (tau + pi, -phi)."""
    p = np.array(params, dtype=np.float64)
    a, f, phi, tau = (p[..., PARAMS.index(k)] for k in ("alpha", "f", "phi", "tau"))
    phi = np.where(a < 0, phi + np.pi, phi)
    a = np.abs(a)
    phi = np.where(f < 0, -phi, phi)
    f = np.abs(f)
    turns = np.floor(tau / np.pi)
    tau = tau - turns * np.pi
    phi = np.where(turns % 2 == 1, -phi, phi)
    phi = np.pi - np.mod(np.pi - phi, 2 * np.pi)
    for name, value in (("alpha", a), ("f", f), ("phi", phi), ("tau", tau)):
        p[..., PARAMS.index(name)] = value
    return p


class GaborFit(NamedTuple):
    """Fitted parameters (K, 8) in `PARAMS` order (canonical), the fitted kernels (K, H, W), and
    the relative error ||K - G|| / ||K|| per kernel (K,)."""

    params: np.ndarray
    kernels: np.ndarray
    error: np.ndarray


def _starts(kernels: np.ndarray, orientations: int, frequencies, phases) -> np.ndarray:
    """Initial parameters (K, S, 8): every orientation x frequency x phase, sized to the kernel."""
    k, h, w = kernels.shape
    sigma = max(h, w) / 4
    beta = 1.0 / (2 * sigma ** 2)
    amplitude = np.abs(kernels).reshape(k, -1).max(axis=1)
    rows = [(beta, beta, f, phi, tau) for f in frequencies for phi in phases
            for tau in np.pi * np.arange(orientations) / orientations]
    table = np.zeros((k, len(rows), 8))
    table[:, :, 0] = amplitude[:, None]
    table[:, :, [1, 2, 3, 4, 7]] = np.array(rows)[None]
    return table


def fit_gabor(kernels: Tensor | npt.ArrayLike, *, steps: int = 400, lr: float = 0.05,
              orientations: int = 4, frequencies: Sequence[float] = (0.6, 1.2, 2.0),
              phases: Sequence[float] = (0.0, math.pi / 2, math.pi, -math.pi / 2)
              ) -> GaborFit:
    """Fit the eight Gabor parameters to each kernel (H, W) or stack (K, H, W) by gradient descent.

    Every kernel starts from orientations x frequencies x phases guesses, all optimised together
    (Adam, `steps` steps of size `lr`, on the mean squared error, beta_x and beta_y kept
    positive); the start with the smallest error wins.
    """
    stack = np.asarray(kernels, dtype=np.float64)
    single = stack.ndim == 2
    stack = stack[None] if single else stack
    if stack.ndim != 3 or min(stack.shape[1:]) < 2:
        raise ModelError(f"fit_gabor: expected a kernel (H, W) or kernels (K, H, W) with H, W >= "
                         f"2, got shape {np.shape(kernels)}")
    xs, ys = grid(stack.shape[1:])
    target = stack[:, None]                                             # (K, 1, H, W)
    values = _starts(stack, orientations, frequencies, phases)          # (K, S, 8)
    scale = np.maximum(np.abs(stack).reshape(len(stack), -1).max(axis=1), 1e-12)
    target_t = Tensor(target / scale[:, None, None, None])
    values[:, :, 0] /= scale[:, None]
    xs_t, ys_t = Tensor(xs), Tensor(ys)

    def loss(*params):
        shaped = [p.reshape(p.shape + (1, 1)) for p in params]
        model = _formula(_GraphOps, xs_t, ys_t, *shaped)
        diff = model - target_t
        return (diff * diff).mean(axis=(2, 3)).sum()

    value_and_grad = autodiff.value_and_grad(loss, argnums=tuple(range(8)))
    m, v = np.zeros_like(values), np.zeros_like(values)
    for t in range(1, steps + 1):
        _, grads = value_and_grad(*(Tensor(values[..., i]) for i in range(8)))
        g = np.stack([gi.numpy() for gi in grads], axis=-1)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        values = values - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-12)
        values[..., 1:3] = np.maximum(values[..., 1:3], 1e-4)          # envelopes stay Gaussian
    fitted = _formula(_NumpyOps, xs, ys, *(values[..., i, None, None] for i in range(8)))
    errors = ((fitted - target / scale[:, None, None, None]) ** 2).mean(axis=(2, 3))
    best = errors.argmin(axis=1)
    chosen = values[np.arange(len(stack)), best]
    chosen[:, 0] *= scale
    chosen = canonical(chosen)
    kernels_fit = np.stack([gabor(stack.shape[1:], *row) for row in chosen])
    norms = np.maximum(np.linalg.norm(stack.reshape(len(stack), -1), axis=1), 1e-12)
    relative = np.linalg.norm((kernels_fit - stack).reshape(len(stack), -1), axis=1) / norms
    if single:
        return GaborFit(chosen[0], kernels_fit[0], relative[0])
    return GaborFit(chosen, kernels_fit, relative)


__all__ = ["GaborFit", "PARAMS", "canonical", "cos", "fit_gabor", "gabor", "gabor_bank", "grid",
           "sin"]

"""Weight initialisation, all drawn from an explicit NumPy generator (reproducible by seed).

- `gaussian`: the lecture's ``W = 0.001 * np.random.randn(D, H)`` with zero biases.
- `xavier_uniform` / `xavier_normal` (Glorot & Bengio 2010): variance 2 / (fan_in + fan_out), for
  tanh and sigmoid units.
- `he_normal` / `he_uniform` (He et al. 2015): variance 2 / fan_in, for ReLU units.
- `gabor` / `gabor_bank`: the lecture's Gabor functions (V1 simple cells),
  ``w(x, y) = α·exp(−βx·x'² − βy·y'²)·cos(f·x' + φ)`` with
  ``x' = (x − x0)cos τ + (y − y0)sin τ`` and ``y' = −(x − x0)sin τ + (y − y0)cos τ``,
  usable as the kernels of a first convolution layer.

Every function returns a NumPy array; `init_parameter_` writes one into a Parameter in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from graphgrad.errors import ConfigError

__all__ = [
    "INITIALIZERS",
    "fans",
    "gabor",
    "gabor_bank",
    "gaussian",
    "he_normal",
    "he_uniform",
    "make_rng",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


# what every `rng=` accepts: a NumPy generator, an int seed, or None (fresh OS entropy)
Rng = np.random.Generator | int | None


def make_rng(rng: Rng) -> np.random.Generator:
    """A generator from a seed, a generator (returned as is) or None (the default generator,
    which `gg.manual_seed` seeds)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        from graphgrad.config import default_generator

        return default_generator()
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: Linear (out, in); Conv (out, in/groups, kh, kw)."""
    if len(shape) < 2:
        raise ConfigError(f"fan_in/fan_out need a weight with at least 2 dimensions, got {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def zeros(shape: Sequence[int], rng: Rng = None, dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """All zeros (biases; `rng` is accepted so every initialiser has one signature)."""
    return np.zeros(shape, dtype=dtype)


def gaussian(shape: Sequence[int], rng: Rng = None, std: float = 0.001,
             dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """``std * randn(shape)``: the lecture's small random numbers (std 0.001)."""
    return (std * make_rng(rng).standard_normal(shape)).astype(dtype)


def xavier_uniform(shape: Sequence[int], rng: Rng = None, gain: float = 1.0,
                   dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (tanh, sigmoid)."""
    fan_in, fan_out = fans(tuple(shape))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return make_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)


def xavier_normal(shape: Sequence[int], rng: Rng = None, gain: float = 1.0,
                  dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)) (tanh, sigmoid)."""
    fan_in, fan_out = fans(tuple(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return (std * make_rng(rng).standard_normal(shape)).astype(dtype)


def he_normal(shape: Sequence[int], rng: Rng = None,
              dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """He normal: N(0, 2 / fan_in), which keeps the activations' scale through ReLU layers."""
    fan_in, _ = fans(tuple(shape))
    return (math.sqrt(2.0 / fan_in) * make_rng(rng).standard_normal(shape)).astype(dtype)


def he_uniform(shape: Sequence[int], rng: Rng = None,
               dtype: npt.DTypeLike = "float32") -> np.ndarray:
    """He uniform: U(-b, b), b = sqrt(6 / fan_in), the same variance as `he_normal` (ReLU)."""
    fan_in, _ = fans(tuple(shape))
    bound = math.sqrt(6.0 / fan_in)
    return make_rng(rng).uniform(-bound, bound, size=shape).astype(dtype)


def gabor(
    size: int | tuple[int, int],
    *,
    alpha: float = 1.0,
    beta_x: float = 0.5,
    beta_y: float = 0.5,
    f: float = 1.0,
    phi: float = 0.0,
    x0: float | None = None,
    y0: float | None = None,
    tau: float = 0.0,
    dtype: npt.DTypeLike = "float64",
) -> np.ndarray:
    """One Gabor kernel on an integer grid ``x = 0..width-1`` (columns), ``y = 0..height-1`` (rows).

    ``(x0, y0)`` defaults to the grid's centre; ``tau`` is the orientation in radians; ``f`` the
    angular frequency along x'; ``phi`` the phase; ``beta_x``/``beta_y`` how fast the Gaussian
    envelope falls off; ``alpha`` the magnitude. Returns an array of shape (height, width).
    """
    height, width = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if height < 1 or width < 1:
        raise ConfigError(f"gabor: size must be positive, got {size!r}")
    if beta_x < 0 or beta_y < 0:
        raise ConfigError(f"gabor: beta_x and beta_y must be >= 0, got {beta_x}, {beta_y}")
    x0 = (width - 1) / 2 if x0 is None else x0
    y0 = (height - 1) / 2 if y0 is None else y0
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    xr = (x - x0) * math.cos(tau) + (y - y0) * math.sin(tau)
    yr = -(x - x0) * math.sin(tau) + (y - y0) * math.cos(tau)
    w = alpha * np.exp(-beta_x * xr**2 - beta_y * yr**2) * np.cos(f * xr + phi)
    return w.astype(dtype)


def gabor_bank(
    shape: tuple[int, int, int, int],
    rng: Rng = None,
    *,
    frequencies: tuple[float, ...] = (1.0, 1.5),
    phases: tuple[float, ...] = (0.0, math.pi / 2),
    beta: float | None = None,
    normalize: bool = True,
    dtype: npt.DTypeLike = "float32",
) -> np.ndarray:
    """Kernels for a first conv layer, shape (out_channels, in_channels, kh, kw).

    ``frequencies`` are in cycles per kernel width (f = 2π·cycles / width). Orientations τ are
    spread evenly over [0, π) and combined with each frequency and phase, until `out_channels`
    kernels exist; every input channel gets the same kernel. ``beta`` defaults to an envelope of
    standard deviation a third of the kernel size (β = 4.5 / size²).
    With ``normalize=True`` each kernel has zero mean and the fan-in variance of He
    initialisation, so it trains like a randomly initialised layer. ``rng`` adds no noise; it is
    accepted so every initialiser has the same signature.
    """
    out_channels, in_channels, kh, kw = shape
    combos = [(f, phi) for f in frequencies for phi in phases]
    orientations = max(1, math.ceil(out_channels / len(combos)))
    size = max(kh, kw)
    beta = beta if beta is not None else 4.5 / size**2
    kernels = []
    for index in range(out_channels):
        f, phi = combos[(index // orientations) % len(combos)]
        tau = math.pi * (index % orientations) / orientations
        k = gabor((kh, kw), beta_x=beta, beta_y=beta, f=2 * math.pi * f / size, phi=phi, tau=tau)
        if normalize:
            k = k - k.mean()
            norm = np.sqrt(np.sum(k**2))
            target = math.sqrt(2.0 / (in_channels * kh * kw)) * math.sqrt(kh * kw)
            k = k / norm * target if norm > 0 else k
        kernels.append(k)
    bank = np.stack(kernels)[:, None, :, :]
    return np.repeat(bank, in_channels, axis=1).astype(dtype)


INITIALIZERS: dict[str, Callable] = {
    "gaussian": gaussian,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "gabor": gabor_bank,
    "zeros": zeros,
}


def resolve(init: str | Callable) -> Callable:
    """An initialiser by name ('he', 'xavier', 'gaussian', 'gabor', ...) or a callable."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise ConfigError(f"unknown init {init!r}; valid: {sorted(INITIALIZERS)} or a callable")
    return INITIALIZERS[init]

"""Weight initialisation, all drawn from an explicit NumPy generator (reproducible by seed).

- `gaussian`: the lecture's ``W = 0.001 * np.random.randn(D, H)`` with zero biases.
- `xavier_uniform` / `xavier_normal` (Glorot & Bengio 2010): variance 2 / (fan_in + fan_out), for
  tanh and sigmoid units.
- `he_normal` / `he_uniform` (He et al. 2015): variance 2 / fan_in, for ReLU units.
- `gabor` / `gabor_bank`: the lecture's Gabor functions (V1 simple cells),
  ``w(x, y) = α·exp(−βx·x'² − βy·y'²)·cos(f·x' + φ)`` with
  ``x' = (x − x0)cos τ + (y − y0)sin τ`` and ``y' = −(x − x0)sin τ + (y − y0)cos τ``,
  usable as the kernels of a first convolution layer.

Every function returns a NumPy array; the torch-named ones ending in `_` (`kaiming_normal_`,
`zeros_`, ...) write into a tensor in place, as `torch.nn.init`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from graphgrad._tensor import Tensor
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


# ----- PyTorch's in-place initialisers: `nn.init.kaiming_normal_(layer.weight)` -------------------
# The same distributions as above, written into an existing tensor (a Parameter) under no_grad,
# keeping its dtype; randomness from `generator` (a Generator or a seed) or gg.manual_seed's.
_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "conv1d": 1.0, "conv2d": 1.0,
          "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for weights feeding `nonlinearity` (torch.nn.init.calculate_gain):
    relu sqrt(2), tanh 5/3, leaky_relu sqrt(2 / (1 + slope^2)) (slope `param`, default 0.01)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity not in _GAINS:
        raise ConfigError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; known: "
                          f"{sorted([*_GAINS, 'leaky_relu'])}")
    return _GAINS[nonlinearity]


def _write(tensor: Tensor, values: Any) -> Tensor:
    from graphgrad.config import no_grad

    with no_grad():
        return tensor.copy_(values)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Rng = None) -> Tensor:
    """Fill `tensor` with U(a, b) draws, in place (torch.nn.init.uniform_)."""
    return _write(tensor, make_rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Rng = None) -> Tensor:
    """Fill `tensor` with N(mean, std^2) draws, in place (torch.nn.init.normal_)."""
    return _write(tensor, mean + std * make_rng(generator).standard_normal(tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill `tensor` with `val`, in place (torch.nn.init.constant_)."""
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with 0, in place (torch.nn.init.zeros_)."""
    return _write(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with 1, in place (torch.nn.init.ones_)."""
    return _write(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Rng = None) -> Tensor:
    """Glorot uniform in place (torch.nn.init.xavier_uniform_): see `xavier_uniform`."""
    return _write(tensor, xavier_uniform(tensor.shape, generator, gain=gain, dtype="float64"))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Rng = None) -> Tensor:
    """Glorot normal in place (torch.nn.init.xavier_normal_): see `xavier_normal`."""
    return _write(tensor, xavier_normal(tensor.shape, generator, gain=gain, dtype="float64"))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(tuple(tensor.shape))
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Rng = None) -> Tensor:
    """He uniform in place (torch.nn.init.kaiming_uniform_): U(-b, b), b = gain * sqrt(3 / fan),
    with torch's defaults (a=0 and leaky_relu: gain sqrt(2), the bound of `he_uniform`)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _write(tensor, make_rng(generator).uniform(-bound, bound, size=tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Rng = None) -> Tensor:
    """He normal in place (torch.nn.init.kaiming_normal_): N(0, (gain / sqrt(fan))^2), with
    torch's defaults the distribution of `he_normal`."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return _write(tensor, std * make_rng(generator).standard_normal(tensor.shape))


__all__ += ["calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_",
            "ones_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_"]

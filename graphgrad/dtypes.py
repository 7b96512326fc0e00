"""Dtype names as PyTorch spells them: `x.to(gg.float64)`, `gg.zeros(3, dtype=gg.int64)`,
`x.dtype == gg.float32`. They are NumPy dtypes (what `Tensor.dtype` holds on the CPU), so NumPy
users' spellings ("float32", np.float32) keep working beside them."""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = np.dtype("int32")
int64 = long = np.dtype("int64")
bool_ = np.dtype("bool")

__all__ = ["bool_", "double", "float16", "float32", "float64", "half", "int8", "int16", "int32",
           "int64", "long", "short", "uint8"]

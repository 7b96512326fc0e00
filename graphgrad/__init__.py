"""graphgrad: a computational-graph engine you can see.

Every operation is a node; gradients are graphs of the same gates, so grad-of-grad works and a
gradient can be drawn. Public API re-exported here; no logic lives in this file.
"""

from . import config
from .autodiff import backward, grad, value_and_grad
from .backend import Device, get_device
from .composites import (COMPOSITES, avg_pool2d, batch_norm, binary_cross_entropy,
                         binary_cross_entropy_with_logits, conv1d, conv2d, conv_output_shape,
                         conv_transpose2d, cross_entropy, dropout, elu, gelu, group_norm,
                         huber_loss, kl_div, l1_loss, layer_norm, leaky_relu, local_conv2d,
                         log_softmax, lp_pool2d, lp_pool_channels, max_pool2d, max_pool_channels,
                         maxout, mse_loss, multi_margin_loss, nll_loss, relu, sigmoid, silu,
                         smooth_l1_loss, softmax, softplus, svm_loss, tanh, tiled_conv2d)
from .backend.chunks import get_num_threads
from .config import (default_dtype, enable_grad, expand_composites, get_default_dtype,
                     manual_seed, name_scope, no_grad, num_threads, set_default_dtype,
                     set_grad_enabled, set_num_threads)
from .errors import (AnomalyError, ArgumentError, BackwardError, DeviceError, DtypeError,
                     GraphFreedError, GraphgradError, InPlaceError, RetraceWarning, ShapeError)
from . import autograd
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .factories import (arange, eye, full, linspace, ones, ones_like, rand, randint, randn, zeros,
                        zeros_like)
from .ops import (abs, add, all, any, argmax, argmin, astype, broadcast_to, cat, ceil, chunk,
                  clamp, clip, clone, concatenate, cos, div, equal, erf, exp, expand, expand_dims,
                  flatten, floor, fold, getitem, greater, greater_equal, isfinite, isinf, isnan,
                  less, less_equal, log, logsumexp, matmul, max, maximum, mean, min, minimum, mm,
                  mul, neg, norm, not_equal, pad, permute, pow, reciprocal, repeat, reshape, round,
                  sign, sin, split, sqrt, squeeze, stack, std, sub, sum, sum_to, swapaxes, t,
                  transpose, unfold, unsqueeze, var, view, where)
from .dtypes import (bool_, double, float16, float32, float64, half, int8, int16, int32, int64,
                     long, short, uint8)
from .ops import (MaxResult, SortResult, TopKResult, amax, amin, cumsum, gather, masked_fill,
                  one_hot, prod, sort, topk)
from ._primitive import PRIMITIVES, Primitive, primitive
from .compiler import compile  # gg.compile: trace once, run generated code (docs/compile.md)
from ._tensor import Tensor, tensor
from .testing import gradcheck, gradgradcheck, numerical_grad

__version__ = "0.1.0"

# Models and training (gg.nn, gg.optim, gg.data, gg.train, gg.save / gg.load), built on the engine.
from . import data, nn, optim, train
from .io import CheckpointError, load, save

# The visualizer (gg.viz.draw, ...): Graphviz, networkx and matplotlib load only when it draws.
from . import viz

# `from graphgrad import *` must leave Python's built-ins alone, so sum, max, min, abs, all, any,
# pow, round and compile are left out here: they stay reachable as gg.sum, gg.max, ...
__all__ = [
    # engine
    "Device", "PRIMITIVES", "Primitive", "Tensor", "backward", "get_device", "grad", "primitive",
    "tensor", "value_and_grad",
    # settings
    "config", "default_dtype", "enable_grad", "expand_composites", "get_default_dtype",
    "get_num_threads", "manual_seed", "name_scope", "no_grad", "num_threads", "set_default_dtype",
    "set_grad_enabled", "set_num_threads",
    # errors
    "AnomalyError", "ArgumentError", "BackwardError", "CheckpointError", "DeviceError",
    "DtypeError", "GraphFreedError", "GraphgradError", "InPlaceError", "RetraceWarning",
    "ShapeError",
    # autodiff transforms and debugging
    "autograd", "detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly",
    # dtypes (PyTorch's names)
    "bool_", "double", "float16", "float32", "float64", "half", "int8", "int16", "int32", "int64",
    "long", "short", "uint8",
    # tensor factories
    "arange", "eye", "full", "linspace", "ones", "ones_like", "rand", "randint", "randn", "zeros",
    "zeros_like",
    # primitive ops
    "add", "argmax", "argmin", "astype", "broadcast_to", "cat", "ceil", "chunk", "clamp", "clip",
    "clone", "concatenate", "cos", "div", "equal", "erf", "exp", "expand", "expand_dims",
    "flatten", "floor", "fold", "getitem", "greater", "greater_equal", "isfinite", "isinf",
    "isnan", "less", "less_equal", "log", "logsumexp", "matmul", "maximum", "mean", "minimum",
    "mm", "mul", "neg", "norm", "not_equal", "pad", "permute", "reciprocal", "repeat", "reshape",
    "sign", "sin", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum_to", "swapaxes", "t",
    "transpose", "unfold", "unsqueeze", "var", "view", "where",
    # selection and scans
    "MaxResult", "SortResult", "TopKResult", "amax", "amin", "cumsum", "gather", "masked_fill",
    "one_hot", "prod", "sort", "topk",
    # composite ops
    "COMPOSITES", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_output_shape",
    "conv_transpose2d", "cross_entropy", "dropout", "elu", "gelu", "group_norm", "huber_loss",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "local_conv2d", "log_softmax", "lp_pool2d",
    "lp_pool_channels", "max_pool2d", "max_pool_channels", "maxout", "mse_loss",
    "multi_margin_loss", "nll_loss", "relu", "sigmoid", "silu", "smooth_l1_loss", "softmax",
    "softplus", "svm_loss", "tanh", "tiled_conv2d",
    # gradient checks
    "gradcheck", "gradgradcheck", "numerical_grad",
    # models, training, checkpoints, drawing
    "data", "load", "nn", "optim", "save", "train", "viz",
]

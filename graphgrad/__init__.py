"""graphgrad: a computational-graph engine you can see.

Every operation is a node; gradients are graphs of the same gates, so grad-of-grad works and a
gradient can be drawn. Public API re-exported here; no logic lives in this file.
"""

from . import config
from .autodiff import backward, grad, value_and_grad
from .backend import Device, get_device
from .composites import (COMPOSITES, avg_pool2d, binary_cross_entropy,
                         binary_cross_entropy_with_logits, conv1d, conv2d, conv_output_shape,
                         conv_transpose2d, cross_entropy, dropout, local_conv2d, log_softmax,
                         lp_pool2d, lp_pool_channels, max_pool2d, max_pool_channels, maxout,
                         mse_loss, relu, sigmoid, softmax, tanh, tiled_conv2d)
from .backend.chunks import get_num_threads
from .config import (default_dtype, enable_grad, expand_composites, get_default_dtype, name_scope,
                     no_grad, num_threads, set_default_dtype, set_grad_enabled, set_num_threads)
from .errors import (BackwardError, DeviceError, DtypeError, GraphFreedError, GraphgradError,
                     ShapeError)
from .factories import arange, full, ones, ones_like, randn, zeros, zeros_like
from .ops import (abs, add, all, any, argmax, argmin, astype, broadcast_to, clamp, clip,
                  concatenate, cos, div, equal, exp, expand_dims, flatten, fold, getitem, greater,
                  greater_equal, less, less_equal, log, logsumexp, matmul, max, maximum, mean,
                  min, minimum, mul, neg, norm, not_equal, pad, pow, reciprocal, reshape, sin,
                  sqrt, squeeze, stack, std, sub, sum, sum_to, swapaxes, transpose, unfold, var,
                  where)
from .primitive import PRIMITIVES, Primitive, primitive
from .compile import compile  # gg.compile: trace once, run generated code (docs/compile.md)
from .tensor import Tensor, tensor
from .testing import gradcheck, gradgradcheck, numerical_grad

__version__ = "0.1.0"

# --- models and training (issue 5): gg.nn, gg.optim, gg.data, gg.train, gg.save / gg.load -------
from . import data, nn, optim, train  # built on the engine above
from .io import CheckpointError, load, save

# --- the visualizer (issue 4): gg.viz.draw, gg.viz.save, gg.viz.animate_backward, ... -----------
# graphgrad.viz imports Graphviz, networkx and matplotlib only when a drawing function runs.
from . import viz

"""Composites: activations, losses, convolution, pooling, normalisation, dropout."""

from .activations import (elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax,
                          softplus, tanh)
from .registry import COMPOSITES, Composite, composite
from .conv import conv1d, conv2d, conv_output_shape, conv_transpose2d, local_conv2d, tiled_conv2d
from .dropouts import dropout
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, kl_div, l1_loss, mse_loss, multi_margin_loss, nll_loss,
                     smooth_l1_loss, svm_loss)
from .normalization import batch_norm, group_norm, layer_norm
from .pooling import avg_pool2d, lp_pool2d, lp_pool_channels, max_pool2d, max_pool_channels, maxout

__all__ = [
    "COMPOSITES", "Composite", "composite", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_output_shape",
    "conv_transpose2d", "cross_entropy", "dropout", "elu", "gelu", "group_norm", "huber_loss",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "local_conv2d", "log_softmax", "lp_pool2d",
    "lp_pool_channels", "max_pool2d", "max_pool_channels", "maxout", "mse_loss",
    "multi_margin_loss", "nll_loss", "relu", "sigmoid", "silu", "smooth_l1_loss", "softmax",
    "softplus", "svm_loss", "tanh", "tiled_conv2d",
]

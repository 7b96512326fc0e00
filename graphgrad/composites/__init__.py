"""Composites: activations, losses, convolution, pooling, dropout."""

from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .composite import COMPOSITES, Composite, composite
from .conv import (conv1d, conv2d, conv_output_shape, conv_transpose2d, local_conv2d,
                   tiled_conv2d)
from .dropout import dropout
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     mse_loss)
from .pooling import (avg_pool2d, lp_pool2d, lp_pool_channels, max_pool2d, max_pool_channels,
                      maxout)

__all__ = [
    "COMPOSITES", "Composite", "composite", "avg_pool2d", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_output_shape",
    "conv_transpose2d", "cross_entropy", "dropout", "local_conv2d", "log_softmax", "lp_pool2d",
    "lp_pool_channels", "max_pool2d", "max_pool_channels", "maxout", "mse_loss", "relu",
    "sigmoid", "softmax", "tanh", "tiled_conv2d",
]

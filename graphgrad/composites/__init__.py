"""Composites: activations, losses, convolution, pooling, dropout."""

from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .composite import COMPOSITES, Composite, composite
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     mse_loss)

__all__ = [
    "COMPOSITES", "Composite", "composite", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "log_softmax", "mse_loss", "relu",
    "sigmoid", "softmax", "tanh",
]

"""Neural-network building blocks: Module, Parameter, layers, normalisation, activation and loss
modules, containers, initialisers."""

from graphgrad.nn import init
from graphgrad.nn.activation import (
                                     ELU,
                                     GELU,
                                     LeakyReLU,
                                     LogSoftmax,
                                     ReLU,
                                     Sigmoid,
                                     SiLU,
                                     Softmax,
                                     Softplus,
                                     Tanh,
)
from graphgrad.nn.layers import (
                                     AdaptiveAvgPool2d,
                                     AvgPool2d,
                                     Conv1d,
                                     Conv2d,
                                     ConvTranspose2d,
                                     Dropout,
                                     Dropout2d,
                                     Embedding,
                                     Flatten,
                                     Identity,
                                     Linear,
                                     LPPool2d,
                                     Maxout,
                                     MaxPool2d,
)
from graphgrad.nn.loss import (
                                     BCELoss,
                                     BCEWithLogitsLoss,
                                     CrossEntropyLoss,
                                     HuberLoss,
                                     KLDivLoss,
                                     L1Loss,
                                     MSELoss,
                                     NLLLoss,
                                     SmoothL1Loss,
)
from graphgrad.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential
from graphgrad.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm

__all__ = [
    # layers
    "AdaptiveAvgPool2d", "AvgPool2d", "Conv1d", "Conv2d", "ConvTranspose2d", "Dropout",
    "Dropout2d", "Embedding", "Flatten", "Identity", "LPPool2d", "Linear", "MaxPool2d", "Maxout",
    # normalisation
    "BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm",
    # activations
    "ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax", "Softplus",
    "Tanh",
    # losses
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "MSELoss", "NLLLoss", "SmoothL1Loss",
    # containers
    "Module", "ModuleDict", "ModuleList", "Parameter", "Sequential", "init",
]

from graphgrad.nn.models import LeNet  # built from the layers above
from graphgrad.nn import functional, utils  # `import graphgrad.nn.functional as F`

__all__ += ["LeNet", "functional", "utils"]

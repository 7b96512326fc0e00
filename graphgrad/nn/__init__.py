"""Neural-network building blocks: Module, Parameter, layers, containers, initialisers."""

from graphgrad.nn import init
from graphgrad.nn.layers import (AvgPool2d, Conv2d, Dropout, Flatten, Identity, Linear, LPPool2d,
                                 MaxPool2d, Maxout, ReLU, Sigmoid, Tanh)
from graphgrad.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential

__all__ = [
    "AvgPool2d", "Conv2d", "Dropout", "Flatten", "Identity", "LPPool2d", "Linear", "MaxPool2d",
    "Maxout", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Tanh", "init",
]

from graphgrad.nn.models import LeNet  # built from the layers above

__all__ += ["LeNet"]

"""Optimizers (SGD with momentum/Nesterov, Adam, AdamW, RMSprop, Adagrad), regularisers and
learning-rate schedules."""

from graphgrad.optim.adam import Adam, AdamW
from graphgrad.optim.one_cycle import OneCycleLR
from graphgrad.optim.optimizer import Optimizer, max_norm_project
from graphgrad.optim.plateau import ReduceLROnPlateau
from graphgrad.optim.regularizers import elastic_penalty, l1_penalty, l2_penalty, max_norm_
from graphgrad.optim.rmsprop import Adagrad, RMSprop
from graphgrad.optim.schedules import (
                                       CosineDecay,
                                       DecayTowardsEnd,
                                       ExponentialDecay,
                                       LambdaLR,
                                       MultiStepLR,
                                       Schedule,
                                       StepDecay,
                                       WarmRestarts,
)
from graphgrad.optim.sgd import SGD

__all__ = [
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "Schedule", "StepDecay",
    "ExponentialDecay", "CosineDecay", "WarmRestarts", "DecayTowardsEnd", "MultiStepLR",
    "LambdaLR", "ReduceLROnPlateau", "OneCycleLR", "l1_penalty", "l2_penalty",
    "elastic_penalty", "max_norm_", "max_norm_project",
]

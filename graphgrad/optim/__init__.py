"""Optimizers (SGD with momentum/Nesterov, Adam), regularisers and learning-rate schedules."""

from graphgrad.optim.adam import Adam
from graphgrad.optim.optimizer import Optimizer, max_norm_project
from graphgrad.optim.regularizers import elastic_penalty, l1_penalty, l2_penalty, max_norm_
from graphgrad.optim.schedules import (CosineDecay, DecayTowardsEnd, ExponentialDecay, Schedule,
                                       StepDecay, WarmRestarts)
from graphgrad.optim.sgd import SGD

__all__ = [
    "SGD", "Adam", "Optimizer", "Schedule", "StepDecay", "ExponentialDecay", "CosineDecay",
    "WarmRestarts", "DecayTowardsEnd", "l1_penalty", "l2_penalty", "elastic_penalty", "max_norm_",
    "max_norm_project",
]

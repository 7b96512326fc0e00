"""Model ensembles: "one way to always improve final accuracy: take several trained models and
average their predictions" (lecture notes).

`Ensemble` averages the members' class *probabilities* (softmax of their outputs) and returns the
log of that average, so it can be used wherever a model's logits are: `cross_entropy`, argmax,
`evaluate`, `predict`. `average_probabilities` does the same on NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphgrad.nn.module import Module, ModuleList

if TYPE_CHECKING:
    from graphgrad._tensor import Tensor
    from graphgrad.data.loader import DataLoader
    from graphgrad.optim.optimizer import Optimizer
    from graphgrad.train import History

__all__ = ["Ensemble", "average_probabilities"]


def average_probabilities(models: Sequence[Callable[..., Tensor]], x: np.ndarray,
                          batch_size: int = 512) -> np.ndarray:
    """Mean of the members' softmax probabilities on `x`, shape (N, classes)."""
    from graphgrad.train import predict, probabilities

    if not models:
        raise ValueError("average_probabilities needs at least one model")
    return np.mean([probabilities(predict(m, x, batch_size)) for m in models], axis=0)


class Ensemble(Module):
    """Average several models' predicted probabilities; outputs log-probabilities (N, classes)."""

    def __init__(self, models: Sequence[Module]) -> None:
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("Ensemble needs at least one model")
        self.members = ModuleList(models)

    def forward(self, x: Tensor) -> Tensor:
        from graphgrad.composites.activations import softmax
        from graphgrad.ops import log

        p = [softmax(member(x), axis=1) for member in self.members]  # members: at least one
        total = p[0]
        for each in p[1:]:
            total = total + each
        return log(total * (1.0 / len(self.members)))

    def fit(self, make_optimizer: Callable[[list], Optimizer],
            train: DataLoader | Sequence[np.ndarray], *, epochs: int, seed: int = 0,
            workers: int | None = None, address: str | None = None,
            **fit_options: Any) -> list[History]:
        """Train every member with its own optimizer ``make_optimizer(member.parameters())`` and
        batch order (seed ``seed + i`` for member i): one `History` per member.

        The members are independent, so with ``workers=N`` they train as parallel Ray tasks
        (`graphgrad.distributed.fit_many`), with the same result as one after the other.
        """
        runs = [(member, make_optimizer(member.parameters())) for member in self.members]
        seeds = [seed + index for index in range(len(runs))]
        if workers is None and address is None:
            from graphgrad.train import fit

            return [fit(m, o, train, epochs=epochs, seed=s, **fit_options)
                    for (m, o), s in zip(runs, seeds)]
        from graphgrad.distributed import fit_many

        return fit_many(runs, train, epochs=epochs, seed=seeds, workers=workers or 2,
                        address=address, **fit_options)

    def extra_repr(self) -> str:
        return f"{len(self.members)} members"

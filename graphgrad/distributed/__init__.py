"""Training past one process, on Ray: data-parallel `fit` and parallel training of many models.

``gg.train.fit(model, optimizer, data, epochs=..., workers=2)`` trains on two Ray workers
(`graphgrad.distributed.fit` has the same arguments plus checkpoint/restarts/timeout);
`fit_many` trains several (model, optimizer) pairs (an ensemble's members, a learning-rate grid)
as parallel Ray tasks. Ray is imported only when one of these runs; see docs/distributed.md.
"""

from ._session import WorkerError, init, shutdown
from .data_parallel import StepTimings, fit, forward_backward, get_rank
from .parallel import fit_many

__all__ = ["StepTimings", "WorkerError", "fit", "fit_many", "forward_backward", "get_rank",
           "init", "shutdown"]

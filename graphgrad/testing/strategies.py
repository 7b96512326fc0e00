"""Hypothesis strategies for property-testing ops: shapes, broadcastable shapes, arrays on domains.

Domains keep finite differences meaningful: `positive` for log and reciprocal, `away_from_zero`
for 1/x, tie-free pairs for max. Use them to test your own ops the way graphgrad tests its own.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DOMAINS = {
    "real": (-3.0, 3.0),
    "positive": (0.2, 3.0),
    "unit": (-0.9, 0.9),
}


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4):
    """Tuples of shapes that broadcast together (NumPy rules), including size-1 axes."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda result: result.input_shapes)


def arrays(shape, domain: str = "real", dtype=np.float64, away_from_zero: float = 0.0):
    """float64 arrays with values in a domain; `away_from_zero` keeps |x| above a margin."""
    low, high = DOMAINS[domain]
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
    strategy = hnp.arrays(dtype, shape, elements=elements)
    if away_from_zero:
        strategy = strategy.map(lambda a: np.where(np.abs(a) < away_from_zero,
                                                   np.copysign(away_from_zero, a) + a, a))
    return strategy


def tie_free_pair(shape_x, shape_y, margin: float = 1e-2):
    """Arrays (x, y) of two broadcast-compatible shapes whose broadcast elements differ by > margin.

    Finite differences across a max gate's kink are meaningless, so gradient tests stay off ties;
    the tie rule is tested with exact values instead.
    """
    def far_apart(pair):
        x, y = pair
        return bool(np.all(np.abs(x - y) > margin))

    return st.tuples(arrays(shape_x), arrays(shape_y)).filter(far_apart)


def well_separated(shape, margin: float = 0.05):
    """Arrays whose entries are pairwise separated by `margin` (no ties for max reductions)."""
    size = int(np.prod(shape, dtype=np.int64))
    return st.permutations(list(range(size))).map(
        lambda order: (np.asarray(order, dtype=np.float64).reshape(shape) - size / 2) * margin * 4)

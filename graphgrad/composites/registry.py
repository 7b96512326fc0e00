"""Composites: a fast fused node plus its expansion into primitive gates, proven equal by tests.

By default a composite builds one fused node (its `op` is a Primitive whose `.composite` points
back here). Inside `with gg.expand_composites():` it builds its gate expansion instead, every node
tagged with `Scope("composite", name, uid)` so the visualizer can draw it gate by gate or collapse
it to one box. A composite without a fused forward (`forward=None`) always builds its expansion
under that scope: it still draws as one collapsible unit (used for losses).
"""

from __future__ import annotations

from collections.abc import Callable

from .. import config
from .._primitive import Primitive, primitive

COMPOSITES: dict[str, Composite] = {}


class Composite:
    """A named operation with a gate expansion and, usually, a fused primitive."""

    def __init__(self, name: str, symbol: str, expand: Callable, fused: Primitive | None,
                 wrap: Callable | None, doc: str):
        self.name = name
        self.symbol = symbol
        self.expand = expand
        self.fused = fused
        self.wrap = wrap
        self.__doc__ = doc or expand.__doc__
        self.__name__ = name

    def __repr__(self) -> str:
        return f"<composite {self.name}>"

    def build_expansion(self, *args, **params):
        with config.name_scope(self.name, kind="composite"):
            return self.expand(*args, **params)

    def __call__(self, *args, **params):
        if self.fused is None or config.is_expanding_composites():
            return self.build_expansion(*args, **params)
        if self.wrap is not None:
            return self.wrap(self.fused, *args, **params)
        return self.fused(*args, **params)


def composite(name: str, *, expand: Callable, forward: Callable | None = None,
              vjp: Callable | None = None, symbol: str | None = None, nondiff=(),
              wrap: Callable | None = None, floating_only: bool = False,
              doc: str = "") -> Composite:
    """Declare a composite. `wrap(fused, *args, **params)` may normalise arguments for the fused
    path."""
    if name in COMPOSITES:
        raise ValueError(f"composite {name!r} is declared twice")
    fused = None
    if forward is not None:
        fused = primitive(name, symbol=symbol or name, forward=forward, vjp=vjp, nondiff=nondiff,
                          floating_only=floating_only, register=False, doc=doc)
    result = Composite(name, symbol or name, expand, fused, wrap, doc)
    if fused is not None:
        fused.composite = result
    COMPOSITES[name] = result
    return result

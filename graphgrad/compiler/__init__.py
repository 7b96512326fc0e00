"""gg.compile: trace a function once, run generated, readable forward and backward code.

See docs/compile.md. `trace` records, `codegen` writes the code, `function` caches per input
signature and makes the compiled call one node of the graph.
"""

from .function import CompiledFunction, compile, symbolic_vjp
from .trace import ConcretizationError

__all__ = ["compile", "CompiledFunction", "ConcretizationError", "symbolic_vjp"]

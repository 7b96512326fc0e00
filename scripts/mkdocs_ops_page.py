"""mkdocs hook: writes the op list of docs/api/ops.md from `graphgrad.declare.OPS` at build time,
so an op declared tomorrow appears in the reference without anyone editing the page.

The page holds the marker `<!-- OPS -->`. An op that its module holds under its own name becomes
a `::: module.name` block that mkdocstrings renders from the declaration's signature and
docstring, grouped by that module; an op registered only as a Tensor method (`Tensor.float`) has
no such path, so its signature and docstring are written out here from the live function.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

MARKER = "<!-- OPS -->"


def _has_path(name: str, fn: Callable[..., Any]) -> bool:
    """Whether `fn.__module__` holds `fn` as `name` (what mkdocstrings needs to find it)."""
    module = getattr(fn, "__module__", None)
    if not module or not name.isidentifier():
        return False
    return getattr(importlib.import_module(module), name, None) is fn


def _method_entry(name: str, fn: Callable[..., Any]) -> list[str]:
    try:  # annotations as the reader wrote them, not as strings (`from __future__ import ...`)
        signature = str(inspect.signature(fn, eval_str=True))
    except (NameError, TypeError, ValueError):
        signature = str(inspect.signature(fn))
    doc = inspect.getdoc(fn) or ""
    return [f"### `{name}`", "", "```python", f"{name}{signature}", "```", "", doc, ""]


def ops_markdown() -> str:
    """The reference entries for every declared op, grouped by the module that declares it."""
    import graphgrad  # noqa: F401  (importing the package declares every op)
    from graphgrad.declare import OPS

    by_module: dict[str, list[str]] = {}
    methods: list[str] = []
    for name, fn in OPS.items():
        if _has_path(name, fn):
            by_module.setdefault(fn.__module__, []).append(name)
        else:
            methods.append(name)
    lines = [f"{len(OPS)} ops.", ""]
    for module in sorted(by_module):
        lines += [f"## `{module}`", ""]
        for name in sorted(by_module[module]):
            lines += [f"::: {module}.{name}", "    options:", "      heading_level: 3", ""]
    if methods:
        lines += ["## Tensor methods only", ""]
        for name in sorted(methods):
            lines += _method_entry(name, OPS[name])
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs' hook: replaces the marker on the ops page; every other page passes through."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, ops_markdown())

"""The API reference's op page (scripts/mkdocs_ops_page.py, an mkdocs hook) lists every declared
op, and every `::: path` it writes resolves to that op: an op declared tomorrow appears in the
reference, and one mkdocstrings cannot find would stop `mkdocs build --strict` in `make test`."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import graphgrad  # noqa: F401  (declares every op)
from graphgrad.declare import OPS

HOOK = Path(__file__).resolve().parent.parent / "scripts" / "mkdocs_ops_page.py"


def _hook():
    spec = importlib.util.spec_from_file_location("mkdocs_ops_page", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_ops_page_lists_every_declared_op_once():
    text = _hook().ops_markdown()
    blocks = re.findall(r"^::: (\S+)$", text, re.M)
    methods = re.findall(r"^### `(\S+)`$", text, re.M)
    listed = [path.rpartition(".")[2] for path in blocks] + methods
    assert sorted(listed) == sorted(OPS)


def test_every_reference_block_resolves_to_its_op():
    for path in re.findall(r"^::: (\S+)$", _hook().ops_markdown(), re.M):
        name = path.rpartition(".")[2]
        assert _resolve(path) is OPS[name], path


def test_ops_without_a_module_path_are_written_out_with_their_signature():
    hook = _hook()

    def cast(x: int, *, copy: bool = False) -> int:
        """Docstring of the cast."""
        return x

    entry = "\n".join(hook._method_entry("Tensor.cast", cast))
    assert "Tensor.cast(x: int, *, copy: bool = False) -> int" in entry
    assert "Docstring of the cast." in entry
    assert not hook._has_path("Tensor.cast", cast)


def test_other_pages_pass_through_unchanged():
    page = "# Guide\n\nno marker here\n"
    assert _hook().on_page_markdown(page, None, None, None) == page

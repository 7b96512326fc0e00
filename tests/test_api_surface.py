"""The public surface (issue 14): error classes, `import *`, settings as calls and contexts,
module constructors that take what the functional ops take, and the shipped `py.typed`."""

from __future__ import annotations

import builtins
import contextvars
import pathlib
import re
import threading
import tomllib

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import config
from graphgrad.cli.render import RenderTargetError
from graphgrad.data.idx import IDXError, read_idx
from graphgrad.inspection._model import ModelError
from graphgrad.io import CheckpointError

ROOT = pathlib.Path(__file__).resolve().parent.parent


# ----- 1. every error class under GraphgradError, keeping its standard base -------------------
@pytest.mark.parametrize("cls", [CheckpointError, IDXError, ModelError, RenderTargetError])
def test_error_class_is_a_graphgrad_error_and_still_a_value_error(cls):
    assert issubclass(cls, gg.GraphgradError)
    assert issubclass(cls, ValueError)  # existing `except ValueError` code keeps working


def test_every_error_class_in_the_package_is_a_graphgrad_error():
    """Found by reading the sources, so a new class outside the hierarchy fails here."""
    found = []
    for path in (ROOT / "graphgrad").rglob("*.py"):
        for match in re.finditer(r"^class (\w+Error)\(([^)]*)\):", path.read_text(), re.M):
            found.append((path.name, match.group(1), match.group(2)))
    assert len(found) >= 10
    outside = [(f, name) for f, name, bases in found
               if name != "GraphgradError" and "GraphgradError" not in bases
               and not any(b.strip() in {n for _, n, _ in found} for b in bases.split(","))]
    assert outside == []


def test_a_bad_idx_file_is_caught_as_a_graphgrad_error(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x03")
    with pytest.raises(gg.GraphgradError):
        read_idx(bad)


def test_a_damaged_checkpoint_is_caught_as_a_graphgrad_error(tmp_path):
    bad = tmp_path / "bad.gg"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(gg.GraphgradError):
        gg.load(bad)


# ----- 2. __all__ leaves the built-ins alone ----------------------------------------------------
SHADOWING = ("sum", "max", "min", "abs", "all", "any", "pow", "compile")


def test_star_import_leaves_python_builtins_alone():
    namespace: dict = {}
    exec("from graphgrad import *", namespace)
    for name in SHADOWING:
        assert name not in namespace, name
    exec("probe = sum([1, 2]), max(1, 2), abs(-3), pow(2, 3), all([1]), any([0])", namespace)
    assert namespace["probe"] == (3, 2, 3, 8, True, False)
    assert namespace["Tensor"] is gg.Tensor and namespace["softmax"] is gg.softmax


def test_names_left_out_of_all_stay_reachable_as_attributes():
    for name in SHADOWING:
        assert callable(getattr(gg, name)), name
    assert float(gg.sum(gg.tensor([1.0, 2.0])).item()) == 3.0


def test_every_name_in_all_exists_and_none_is_a_builtin():
    assert len(gg.__all__) == len(set(gg.__all__))
    missing = [name for name in gg.__all__ if not hasattr(gg, name)]
    assert missing == []
    assert [name for name in gg.__all__ if hasattr(builtins, name)] == []


def test_init_has_no_scaffolding_comments():
    text = (ROOT / "graphgrad" / "__init__.py").read_text()
    assert re.search(r"issue \d", text, re.I) is None


# ----- 3. settings: a call sets it, a `with` block overrides it ---------------------------------
def _records_graph() -> bool:
    x = gg.tensor(1.0, requires_grad=True)
    return (x * 2).requires_grad


def test_set_grad_enabled_as_a_plain_call_takes_effect():
    try:
        gg.set_grad_enabled(False)
        assert not _records_graph()
        gg.set_grad_enabled(True)
        assert _records_graph()
    finally:
        gg.set_grad_enabled(True)


def test_set_grad_enabled_as_a_context_restores_the_previous_mode():
    with gg.set_grad_enabled(False):
        assert not _records_graph()
        with gg.set_grad_enabled(True):
            assert _records_graph()
        assert not _records_graph()
    assert _records_graph()
    with gg.no_grad():
        with gg.set_grad_enabled(True):
            assert _records_graph()
        assert not _records_graph()


def _in_fresh_context(fn):
    """Run `fn` the way some ipykernel versions run a cell: in an empty contextvars.Context."""
    return contextvars.Context().run(fn)


def _in_other_thread(fn):
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


@pytest.fixture
def process_defaults():
    """Restore the process-wide defaults whatever a test does to them."""
    dtype = _in_fresh_context(gg.get_default_dtype)
    threads = _in_fresh_context(config.requested_threads)
    yield
    _in_fresh_context(lambda: (gg.set_default_dtype(dtype), gg.set_num_threads(threads)))


def test_set_default_dtype_is_process_wide(process_defaults):
    _in_fresh_context(lambda: gg.set_default_dtype("float64"))  # one notebook cell...
    assert _in_fresh_context(lambda: gg.tensor(1.0).dtype) == np.float64  # ...seen by the next
    assert _in_other_thread(gg.get_default_dtype) == "float64"
    _in_fresh_context(lambda: gg.set_default_dtype("float32"))
    assert _in_fresh_context(lambda: gg.tensor(1.0).dtype) == np.float32


def test_default_dtype_context_overrides_and_restores(process_defaults):
    def cell():
        gg.set_default_dtype("float32")
        with gg.default_dtype("float64"):
            inside = gg.tensor(1.0).dtype
            gg.set_default_dtype("float32")  # a call inside the block: seen at once
            changed = gg.get_default_dtype()
            with gg.default_dtype("float64"):
                nested = gg.get_default_dtype()
        return inside, changed, nested, gg.get_default_dtype()

    assert _in_fresh_context(cell) == (np.float64, "float32", "float64", "float32")


def test_set_default_dtype_rejects_other_dtypes_by_name():
    with pytest.raises(ValueError, match=r"set_default_dtype: expected 'float32' or 'float64'"):
        gg.set_default_dtype("int64")


def test_set_num_threads_is_process_wide_and_num_threads_overrides(process_defaults):
    _in_fresh_context(lambda: gg.set_num_threads(1))
    assert _in_fresh_context(gg.get_num_threads) == 1
    assert _in_other_thread(gg.get_num_threads) == 1

    def cell():
        with gg.num_threads(2):
            inside = gg.get_num_threads()
        return inside, gg.get_num_threads()

    assert _in_fresh_context(cell) == (2, 1)
    _in_fresh_context(lambda: gg.set_num_threads(None))
    assert _in_fresh_context(gg.get_num_threads) == gg.backend.chunks.available_cores()


# ----- 4. module constructors accept what the functional ops accept ------------------------------
@pytest.mark.parametrize("padding", ["same", "valid", 1, (1, 2), ((1, 0), (2, 1))])
def test_conv2d_module_takes_the_functional_padding(padding, rng):
    layer = gg.nn.Conv2d(1, 2, 3, padding=padding, rng=0, dtype="float64")
    x = gg.tensor(rng.standard_normal((2, 1, 5, 6)))
    got = layer(x).numpy()
    want = gg.conv2d(x, layer.weight, layer.bias, padding=padding).numpy()
    np.testing.assert_allclose(got, want)
    if padding == "same":
        assert got.shape == (2, 2, 5, 6)
        assert "padding='same'" in repr(layer)


def test_conv2d_module_rejects_bad_padding_at_the_constructor():
    with pytest.raises(gg.ShapeError, match=r"Conv2d: padding='same' needs stride 1"):
        gg.nn.Conv2d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(gg.ShapeError, match=r"Conv2d: padding must be .* 'same' or 'valid'"):
        gg.nn.Conv2d(1, 2, 3, padding="full")


# ----- 5. py.typed ships ------------------------------------------------------------------------
def test_py_typed_is_shipped_as_package_data():
    assert (ROOT / "graphgrad" / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["graphgrad"]


def test_set_grad_enabled_as_a_call_survives_a_notebook_cell_run_in_a_fresh_context():
    """ipykernel runs each cell as an asyncio task in a copied context: a ContextVar set there is
    gone by the next cell. The mode is per thread (as PyTorch's), so the call holds."""
    import contextvars
    import threading

    cell = contextvars.copy_context()
    cell.run(gg.set_grad_enabled, False)
    try:
        assert not gg.config.is_grad_enabled()
        w = gg.tensor([1.0], requires_grad=True)
        assert not (w * 2.0).requires_grad
        seen = []
        worker = threading.Thread(target=lambda: seen.append(gg.config.is_grad_enabled()))
        worker.start()
        worker.join()
        assert seen == [True]  # a new thread starts recording, as in PyTorch
    finally:
        gg.set_grad_enabled(True)
    assert (w * 2.0).requires_grad


def test_set_grad_enabled_rejects_a_truthy_value():
    with pytest.raises(TypeError, match="set_grad_enabled: expected True or False, got 'no'"):
        gg.set_grad_enabled("no")
    assert gg.config.is_grad_enabled()


def test_type_checkers_see_every_method_a_declaration_installs():
    """`Tensor`'s TYPE_CHECKING block lists the methods @declare installs at run time, so mypy
    and IDEs complete `x.sum(...)`; this keeps the list from rotting as ops are declared."""
    import ast
    import pathlib

    from graphgrad.declare import METHODS, OPS

    source = pathlib.Path(gg._tensor.__file__).read_text()
    tensor_class = next(node for node in ast.parse(source).body
                        if isinstance(node, ast.ClassDef) and node.name == "Tensor")
    block = next(node for node in tensor_class.body if isinstance(node, ast.If)
                 and ast.unparse(node.test) == "TYPE_CHECKING")
    listed = {target.id for statement in block.body if isinstance(statement, ast.Assign)
              for target in statement.targets}
    casts = {"float", "double", "long", "int", "bool"}  # would shadow the built-in types there
    assert listed == set(METHODS) - casts
    for name in listed:
        assert getattr(gg.Tensor, name) is OPS[METHODS[name]]


def test_no_module_is_shadowed_by_a_function_of_the_same_name():
    """`import graphgrad.tensor as m` once gave the function gg.tensor: every submodule that its
    package also holds as an attribute must be that module."""
    import importlib
    import pkgutil
    import types

    shadowed = []
    for info in pkgutil.walk_packages(gg.__path__, "graphgrad."):
        if info.name.startswith("graphgrad.distributed"):
            continue  # needs Ray
        module = importlib.import_module(info.name)
        parent_name, _, child = info.name.rpartition(".")
        held = getattr(importlib.import_module(parent_name), child, module)
        if not isinstance(held, types.ModuleType) or held is not module:
            shadowed.append(f"{info.name} is shadowed by {held!r}")
    assert not shadowed

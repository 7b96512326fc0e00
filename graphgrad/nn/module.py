"""Module, Parameter, containers: how models are written, named and saved.

A model is a `Module` whose attributes are its `Parameter`s and sub-modules, in the order they are
assigned. Its `forward` is ordinary Python on Tensors, so branches, skip connections and several
heads are just code (see docs/training.md, "Arbitrary DAGs and multi-task models").

Naming: a Parameter is named by its attribute path (``conv1.weight``) when the model is first called
(or by `name_parameters()`), and every call of a module runs its forward inside
``config.name_scope(...)``, so each node it creates carries ``Scope("module", "conv1", uid)``: the
visualizer shows and collapses modules by these scopes.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from graphgrad import config
from graphgrad._tensor import Tensor
from graphgrad.errors import ConfigError
from graphgrad.backend import Device, to_numpy

__all__ = ["HookHandle", "Module", "ModuleDict", "ModuleList", "Parameter", "Sequential"]


class Parameter(Tensor):
    """A leaf Tensor that a Module owns and an optimizer updates (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None, requires_grad: bool = True,
                 device: str | Device | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.ndarray):
            data = data.copy()  # never alias the caller's array: the optimizer replaces .data
        super().__init__(data, device=device, requires_grad=requires_grad, name=name)


def _is_root_call() -> bool:
    for frame in config.current_scope():
        if frame.kind == "module":
            return False
    return True


class HookHandle:
    """What `register_forward_hook` returns: `.remove()` detaches the hook (torch's
    RemovableHandle); also a context manager that removes it on exit."""

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Callable[..., Any]]) -> None:
        self.hooks = hooks
        self.id = next(HookHandle._ids)

    def remove(self) -> None:
        """Detach the hook; removing twice does nothing."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Module:
    """Base class of layers and models: assign layers in `__init__`, write `forward`."""

    training: bool  # set in __init__ (train()/eval() flip it for every descendant)

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_scope_name", None)
        object.__setattr__(self, "_has_parent", False)
        object.__setattr__(self, "_buffers", {})  # buffer name -> persistent (saved)?

    # ----------------------------------------------------------------------------- attributes
    def __setattr__(self, name: str, value: Any) -> None:
        if "training" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if name in self.__dict__.get("_buffers", ()) and not (value is None
                                                              or isinstance(value, Tensor)):
            raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor or None, "
                            f"not a {type(value).__name__}")
        if isinstance(value, Tensor) and name in self.__dict__.get("_buffers", ()):
            value._from_library = True  # module state: drawn inside its module's box
        if isinstance(value, Module):
            value.__dict__["_has_parent"] = True
            if value.__dict__.get("_scope_name") is None:
                value.__dict__["_scope_name"] = name
        object.__setattr__(self, name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in self.__dict__.items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, each once (iterative, no recursion)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [
                (f"{path}.{name}" if path else name, child)
                for name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted path, Parameter) in definition order; a shared Parameter is listed once."""
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, value in module.__dict__.items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{path}.{name}" if path else name), value

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep `tensor` as state that is not a parameter (batch norm's running mean and
        variance): the optimizer never sees it, but `.to()` moves it and, when `persistent`,
        `state_dict()` saves it and `load_state_dict()` restores it (as torch.nn.Module's).
        Reachable as ``self.<name>``; assigning a new Tensor there replaces it."""
        if "training" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"register_buffer")
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{type(self).__name__}.register_buffer: name must be an identifier "
                             f"without dots, got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): expected a Tensor "
                            f"or None, got {type(tensor).__name__}")
        if isinstance(tensor, Parameter):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): a Parameter is "
                            f"trained, not a buffer; assign it as an attribute instead")
        if name in self.__dict__ and name not in self.__dict__["_buffers"]:
            raise KeyError(f"{type(self).__name__}.register_buffer: attribute {name!r} already "
                           f"exists and is not a buffer")
        self.__dict__["_buffers"][name] = bool(persistent)
        self.__setattr__(name, tensor)

    def named_buffers(self, prefix: str = "", *, persistent_only: bool = False
                      ) -> Iterator[tuple[str, Tensor]]:
        """(dotted path, buffer) for every buffer that is not None, in registration order."""
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, persistent in module.__dict__.get("_buffers", {}).items():
                value = module.__dict__.get(name)
                if value is None or id(value) in seen or (persistent_only and not persistent):
                    continue
                seen.add(id(value))
                yield (f"{path}.{name}" if path else name), value

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def name_parameters(self) -> Module:
        """Name every Parameter by its attribute path (``conv1.weight``) for diagrams."""
        for name, p in self.named_parameters():
            p.name = name
        return self

    # ----------------------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _is_root_call():
            if self.__dict__["_has_parent"]:  # a sub-module called on its own: keep full names
                for name, p in self.named_parameters():
                    if p.name is None:
                        p.name = name
            else:
                self.name_parameters()
        scope = self.__dict__.get("_scope_name") or type(self).__name__
        pre_hooks = self.__dict__.get("_forward_pre_hooks")
        hooks = self.__dict__.get("_forward_hooks")
        with config.name_scope(scope, kind="module", label=type(self).__name__):
            if not pre_hooks and not hooks:  # the common case: no hooks
                return self.forward(*args, **kwargs)
            for hook in list((pre_hooks or {}).values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
            output = self.forward(*args, **kwargs)
            for hook in list((hooks or {}).values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
            return output

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> HookHandle:
        """Call `hook(module, inputs)` before each forward (torch's register_forward_pre_hook);
        a non-None result replaces the inputs (a tuple, or one value for a single input).

        Why: change or log what a layer receives without editing its forward."""
        return self._add_hook("_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> HookHandle:
        """Call `hook(module, inputs, output)` after each forward (torch's register_forward_hook);
        a non-None result replaces the output. Returns a handle: `handle.remove()` detaches it.

        Why: collect feature maps (`conv1`'s activations) or edit outputs from outside the model."""
        return self._add_hook("_forward_hooks", hook)

    def _add_hook(self, kind: str, hook: Callable[..., Any]) -> HookHandle:
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}.register{kind[:-1]}: the hook must be "
                            f"callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = {}
            object.__setattr__(self, kind, hooks)
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # ----------------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all descendants."""
        for module in self.modules():
            module.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def freeze(self) -> Module:
        """Stop training these parameters (transfer learning: a fixed feature extractor)."""
        return self.requires_grad_(False)

    def unfreeze(self) -> Module:
        return self.requires_grad_(True)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call `fn` on every sub-module and this one (torch's Module.apply: custom init)."""
        for module in self.modules():
            fn(module)
        return self

    def to(self, device: str | Device) -> Module:
        """Move every parameter and buffer to `device` (in place)."""
        from graphgrad.backend import get_device

        target = get_device(device)
        for p in [*self.parameters(), *self.buffers()]:
            if p.device is not target:
                p.data = target.asarray(p.data)
                p.device = target
                p.grad = None
        return self

    # ----------------------------------------------------------------------------- state
    def _state_tensors(self) -> dict[str, Tensor]:
        return {**dict(self.named_parameters()), **dict(self.named_buffers(persistent_only=True))}

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Host NumPy copies of every parameter, then every persistent buffer, keyed by path
        (``conv1.weight``, ``bn1.running_mean``)."""
        return OrderedDict(
            (name, np.array(to_numpy(p.data), copy=True))
            for name, p in self._state_tensors().items()
        )

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values in (parameters and persistent buffers). Every name and shape is checked
        first; on error nothing changes."""
        own = self._state_tensors()
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unexpected:
                parts.append(f"unexpected {unexpected}")
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: " + "; ".join(parts)
                + f" (the model has {list(own)})"
            )
        staged = []
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(getattr(state[name], "data", state[name]))
            if tuple(value.shape) != p.shape:
                raise ConfigError(
                    f"{name}: expected shape {p.shape}, got {tuple(value.shape)}; "
                    f"nothing was loaded"
                )
            if value.dtype.kind not in "fiub":
                raise ConfigError(f"{name}: expected a numeric array, got dtype {value.dtype}")
            staged.append((p, p.device.asarray(value.astype(to_numpy(p.data).dtype, copy=True))))
        for p, data in staged:
            p.data = data

    # ----------------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The constructor arguments shown in repr (override in layers)."""
        return ""

    def _own_parameters(self) -> list[tuple[str, Parameter]]:
        return [(n, v) for n, v in self.__dict__.items() if isinstance(v, Parameter)]

    def __repr__(self) -> str:
        lines: list[str] = []
        stack: list[tuple[int, str, Module | None]] = [(0, "", self)]
        while stack:  # iterative: deep models never hit the recursion limit
            depth, label, module = stack.pop()
            indent = "  " * depth
            if module is None:
                lines.append(f"{indent})")
                continue
            head = f"{indent}{f'({label}): ' if label else ''}{type(module).__name__}"
            own = module._own_parameters()
            shapes = ", ".join(f"{n} {tuple(p.shape)}" for n, p in own)
            count = module.num_parameters()
            info = f"  [{shapes}]" if shapes else ""
            children = list(module.named_children())
            if children:
                lines.append(f"{head}({module.extra_repr()}{info}  # {count:,} parameters")
                stack.append((depth, "", None))
                stack.extend((depth + 1, n, c) for n, c in reversed(children))
            else:
                lines.append(f"{head}({module.extra_repr()}){info}  # {count:,} parameters")
        return "\n".join(lines)


class Sequential(Module):
    """Apply modules in order: ``Sequential(Conv2d(1, 6, 3), ReLU(), ...)``.

    Children are named ``0``, ``1``, ... (or by the keys of an OrderedDict).
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items = list(modules[0].items())
        else:
            items = [(str(index), module) for index, module in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {name!r} is a {type(module).__name__}, not a Module"
                )
            setattr(self, name, module)

    def __len__(self) -> int:
        return len(list(self.named_children()))

    def __getitem__(self, index: int | slice):
        children = list(self.children())
        if isinstance(index, slice):
            return Sequential(*children[index])
        return children[index]

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters the parent sees (for loops over layers, heads...)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(list(self.named_children()))

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]

    def __iter__(self) -> Iterator[Module]:
        return self.children()


class ModuleDict(Module):
    """Named modules (e.g. one head per task) whose parameters the parent sees."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{name!r}]: expected a Module, got {type(module).__name__}")
        setattr(self, name, module)

    def __getitem__(self, name: str) -> Module:
        value = self.__dict__.get(name)
        if not isinstance(value, Module):
            raise KeyError(f"no module {name!r}; this ModuleDict has {list(self.keys())}")
        return value

    def keys(self) -> list[str]:
        return [name for name, _ in self.named_children()]

    def items(self) -> list[tuple[str, Module]]:
        return list(self.named_children())

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import config, nn, optim
from graphgrad._tensor import Tensor


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3, rng=0)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, rng=1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_parameters_in_definition_order_with_paths():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert model.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2
    assert [name for name, _ in model.named_children()] == ["fc1", "act", "fc2"]
    assert [type(m).__name__ for m in model.modules()] == ["TwoLayer", "Linear", "ReLU", "Linear"]


def test_call_names_parameters_and_scopes_nodes():
    model = TwoLayer()
    assert model.fc1.weight.name is None
    out = model(Tensor(np.ones((2, 4), dtype=np.float32)))
    assert model.fc1.weight.name == "fc1.weight"
    kinds = [(s.kind, s.name) for s in out.scope]
    assert kinds[:2] == [("module", "TwoLayer"), ("module", "fc2")]
    # the nodes inside fc1 carry fc1's scope
    node = out
    found = set()
    stack = [out]
    while stack:
        node = stack.pop()
        found.update(s.name for s in node.scope if s.kind == "module")
        stack.extend(node.inputs)
    assert {"TwoLayer", "fc1", "act", "fc2"} <= found
    assert config.current_scope() == ()


def test_sequential_names_and_nested_modules():
    net = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=0))
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(net) == 3 and isinstance(net[1], nn.Tanh)
    assert isinstance(net[:2], nn.Sequential) and len(net[:2]) == 2
    out = net(Tensor(np.zeros((1, 2), dtype=np.float32)))
    assert out.shape == (1, 1)
    with pytest.raises(TypeError, match="item '0' is a int, not a Module"):
        nn.Sequential(3)


def test_shared_parameter_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, rng=0)
            self.b = nn.Linear(2, 2, rng=1)
            self.b.weight = self.a.weight

    assert [n for n, _ in Tied().named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_train_eval_and_freeze():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Dropout(0.5, rng=0))
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert model[1].training
    model[0].freeze()
    assert model.num_parameters(trainable_only=True) == 0
    assert model.num_parameters() == 6
    model.unfreeze()
    assert all(p.requires_grad for p in model.parameters())


def test_state_dict_round_trip_and_copies():
    a, b = TwoLayer(), TwoLayer()
    b.fc1.weight.data = b.fc1.weight.data + 1.0
    state = a.state_dict()
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    state["fc1.weight"][0, 0] = 123.0  # a copy: the model is unaffected
    assert a.fc1.weight.data[0, 0] != 123.0
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        assert q.data.dtype == np.float32


def test_load_state_dict_errors_leave_model_unchanged():
    model = TwoLayer()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = model.state_dict()
    bad["fc2.weight"] = np.zeros((5, 5), dtype=np.float32)
    bad["fc1.weight"] = np.zeros((3, 4), dtype=np.float32)  # valid, listed before the bad one
    with pytest.raises(ValueError, match=r"fc2.weight: expected shape \(2, 3\), got \(5, 5\)"):
        model.load_state_dict(bad)
    missing = model.state_dict()
    del missing["fc2.bias"]
    missing["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing \['fc2.bias'\]; unexpected \['extra'\]"):
        model.load_state_dict(missing)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_repr_shows_shapes_and_counts():
    text = repr(TwoLayer())
    assert text.splitlines()[0] == "TwoLayer(  # 23 parameters"
    assert "(fc1): Linear(4, 3, bias=True)  [weight (3, 4), bias (3,)]  # 15 parameters" in text
    assert text.rstrip().endswith(")")


def test_module_requires_super_init():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_module_list_and_dict():
    heads = nn.ModuleDict({"digit": nn.Linear(3, 10, rng=0), "parity": nn.Linear(3, 2, rng=0)})
    assert heads.keys() == ["digit", "parity"]
    assert heads["parity"].out_features == 2
    with pytest.raises(KeyError, match="no module 'x'"):
        heads["x"]
    layers = nn.ModuleList([nn.Linear(2, 2, rng=0) for _ in range(3)])
    assert len(layers) == 3
    assert [n for n, _ in layers.named_parameters()][-1] == "2.bias"


def test_parameter_copies_numpy_input():
    source = np.ones(3, dtype=np.float32)
    p = nn.Parameter(source)
    assert p.requires_grad and p.data is not source


def test_to_device_trains_there_and_saves_to_host():
    model = TwoLayer().to("strict")
    assert all(str(p.device).startswith("strict") for p in model.parameters())
    x = Tensor(np.ones((2, 4), dtype=np.float32), device="strict")
    opt = optim.Adam(model.parameters(), lr=0.1, l1=0.01, max_norm=1.0)
    before = model.state_dict()
    gg.cross_entropy(model(x), np.array([0, 1])).backward()
    opt.step()
    after = model.state_dict()
    assert isinstance(after["fc1.weight"], np.ndarray)
    assert not np.array_equal(before["fc2.weight"], after["fc2.weight"])
    model.load_state_dict(before)
    assert str(model.fc1.weight.device).startswith("strict")


def test_apply_visits_every_module():
    seen = []
    TwoLayer().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["TwoLayer", "Linear", "ReLU", "Linear"]


def test_deepcopy_and_pickle_of_a_model_give_an_independent_equal_model():
    """copy.deepcopy(model), PyTorch's way to keep the best model while training goes on,
    failed on the tensors; the copy must compute the same and train without touching the
    original, and a shared parameter stays shared in the copy."""
    import copy
    import pickle

    from graphgrad.optim import SGD

    shared = nn.Linear(3, 3)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), shared, shared)
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32))
    before = model(x).numpy()
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert isinstance(copied[0].weight, nn.Parameter)
        np.testing.assert_array_equal(copied(x).numpy(), before)
        assert copied[2].weight is copied[3].weight
        assert len(list(copied.parameters())) == len(list(model.parameters())) == 4
        optimizer = SGD(copied.parameters(), lr=0.1)
        copied(x).sum().backward()
        optimizer.step()
        assert not np.array_equal(copied(x).numpy(), before)
        np.testing.assert_array_equal(model(x).numpy(), before)
    with pytest.raises(RuntimeError, match="deepcopy: .* 'mul' .* x.detach"):
        copy.deepcopy(model[0].weight * 2)

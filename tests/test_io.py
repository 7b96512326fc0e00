import os
import zipfile

import numpy as np
import pytest

from graphgrad.io import CheckpointError, load, save


def test_round_trip_flat_and_nested(tmp_path):
    state = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([1.5, -2.0]),
        "opt": {"step": np.array(7), "m": {"w": np.ones((2, 3))}},
    }
    path = save(state, tmp_path / "ckpt.npz")
    assert path == tmp_path / "ckpt.npz"
    loaded = load(tmp_path / "ckpt.npz")
    assert set(loaded) == {"w", "b", "opt"}
    np.testing.assert_array_equal(loaded["w"], state["w"])
    assert loaded["w"].dtype == np.float32
    assert int(loaded["opt"]["step"]) == 7
    np.testing.assert_array_equal(loaded["opt"]["m"]["w"], np.ones((2, 3)))
    # a plain npz reader sees flat, slash-joined keys
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["b", "opt/m/w", "opt/step", "w"]


def test_name_used_as_given(tmp_path):
    save({"a": np.zeros(1)}, tmp_path / "model.ckpt")
    assert os.listdir(tmp_path) == ["model.ckpt"]  # no .npz appended, no temp file left


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "ckpt.npz"
    save({"a": np.zeros(3)}, target)
    before = target.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save({"a": np.ones(3)}, target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_refuses_to_save_objects(tmp_path):
    with pytest.raises(CheckpointError, match="'bad'.*object array"):
        save({"bad": np.array([{"x": 1}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match="keys must be non-empty strings"):
        save({"a/b": np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match="folder"):
        save({"a": np.zeros(1)}, tmp_path / "missing" / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_pickled_file_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([object()], dtype=object))  # NumPy pickles this
    with pytest.raises(CheckpointError, match="'payload' holds pickled Python objects"):
        load(path)


def test_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.random.default_rng(0).normal(size=(50, 50))}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated, corrupt or not an .npz"):
        load(path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt"):
        load(text)
    npy = tmp_path / "single.npy"
    np.save(npy, np.zeros(2))
    with pytest.raises(CheckpointError, match="single .npy array"):
        load(npy)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(tmp_path / "absent.npz")


def test_corrupt_member_is_reported(tmp_path):
    path = tmp_path / "ckpt.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", b"\x93NUMPY garbage")
    with pytest.raises(CheckpointError, match="ckpt.npz"):
        load(path)


class Holder:
    """A minimal object with load_state_dict that validates like Module does."""

    def __init__(self):
        self.w = np.zeros(2)

    def state_dict(self):
        return {"w": self.w}

    def load_state_dict(self, state):
        if state["w"].shape != self.w.shape:
            raise ValueError(f"w: expected shape {self.w.shape}, got {state['w'].shape}")
        self.w = state["w"]


def test_load_into(tmp_path):
    save({"w": np.array([1.0, 2.0])}, tmp_path / "good.npz")
    save({"w": np.zeros(3)}, tmp_path / "bad.npz")
    holder = Holder()
    assert load(tmp_path / "good.npz", into=holder) is holder
    np.testing.assert_array_equal(holder.w, [1.0, 2.0])
    with pytest.raises(CheckpointError, match="bad.npz does not fit Holder: w: expected shape"):
        load(tmp_path / "bad.npz", into=holder)
    np.testing.assert_array_equal(holder.w, [1.0, 2.0])
    save(holder, tmp_path / "holder.npz")  # objects with state_dict() are saved through it
    np.testing.assert_array_equal(load(tmp_path / "holder.npz")["w"], [1.0, 2.0])
    with pytest.raises(TypeError, match="load_state_dict"):
        load(tmp_path / "good.npz", into=object())

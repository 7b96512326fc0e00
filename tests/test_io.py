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

    monkeypatch.setattr(np.lib.format, "write_array", crash)
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


def test_any_string_key_round_trips(tmp_path):
    """np.savez's own keywords (allow_pickle, file) used to swallow or break such keys."""
    from hypothesis import given
    from hypothesis import strategies as st

    names = ["allow_pickle", "file", "args", "kwds", "arr_0", "a.npy", ".npy", "..", " ", "é\\x"]

    @given(st.lists(st.text(min_size=1).filter(lambda k: "/" not in k and "\x00" not in k),
                    max_size=4))
    def round_trip(extra):
        state = {key: np.full(2, float(i)) for i, key in enumerate(names + extra)}
        save(state, tmp_path / "keys.npz")
        loaded = load(tmp_path / "keys.npz")
        assert set(loaded) == set(state)
        for key, value in state.items():
            np.testing.assert_array_equal(loaded[key], value)

    round_trip()


@pytest.mark.parametrize("key", ["a/b", "", "nul\x00", "\udc80"])
def test_keys_that_cannot_round_trip_are_refused(tmp_path, key):
    with pytest.raises(CheckpointError, match="keys must be non-empty strings"):
        save({key: np.zeros(1)}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_the_same_state_gives_the_same_bytes(tmp_path):
    state = {"w": np.arange(3.0), "b": np.ones((2, 2), order="F")}
    save(state, tmp_path / "a.npz")
    save(state, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    np.testing.assert_array_equal(load(tmp_path / "a.npz")["b"], np.ones((2, 2)))


KILLED_SAVE = """
import sys, time, numpy as np, graphgrad as gg
def slow(handle, array, **kwargs):
    handle.write(b"x" * 1000)
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)
np.lib.format.write_array = slow
gg.save({"w": np.zeros(3)}, sys.argv[1])
"""


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    import signal
    import subprocess
    import sys

    from graphgrad.atomic import atomic_write

    target = tmp_path / "model.npz"
    save({"w": np.ones(3)}, target)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "writing\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    stale = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(stale) == 1 and stale[0].name.startswith(".model.npz.graphgrad-")
    np.testing.assert_array_equal(load(target)["w"], np.ones(3))  # the old checkpoint survived
    save({"w": np.zeros(2)}, tmp_path / "other.npz")
    assert stale[0].exists()  # young: it might be a save that has not locked its file yet
    old = stale[0].stat().st_mtime - 3600
    os.utime(stale[0], (old, old))
    unrelated = tmp_path / ".notes.abcdefgh.tmp"  # a user's file in tempfile's style: not ours
    unrelated.write_text("keep")
    os.utime(unrelated, (old, old))
    with atomic_write(tmp_path / "busy.bin") as handle:  # a save in progress, here made old
        handle.write(b"in progress")
        os.utime(handle.name, (old, old))
        save({"w": np.zeros(2)}, tmp_path / "other.npz")
        assert not stale[0].exists()  # the killed save's is gone
        assert os.path.exists(handle.name)  # the one in progress is locked, so it stays
    assert (tmp_path / "busy.bin").read_bytes() == b"in progress"
    assert unrelated.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".notes.abcdefgh.tmp", "busy.bin", "model.npz", "other.npz"]

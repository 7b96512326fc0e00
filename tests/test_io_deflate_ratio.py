"""gg.load refuses a deflate bomb inside the byte budget (issue 13, item 3): a member, or a file
split into many members, unpacking to over `max_ratio` times its compressed size and over
256 MiB, is refused from the zip directory alone, before anything is inflated."""

from __future__ import annotations

import tracemalloc
import zipfile

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.io import CheckpointError

from .test_checkpoint_fuzz import deflate_bomb


@pytest.fixture(scope="module")
def bomb_300mib(tmp_path_factory):
    """300 MiB of float64 zeros in about 300 KiB: inside the default 4 GiB budget."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    path.write_bytes(deflate_bomb(300 << 20))
    return path


def test_a_member_with_an_absurd_ratio_is_refused_before_inflating(bomb_300mib):
    assert bomb_300mib.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"member 'bomb.npy' would unpack 314572928 "
                                                  r"bytes from \d+ compressed \(\d+x\).*"
                                                  r"max_ratio=100.*268435456 bytes"):
            gg.load(bomb_300mib)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # refused from the directory: nothing was allocated for the data


@pytest.mark.slow  # inflates 300 MiB
def test_a_trusted_bomb_loads_with_max_ratio_none(bomb_300mib):
    loaded = gg.load(bomb_300mib, max_ratio=None)["bomb"]
    assert loaded.shape == (300 << 17,) and not loaded.any()


def test_a_bomb_split_into_many_members_is_refused_by_the_total(tmp_path, monkeypatch):
    """20 members of 1 MiB zeros each, the floor lowered to 4 MiB (the rule at a tenth of the
    cost): every member under the floor, together over it."""
    monkeypatch.setattr(gg.io, "RATIO_FLOOR_BYTES", 4 << 20)
    path = tmp_path / "split.npz"
    np.savez_compressed(path, **{f"z{i}": np.zeros(1 << 17) for i in range(20)})
    with pytest.raises(CheckpointError, match=r"all 20 members together unpack \d+ bytes"):
        gg.load(path)


def test_legitimate_compressed_files_load(tmp_path):
    """Random weights (about 1.1x) of any size, and zeros below the 256 MiB floor."""
    rng = np.random.default_rng(0)
    weights = {"w": rng.standard_normal((512, 512)), "zeros": np.zeros((2048, 2048))}
    path = tmp_path / "model.npz"
    np.savez_compressed(path, **weights)
    with zipfile.ZipFile(path) as archive:  # the zeros really are far over the ratio
        info = archive.getinfo("zeros.npy")
        assert info.file_size > 100 * info.compress_size
    loaded = gg.load(path)
    np.testing.assert_array_equal(loaded["w"], weights["w"])
    assert loaded["zeros"].shape == (2048, 2048) and not loaded["zeros"].any()


@pytest.mark.parametrize("bad", [0.5, "100", True, float("nan")])
def test_max_ratio_must_be_a_number_at_least_one(tmp_path, bad):
    path = tmp_path / "a.npz"
    gg.save({"a": np.ones(2)}, path)
    with pytest.raises(ValueError, match="max_ratio must be a number >= 1 or None"):
        gg.load(path, max_ratio=bad)

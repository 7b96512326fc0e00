import gzip
import struct

import numpy as np
import pytest

from graphgrad.data import IDXError, load_mnist, read_idx, write_idx


def idx_bytes(type_code, shape, payload):
    """An IDX file built by hand from the format description (independent of write_idx)."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_reads_ubyte_images(tmp_path):
    pixels = bytes(range(24))
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(0x08, (2, 3, 4), pixels))
    array = read_idx(path)
    assert array.shape == (2, 3, 4)
    assert array.dtype == np.uint8
    assert array[1, 2, 3] == 23 and array[0, 1, 0] == 4


def test_reads_big_endian_int32_and_float64(tmp_path):
    path = tmp_path / "ints"
    path.write_bytes(idx_bytes(0x0C, (3,), struct.pack(">3i", -1, 256, 70000)))
    assert read_idx(path).tolist() == [-1, 256, 70000]
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes(0x0E, (2,), struct.pack(">2d", 0.5, -2.25)))
    assert read_idx(path).tolist() == [0.5, -2.25]


def test_reads_gzip(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (3,), bytes([7, 0, 9]))))
    assert read_idx(path).tolist() == [7, 0, 9]


def test_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(IDXError, match="bad magic number 0x12340801"):
        read_idx(path)
    path.write_bytes(idx_bytes(0x07, (1,), b"\x00"))  # unknown type byte
    with pytest.raises(IDXError, match="type byte"):
        read_idx(path)


def test_truncated_data_and_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(0x08, (2, 3), bytes(5)))
    with pytest.raises(IDXError, match="truncated.*needs 6 data bytes, found 5"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 2))
    with pytest.raises(IDXError, match="truncated header"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="too short"):
        read_idx(path)
    path.write_bytes(idx_bytes(0x08, (2,), bytes(3)))
    with pytest.raises(IDXError, match="trailing bytes"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (100,), bytes(100)))[:-10])
    with pytest.raises(IDXError, match="gzip"):
        read_idx(path)


def test_write_then_read_round_trip(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4) - 5
    write_idx(tmp_path / "a.idx", array)
    assert (tmp_path / "a.idx").read_bytes()[:4] == bytes([0, 0, 0x0B, 2])
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), array)
    with pytest.raises(IDXError, match="cannot store dtype int64"):
        write_idx(tmp_path / "b.idx", np.zeros(2, dtype=np.int64))


def test_load_mnist_layout(tmp_path):
    images = np.array([[[0, 255], [51, 0]], [[255, 255], [0, 102]]], dtype=np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(0x08, (2, 2, 2), images.tobytes()))
    )
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(0x08, (2,), bytes([3, 8])))
    x, y = load_mnist(tmp_path, "test")
    assert x.shape == (2, 1, 2, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0], [[0.0, 1.0], [0.2, 0.0]])
    assert y.tolist() == [3, 8] and y.dtype == np.int64
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist(tmp_path, "valid")


def test_load_mnist_count_mismatch(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(0x08, (2, 1, 1), bytes(2)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(0x08, (3,), bytes(3)))
    with pytest.raises(IDXError, match="2 images but 3 labels"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_is_atomic(tmp_path, monkeypatch, name):
    import graphgrad.atomic

    path = tmp_path / name
    write_idx(path, np.zeros(3, dtype=np.uint8))
    before = path.read_bytes()
    np.testing.assert_array_equal(read_idx(path), np.zeros(3, dtype=np.uint8))

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(graphgrad.atomic.os, "fsync", crash)  # fail before the rename
    with pytest.raises(OSError, match="disk full"):
        write_idx(path, np.ones(5, dtype=np.uint8))
    assert path.read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left

"""Fuzzing the checkpoint reader: every damaged or hostile file raises CheckpointError naming it,
or (a byte flip where nothing depends on it) loads exactly the saved values; memory stays bounded
and a model that a load failed on is unchanged.

The builders below are plain functions of their parameters, so a script can also run them
against another `load` (the counts in the report of issue 13 came from that).
"""

from __future__ import annotations

import io
import math
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad.io import CheckpointError

STATE = {
    "w": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "b": np.array([1.5, -2.0, np.pi]),
    "opt": {"step": np.array(7), "m": np.arange(4, dtype=np.int64).reshape(2, 2)},
}


def saved_bytes(tmp_path, compressed: bool = False) -> bytes:
    """STATE as gg.save writes it, or as np.savez_compressed does (deflated members)."""
    path = tmp_path / "good.npz"
    if compressed:
        np.savez_compressed(path, **{"w": STATE["w"], "b": STATE["b"],
                                     "opt/step": STATE["opt"]["step"], "opt/m": STATE["opt"]["m"]})
    else:
        gg.save(STATE, path)
    return path.read_bytes()


def npy(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A .npy member with any header text (padded as NumPy pads it) and data."""
    raw = header.encode("latin1")
    size_format = "<H" if version == 1 else "<I"
    prefix = 6 + 2 + struct.calcsize(size_format)
    raw += b" " * (-(prefix + len(raw) + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(size_format, len(raw)) + raw + data


def header(descr: str = "<f8", shape=(2,), fortran_order: bool = False) -> str:
    return f"{{'descr': {descr!r}, 'fortran_order': {fortran_order}, 'shape': {shape!r}, }}"


def zip_of(members, compress_type: int = zipfile.ZIP_STORED, flag_bits: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = compress_type
            archive.writestr(info, data)
            info.flag_bits |= flag_bits  # written into the central directory at close
    return buffer.getvalue()


def set_compress_type(data: bytes, method: int) -> bytes:
    """Patch every header's compression method (zipfile refuses to write unknown ones)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = out.find(signature)
        while at >= 0:
            out[at + offset: at + offset + 2] = struct.pack("<H", method)
            at = out.find(signature, at + 4)
    return bytes(out)


def deflate_bomb(declared_bytes: int) -> bytes:
    """A deflated member of `declared_bytes` zeros (consistent header and sizes): a file about
    1/1000 of what it unpacks to."""
    count = declared_bytes // 8
    member = npy(header("<f8", (count,)))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(member)
    parts = [compressor.compress(member)]
    zeros = bytes(1 << 20)
    left = count * 8
    while left:
        piece = zeros[: min(left, len(zeros))]
        crc = zlib.crc32(piece, crc)
        parts.append(compressor.compress(piece))
        left -= len(piece)
    parts.append(compressor.flush())
    body = b"".join(parts)
    size = len(member) + count * 8
    return raw_zip("bomb.npy", body, crc, size, zipfile.ZIP_DEFLATED)


def raw_zip(name: str, body: bytes, crc: int, size: int, method: int) -> bytes:
    """One member with the sizes and CRC given (zip64 sizes, so any size can be declared)."""
    raw_name = name.encode()
    extra = struct.pack("<HHQQ", 1, 16, size, len(body))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, method, 0, 0x21, crc,
                        0xFFFFFFFF, 0xFFFFFFFF, len(raw_name), len(extra)) + raw_name + extra
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, method, 0, 0x21, crc,
                          0xFFFFFFFF, 0xFFFFFFFF, len(raw_name), len(extra), 0, 0, 0, 0, 0
                          ) + raw_name + extra
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(body), 0)
    return local + body + central + end


def outcome(load, path, expected=None) -> str:
    """'refused' (CheckpointError), 'same' (loaded `expected` exactly), or what went wrong."""
    try:
        result = load(path)
    except CheckpointError:
        return "refused"
    except Exception as error:  # noqa: BLE001  the point: name any other exception
        return f"raised {type(error).__name__}"
    if expected is not None and _equal(result, expected):
        return "same"
    return "loaded wrong or unexpected content"


def _equal(a, b) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)
                and all(_equal(a[k], b[k]) for k in a))
    a, b = np.asarray(a), np.asarray(b)
    return (a.dtype == b.dtype and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def assert_refused(path):
    with pytest.raises(CheckpointError, match=str(path.name)):
        gg.load(path)


# ------------------------------------------------------------------------------ properties
@given(data=st.data(), compressed=st.booleans())
def test_every_truncation_is_refused(tmp_path_factory, data, compressed):
    tmp_path = tmp_path_factory.mktemp("cut")
    good = saved_bytes(tmp_path, compressed)
    length = data.draw(st.integers(0, len(good) - 1))
    (tmp_path / "cut.npz").write_bytes(good[:length])
    assert_refused(tmp_path / "cut.npz")


@given(data=st.data(), compressed=st.booleans())
def test_a_flipped_byte_is_refused_or_changes_nothing(tmp_path_factory, data, compressed):
    """A CRC-32 covers every member's bytes and the header must account for the size in the
    directory, so a flip either is caught or hit a byte no value depends on."""
    tmp_path = tmp_path_factory.mktemp("flip")
    damaged = bytearray(saved_bytes(tmp_path, compressed))
    position = data.draw(st.integers(0, len(damaged) - 1))
    damaged[position] ^= data.draw(st.integers(1, 255))
    path = tmp_path / "flip.npz"
    path.write_bytes(bytes(damaged))
    tracemalloc.start()
    try:
        assert outcome(gg.load, path, STATE) in ("refused", "same")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


@given(junk=st.binary(max_size=300), version=st.sampled_from([1, 2, 3]))
def test_junk_headers_are_refused(tmp_path_factory, junk, version):
    path = tmp_path_factory.mktemp("junk") / "junk.npz"
    text = junk.decode("latin1")
    path.write_bytes(zip_of([("w.npy", npy(text, b"\0" * 16, version))]))
    assert_refused(path)


DESCRS = ["<f8", "<f4", "|b1", "<i8", "|u1", "<c16", "|S3", "<U2", "|O", "<M8[s]", "|V8",
          "[('a', '<f8')]", "f8,i4", "not a dtype", ">f8"]


@given(descr=st.sampled_from(DESCRS), fortran=st.booleans(),
       shape=st.lists(st.one_of(st.integers(0, 4), st.just(10**12), st.just(-1)), max_size=3),
       extra=st.integers(-3, 3))
def test_crafted_headers_load_only_when_consistent(tmp_path_factory, descr, fortran, shape,
                                                   extra):
    path = tmp_path_factory.mktemp("hdr") / "crafted.npz"
    allowed = descr in ("<f8", "<f4", "|b1", "<i8", "|u1", "<c16", "|S3", "<U2", ">f8")
    itemsize = int(np.dtype(descr).itemsize) if allowed else 8
    count = math.prod(shape) if all(n >= 0 for n in shape) else 0
    length = max(0, count * itemsize + extra) if count * itemsize < 1000 else 64
    raw = bytes(range(256)) * (length // 256 + 1)
    raw = raw[:length]
    if descr == "|b1":
        raw = bytes(b % 2 for b in raw)
    path.write_bytes(zip_of([("x.npy", npy(header(descr, tuple(shape), fortran), raw))]))
    representable = math.prod(n for n in shape if n) * itemsize < 2**63  # NumPy's index range
    consistent = (allowed and all(n >= 0 for n in shape) and count * itemsize == length
                  and representable)
    if not consistent:
        assert_refused(path)
        return
    expected = np.frombuffer(raw, dtype=descr)
    expected = (expected.reshape(tuple(shape)[::-1]).T if fortran
                else expected.reshape(tuple(shape)))
    assert _equal(gg.load(path)["x"], expected)


NAMES = ["a.npy", "a/b.npy", "a/c.npy", "b.npy", "a", "b.txt", "/c.npy", "a//d.npy", ".npy",
         "a/", "d/e/f.npy"]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@given(names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4))
def test_member_names_must_be_npy_arrays_that_nest_cleanly(tmp_path_factory, names):
    path = tmp_path_factory.mktemp("names") / "names.npz"
    member = npy(header("<f8", (2,)), np.array([1.0, 2.0]).tobytes())
    path.write_bytes(zip_of([(name, member) for name in names]))
    keys = [name[:-4] for name in names]
    valid = (all(name.endswith(".npy") and "" not in name[:-4].split("/") for name in names)
             and len(set(keys)) == len(keys)
             and not any(other.startswith(key + "/") for key in keys for other in keys))
    if not valid:
        assert_refused(path)
        return
    flat = {}
    for key, value in _flatten_for_test(gg.load(path)):
        flat[key] = value
    assert sorted(flat) == sorted(keys)
    assert all(np.array_equal(v, [1.0, 2.0]) for v in flat.values())


def _flatten_for_test(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten_for_test(value, f"{prefix}{key}/")
        else:
            yield prefix + key, value


# ------------------------------------------------------------------------------ examples
@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99, 12345])
def test_other_compression_methods_are_refused(tmp_path, method):
    path = tmp_path / "method.npz"
    good = zip_of([("w.npy", npy(header("<f8", (1,)), bytes(8)))])
    path.write_bytes(set_compress_type(good, method))
    with pytest.raises(CheckpointError, match=f"'w.npy'.*compression method {method}"):
        gg.load(path)


def test_encrypted_members_are_refused(tmp_path):
    path = tmp_path / "secret.npz"
    path.write_bytes(zip_of([("w.npy", npy(header("<f8", (1,)), bytes(8)))], flag_bits=0x1))
    with pytest.raises(CheckpointError, match="'w.npy' is encrypted"):
        gg.load(path)


def test_a_deflate_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """64 MiB of zeros in a 64 KiB file: over the budget, refused with bounded memory; within
    the budget it loads (the budget, not the ratio, is the rule)."""
    path = tmp_path / "bomb.npz"
    path.write_bytes(deflate_bomb(64 << 20))
    assert path.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"'bomb.npy'.*over max_bytes=1048576"):
            gg.load(path, max_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert gg.load(path, max_bytes=65 << 20)["bomb"].shape == (8 << 20,)


def test_sizes_the_directory_understates_are_caught_by_the_bounded_read(tmp_path):
    """A member whose deflated data unpacks past its declared size: reading stops at that
    size, and the CRC (of all the data) does not match what came out."""
    member = npy(header("<f8", (1,)), bytes(8))
    content = member + bytes(50 << 20)  # 50 MiB more than declared
    body = zlib.compress(content, 9)[2:-4]  # raw deflate
    path = tmp_path / "liar.npz"
    path.write_bytes(raw_zip("liar.npy", body, zlib.crc32(content), len(member),
                             zipfile.ZIP_DEFLATED))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="'liar.npy'"):
            gg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_huge_declared_shape_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    path.write_bytes(zip_of([("w.npy", npy(header("<f8", (10**12,)), bytes(8)))]))
    with pytest.raises(CheckpointError, match=r"'w.npy' declares shape \(1000000000000,\)"):
        gg.load(path)


def test_pickles_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="'payload' holds pickled Python objects"):
        gg.load(path)


def test_a_failed_load_leaves_the_model_unchanged(tmp_path):
    model = gg.nn.Linear(3, 2)
    gg.save(model, tmp_path / "model.npz")
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    good = (tmp_path / "model.npz").read_bytes()
    target = gg.nn.Linear(3, 2)
    original = {name: p.numpy().copy() for name, p in target.named_parameters()}
    damaged = 0
    for position in range(0, len(good), 7):
        flipped = bytearray(good)
        flipped[position] ^= 0x55
        (tmp_path / "bad.npz").write_bytes(bytes(flipped))
        try:
            gg.load(tmp_path / "bad.npz", into=target)
        except CheckpointError:
            damaged += 1
            assert all(np.array_equal(p.numpy(), original[name])
                       for name, p in target.named_parameters())
        else:  # the flip hit a byte nothing depends on: the saved values arrived
            assert all(np.array_equal(p.numpy(), before[name])
                       for name, p in target.named_parameters())
            gg.load(tmp_path / "model.npz")  # and target is reset below
            for name, p in target.named_parameters():
                p.data = p.device.asarray(original[name].copy())
    assert damaged > len(good) // 7 // 2

"""Data sets: class folders with bad files, pre-split layouts, stratified splits, refusals, digits."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from archspec.train_config import Digits, ImageFolder
from archspec.training.data import DataError, load, split_indices
from archspec.training.images import BadImage, decode
from archspec.training.synthetic import write_image_folder


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A PNG header claiming 10 gigapixels, with no pixel data: a decompression bomb's first bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IEND", b""))


def truncated_jpeg() -> bytes:
    """Verify() passes this file; only a full decode notices the missing scan data."""
    noise = np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG")
    return buf.getvalue()[: len(buf.getvalue()) * 2 // 3]


def messy_folder(root, per_class=20, size=16):
    """3 classes of synthetic PNGs plus the usual debris of a real image folder."""
    write_image_folder(root, per_class=per_class, size=size, classes=3)
    (root / "hstripes" / "notes.txt").write_text("not an image")
    (root / "vstripes" / "empty.png").write_bytes(b"")
    (root / "diagonal" / "cut.jpg").write_bytes(truncated_jpeg())
    (root / "hstripes" / "bomb.png").write_bytes(png_bomb())
    Image.open(root / "diagonal" / "0000.png").convert("RGB").resize((40, 40)).save(root / "diagonal" / "rgb.png")
    for hidden in (root / ".ipynb_checkpoints" / "hstripes", root / "vstripes" / ".ipynb_checkpoints"):
        hidden.mkdir(parents=True)
        Image.new("L", (16, 16)).save(hidden / "copy-checkpoint.png")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "README.md").write_text("about this data")
    return root


SKIPPED = {"not an image": 2, "too large": 1, "unreadable or truncated": 1}


def test_messy_folder_skips_bad_files_with_counts_and_ignores_hidden_folders(tmp_path):
    data = load(ImageFolder(type="image_folder", path=str(messy_folder(tmp_path / "d"))), (16, 16, 1), seed=0)
    assert data.classes == ["diagonal", "hstripes", "vstripes"]
    assert data.skipped_summary() == SKIPPED
    assert {f for f, _, _ in data.skipped} == {"hstripes/notes.txt", "vstripes/empty.png", "diagonal/cut.jpg",
                                               "hstripes/bomb.png"}
    counts = data.counts()
    assert {c: sum(v.values()) for c, v in counts.items()} == {"diagonal": 21, "hstripes": 20, "vstripes": 20}
    assert all(data.splits[s].x.dtype.is_floating_point is False for s in data.splits)
    assert data.splits["train"].x.shape[1:] == (1, 16, 16)
    assert not any("checkpoint" in f for s in data.splits.values() for f in s.files)
    assert "hstripes" in data.report()
    text = data.warnings()
    assert "skipped 4 file(s)" in text and "1 too large" in text and "README.md" not in text
    assert "1 file(s) directly in" in text  # the README at the top level is noted, not decoded


def test_stratified_split_is_seeded_and_proportional():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    a = split_indices(labels, 0.1, 0.2, seed=1, classes=["a", "b", "c"])
    b = split_indices(labels, 0.1, 0.2, seed=1, classes=["a", "b", "c"])
    c = split_indices(labels, 0.1, 0.2, seed=2, classes=["a", "b", "c"])
    assert all(np.array_equal(a[s], b[s]) for s in a) and not np.array_equal(a["test"], c["test"])
    assert [int(np.sum(labels[a["test"]] == k)) for k in range(3)] == [10, 6, 4]
    assert [int(np.sum(labels[a["val"]] == k)) for k in range(3)] == [5, 3, 2]
    assert sorted(np.concatenate(list(a.values())).tolist()) == list(range(100))


def test_pre_split_folders_are_used_as_given(tmp_path):
    write_image_folder(tmp_path / "d" / "train", per_class=10, classes=3, seed=1)
    write_image_folder(tmp_path / "d" / "test", per_class=4, classes=3, seed=2)
    data = load(ImageFolder(type="image_folder", path=str(tmp_path / "d"), val_fraction=0.2), (16, 16, 1), seed=0)
    counts = data.counts()
    assert counts["hstripes"] == {"train": 8, "val": 2, "test": 4}
    assert all(f.startswith("test/") for f in data.splits["test"].files)
    assert any("no val/ folder" in n for n in data.notes)


@pytest.mark.parametrize("layout, message", [
    ("one-class", "one class ('cats')"),
    ("no-classes", "holds no class sub-folders"),
    ("train-only", "has a train/ folder but no test/ folder"),
    ("extra-test-class", "class folder(s) ring that train/ does not have"),
    ("missing", "no such folder"),
])
def test_unusable_layouts_are_refused_clearly(tmp_path, layout, message):
    root = tmp_path / "d"
    if layout == "one-class":
        write_image_folder(root, per_class=3, classes=2)
        for f in (root / "vstripes").iterdir():
            f.unlink()
        (root / "vstripes").rmdir()
        (root / "hstripes").rename(root / "cats")
    elif layout == "no-classes":
        root.mkdir()
        (root / "a.png").write_bytes(b"")
    elif layout == "train-only":
        write_image_folder(root / "train", per_class=3)
    elif layout == "extra-test-class":
        write_image_folder(root / "train", per_class=3, classes=4)
        write_image_folder(root / "test", per_class=3, classes=5)
        (root / "test" / "checks").rename(root / "test" / "checks2")
        for f in (root / "test" / "checks2").iterdir():
            f.unlink()
        (root / "test" / "checks2").rmdir()
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(ImageFolder(type="image_folder", path=str(root)), (16, 16, 1), seed=0)


def test_empty_class_folder_is_ignored_with_a_note(tmp_path):
    root = write_image_folder(tmp_path / "d", per_class=5, classes=3)
    (root / "empty-class").mkdir()
    (root / "empty-class" / "junk.txt").write_text("x")
    data = load(ImageFolder(type="image_folder", path=str(root)), (16, 16, 1), seed=0)
    assert "empty-class" not in data.classes and len(data.classes) == 3
    assert any("'empty-class'" in n and "no usable images (1 skipped)" in n for n in data.notes)


def test_too_few_images_to_split_is_refused(tmp_path):
    root = write_image_folder(tmp_path / "d", per_class=2, classes=2)
    with pytest.raises(DataError, match="too few to hold out"):
        load(ImageFolder(type="image_folder", path=str(root), val_fraction=0.5, test_fraction=0.4), (16, 16, 1), 0)


def test_decode_converts_channels_and_size(tmp_path):
    Image.new("RGB", (30, 20), (255, 0, 0)).save(tmp_path / "red.png")
    gray = decode(tmp_path / "red.png", (8, 12, 1))
    assert gray.shape == (8, 12, 1) and gray.dtype == np.uint8 and int(gray[0, 0, 0]) == 76  # ITU-R 601-2 luma
    Image.new("L", (8, 8), 200).save(tmp_path / "gray.png")
    rgb = decode(tmp_path / "gray.png", (8, 8, 3))
    assert rgb.shape == (8, 8, 3) and (rgb == 200).all()
    with pytest.raises(BadImage, match="unreadable"):
        decode(tmp_path / "missing.png", (8, 8, 1))


def test_sixteen_bit_images_keep_their_contrast(tmp_path):
    """A 16-bit grayscale PNG (as scanners write them) keeps its top byte; Pillow's convert('L') clipped every
    value over 255, so such an image decoded almost white."""
    Image.fromarray(np.arange(256, dtype=np.uint16).reshape(16, 16) * 257).save(tmp_path / "wide.png")
    assert Image.open(tmp_path / "wide.png").mode == "I;16"
    assert np.array_equal(decode(tmp_path / "wide.png", (16, 16, 1))[:, :, 0], np.arange(256).reshape(16, 16))
    rgb = decode(tmp_path / "wide.png", (8, 8, 3))  # resized, the channel repeated
    assert rgb.shape == (8, 8, 3) and 120 < rgb.mean() < 135


def test_floating_point_images_are_read_as_zero_to_one_and_other_floats_are_refused(tmp_path):
    """Float TIFFs (mode F) hold 0..1; Pillow's convert('L') rounded them to 0 or 1, a black image."""
    ramp = np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16)
    Image.fromarray(ramp, "F").save(tmp_path / "ramp.tif")
    assert Image.open(tmp_path / "ramp.tif").mode == "F"
    assert np.array_equal(decode(tmp_path / "ramp.tif", (16, 16, 1))[:, :, 0], np.rint(ramp * 255))
    for name, values in (("big", ramp * 300), ("nan", np.full((16, 16), np.nan, dtype=np.float32))):
        Image.fromarray(values.astype(np.float32), "F").save(tmp_path / f"{name}.tif")
        with pytest.raises(BadImage) as exc:
            decode(tmp_path / f"{name}.tif", (16, 16, 1))
        assert exc.value.reason == "float pixels outside 0..1" and "save 8- or 16-bit" in exc.value.detail


def test_a_class_whose_every_file_was_refused_says_why_in_the_error(tmp_path):
    root = write_image_folder(tmp_path / "d", classes=2, per_class=3, size=16)
    broken = sorted(p for p in root.iterdir() if p.is_dir())[1]
    for png in broken.iterdir():
        png.write_bytes(b"not a png")
    with pytest.raises(DataError) as exc:
        load(ImageFolder(type="image_folder", path=str(tmp_path / "d")), (16, 16, 1), seed=0)
    assert "holds one class (" in exc.value.message
    assert exc.value.hint.startswith(f"3 file(s) were refused (3 not an image), e.g. {broken.name}/")


def test_digits_and_fingerprint():
    data = load(Digits(type="digits"), (8, 8, 1), seed=0)
    assert data.classes == [str(i) for i in range(10)]
    assert sum(len(s) for s in data.splits.values()) == 1797
    assert int(data.splits["train"].x.max()) == 255
    before = data.fingerprint()
    data.splits["test"].x[0, 0, 0, 0] ^= 1
    assert data.fingerprint() != before
    bigger = load(Digits(type="digits"), (16, 16, 3), seed=0)
    assert bigger.splits["train"].x.shape[1:] == (3, 16, 16)


def test_flat_input_decodes_digits_only():
    assert load(Digits(type="digits"), (64,), seed=0).shape == (8, 8, 1)
    with pytest.raises(DataError, match="flat input"):
        load(ImageFolder(type="image_folder", path="."), (64,), seed=0)


def test_linked_folders_are_followed_once_and_link_loops_end(tmp_path):
    """A class folder may hold links to folders of images (e.g. a shared scan folder): they are read, each real
    folder once, and a link back up the tree does not loop."""
    from archspec.training.data import files_under

    cls = tmp_path / "cls"
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "s.png").write_bytes(b"x")
    cls.mkdir()
    (cls / "a.png").write_bytes(b"x")
    (cls / "scans").symlink_to(tmp_path / "scans")
    (cls / "again").symlink_to(tmp_path / "scans")  # the same folder twice: read once
    (cls / "up").symlink_to(cls)  # a loop
    got = [p.relative_to(cls).as_posix() for p in files_under(cls)]
    assert got == ["a.png", "again/s.png"]

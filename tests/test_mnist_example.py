"""examples/mnist_idx.py (IDX reader, checksums) and examples/mnist_rustorch_demo.py."""

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))
import mnist_idx  # noqa: E402
from mnist_idx import IDXError  # noqa: E402

DEMO = EXAMPLES / "mnist_rustorch_demo.py"


def synthetic_mnist(n, seed=0):
    """MNIST-like uint8 images: class k is a bright 8x5 block in cell k of a 4x3 grid."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        r, c = 1 + 9 * (int(k) // 4), 1 + 7 * (int(k) % 4)
        images[i, r : r + 8, c : c + 5] = rng.integers(180, 256, (8, 5))
    return images, labels


def write_mnist(root, n_train, n_test, gz=True):
    root.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = synthetic_mnist(n, seed)
        mnist_idx.write_idx(root / f"{split}-images-idx3-ubyte{ext}", images)
        mnist_idx.write_idx(root / f"{split}-labels-idx1-ubyte{ext}", labels)
    return root


def _header(magic_type, dims):
    return bytes([0, 0, magic_type, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip(tmp_path, gz):
    images, labels = synthetic_mnist(7)
    ext = ".gz" if gz else ""
    mnist_idx.write_idx(tmp_path / f"i{ext}", images)
    mnist_idx.write_idx(tmp_path / f"l{ext}", labels)
    if gz:
        assert (tmp_path / "i.gz").read_bytes()[:2] == b"\x1f\x8b"
    got = mnist_idx.read_images(tmp_path / f"i{ext}")
    assert got.dtype == np.uint8 and got.shape == (7, 28, 28)
    np.testing.assert_array_equal(got, images)
    got.flags.writeable = True  # an owned copy, not a view of the file's bytes
    np.testing.assert_array_equal(mnist_idx.read_labels(tmp_path / f"l{ext}"), labels)


def test_load_split_and_layouts(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", 20, 10, gz=False)
    assert mnist_idx.missing_files(tmp_path) == []
    x, y = mnist_idx.load_split(tmp_path, "test")
    assert x.shape == (10, 28, 28) and y.dtype == np.int64 and y.shape == (10,)
    assert mnist_idx.missing_files(tmp_path / "nothing") == [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]


def test_other_element_types():
    data = _header(0x0D, (2, 3)) + np.arange(6, dtype=">f4").tobytes()
    arr = mnist_idx.parse_idx(data)
    assert arr.dtype == np.float32 and arr.shape == (2, 3)
    np.testing.assert_array_equal(arr, np.arange(6).reshape(2, 3))


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"PK\x03\x04" + bytes(100), "bad magic"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown IDX element type"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (bytes([0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0]), "truncated header"),
        (_header(0x08, (2, 28, 28)) + bytes(2 * 784 - 1), "truncated"),
        (_header(0x08, (2, 28, 28)) + bytes(2 * 784 + 5), "trailing bytes"),
        # a corrupted size claiming ~4 billion images: an error, never a 3 TB allocation
        (_header(0x08, (0xFFFFFFFF, 28, 28)) + bytes(784), "truncated"),
        (_header(0x08, (0xFFFFFFFF,) * 255), "truncated"),
    ],
)
def test_corrupted_payloads(data, match):
    with pytest.raises(IDXError, match=match):
        mnist_idx.parse_idx(data)


def test_wrong_kind_and_labels(tmp_path):
    images, labels = synthetic_mnist(3)
    mnist_idx.write_idx(tmp_path / "i", images)
    mnist_idx.write_idx(tmp_path / "l", labels)
    with pytest.raises(IDXError, match="expected 2049"):
        mnist_idx.read_labels(tmp_path / "i")
    with pytest.raises(IDXError, match="expected 2051"):
        mnist_idx.read_images(tmp_path / "l")
    mnist_idx.write_idx(tmp_path / "bad", np.array([1, 12], np.uint8))
    with pytest.raises(IDXError, match="out of range"):
        mnist_idx.read_labels(tmp_path / "bad")


def test_corrupted_gzip(tmp_path):
    images, _ = synthetic_mnist(50)
    mnist_idx.write_idx(tmp_path / "i.gz", images)
    raw = (tmp_path / "i.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IDXError, match="corrupted or truncated"):
        mnist_idx.read_images(tmp_path / "cut.gz")
    bad = bytearray(raw)
    bad[len(bad) // 2] ^= 0xFF
    (tmp_path / "flip.gz").write_bytes(bytes(bad))
    with pytest.raises(IDXError):
        mnist_idx.read_images(tmp_path / "flip.gz")
    # a valid gzip stream whose content is a truncated IDX file
    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write(_header(0x08, (50, 28, 28)) + bytes(100))
    with pytest.raises(IDXError, match="truncated"):
        mnist_idx.read_images(tmp_path / "short.gz")


def test_image_label_count_mismatch(tmp_path):
    write_mnist(tmp_path, 10, 10, gz=False)
    mnist_idx.write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(9, np.uint8))
    with pytest.raises(IDXError, match="10 images but 9 labels"):
        mnist_idx.load_split(tmp_path, "test")


def test_checksums(tmp_path, monkeypatch):
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    f.write_bytes(b"some bytes")
    good = hashlib.sha256(b"some bytes").hexdigest()
    assert mnist_idx.sha256_of(f) == good
    mnist_idx.verify(f, good)
    mnist_idx.verify(f, good.upper())
    with pytest.raises(IDXError, match="SHA-256 mismatch"):
        mnist_idx.verify(f, "0" * 64)
    # the published digests are well-formed
    for digest, size in mnist_idx.FILES.values():
        assert len(digest) == 64 and int(digest, 16) >= 0 and size > 0
    assert all(u.endswith("/") for u in mnist_idx.MIRRORS)

    # download(): an existing file is verified, not fetched; a fetched file that fails the
    # checksum is discarded and the next mirror is tried; nothing invalid is left behind.
    served = {"m1/": b"tampered", "m2/": b"some bytes"}
    fetched = []

    class _Resp:
        def __init__(self, data):
            self.data = data

        def read(self, n=-1):
            data, self.data = self.data, b""
            return data

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def fake_urlopen(url, timeout=None):
        fetched.append(url)
        base = url.split("x.gz")[0]
        return _Resp(served[base])

    monkeypatch.setattr(mnist_idx.urllib.request, "urlopen", fake_urlopen)
    files = {"x.gz": (good, 10)}
    mnist_idx.download(tmp_path / "dl", mirrors=("m1/", "m2/"), files=files)
    assert fetched == ["m1/x.gz", "m2/x.gz"]
    assert (tmp_path / "dl" / "x.gz").read_bytes() == b"some bytes"
    assert not list((tmp_path / "dl").glob("*.part"))
    fetched.clear()
    mnist_idx.download(tmp_path / "dl", mirrors=("m1/", "m2/"), files=files)
    assert fetched == []
    with pytest.raises(OSError, match="SHA-256 mismatch"):
        mnist_idx.download(tmp_path / "dl2", mirrors=("m1/",), files=files)
    assert not (tmp_path / "dl2" / "x.gz").exists()
    assert not list((tmp_path / "dl2").glob("*.part"))
    (tmp_path / "dl" / "x.gz").write_bytes(b"changed")
    with pytest.raises(IDXError, match="SHA-256 mismatch"):
        mnist_idx.download(tmp_path / "dl", mirrors=("m1/",), files=files)


def _run_demo(args, env_extra, timeout=60):
    env = {
        k: v for k, v in os.environ.items() if k not in ("CLOUD_MNIST_OK", "RUSTORCH_MNIST_ROOT")
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, str(DEMO), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_demo_trains_on_synthetic_data(tmp_path):
    root = write_mnist(tmp_path / "mnist", 600, 200)
    r = _run_demo(
        ["--epochs", "1", "--limit", "512", "--threads", "1", "--plot", str(tmp_path / "l.png")],
        {"RUSTORCH_MNIST_ROOT": str(root)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "512 train / 200 test images" in r.stdout
    line = next(s for s in r.stdout.splitlines() if s.startswith("epoch 1:"))
    acc = float(line.split("test accuracy ")[1].split("%")[0])
    assert acc > 50, r.stdout  # 10 trivially separable classes
    assert "8/8" in r.stderr  # the progress bar reached the end of the epoch
    try:
        import matplotlib  # noqa: F401

        assert (tmp_path / "l.png").stat().st_size > 0
    except ImportError:
        assert "matplotlib is not installed" in r.stdout


def test_demo_missing_files_explains(tmp_path):
    r = _run_demo(["--data-root", str(tmp_path / "empty")], {})
    assert r.returncode != 0
    msg = r.stderr
    assert "MNIST files not found" in msg and "t10k-labels-idx1-ubyte" in msg
    assert "RUSTORCH_MNIST_ROOT" in msg and "CLOUD_MNIST_OK=1" in msg
    assert not (tmp_path / "empty").exists()  # nothing downloaded or created


def test_demo_reports_corrupted_file(tmp_path):
    root = write_mnist(tmp_path / "mnist", 20, 10, gz=False)
    (root / "t10k-images-idx3-ubyte").write_bytes(_header(0x08, (10, 28, 28)) + bytes(50))
    r = _run_demo(["--data-root", str(root), "--epochs", "1"], {})
    assert r.returncode != 0
    assert "error:" in r.stderr and "truncated" in r.stderr


def test_download_from_file_mirror(tmp_path):
    """The real urllib path, on file:// URLs: the first mirror is missing, the second serves
    the files, each one checked against its SHA-256 before it is kept."""
    src = write_mnist(tmp_path / "mirror", 30, 10)
    files = {f.name: (mnist_idx.sha256_of(f), f.stat().st_size) for f in src.iterdir()}
    mirrors = ((tmp_path / "none").as_uri() + "/", src.as_uri() + "/")
    mnist_idx.download(tmp_path / "dl", mirrors=mirrors, files=files)
    assert mnist_idx.missing_files(tmp_path / "dl") == []
    x, y = mnist_idx.load_split(tmp_path / "dl", "train")
    assert x.shape == (30, 28, 28) and y.shape == (30,)
    bad = {name: ("f" * 64, size) for name, (_, size) in files.items()}
    with pytest.raises(OSError, match="SHA-256 mismatch"):
        mnist_idx.download(tmp_path / "dl2", mirrors=mirrors[1:], files=bad)
    assert list((tmp_path / "dl2").iterdir()) == []

"""Read MNIST's IDX files (gzipped or not) and fetch them with SHA-256 verification.

The IDX format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number ``0x00 0x00 TT ND``
(TT the element type, ND the number of dimensions), ND big-endian uint32 sizes, then the data
in row-major order. MNIST uses type 0x08 (unsigned byte): images are ``(N, 28, 28)`` (magic
2051), labels ``(N,)`` (magic 2049).

The reader checks the magic number, the dimensions and that the payload holds exactly the
declared number of elements; it never allocates more than the file actually contains (a
corrupted header claiming billions of images fails with an error, not a huge allocation).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np

#: The standard files, their SHA-256 digests and sizes (the .gz archives everyone mirrors).
FILES = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        9_912_422,
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        28_881,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        1_648_877,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        4_542,
    ),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}  # fmt: skip

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """An IDX file is malformed, truncated or not the kind expected."""


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise IDXError(
            f"{path}: cannot decompress ({e}); the file is corrupted or truncated"
        ) from e


def parse_idx(data: bytes, name: str = "<bytes>", magic: int | None = None) -> np.ndarray:
    """Decode one IDX payload into a numpy array (a copy: the result owns its memory)."""
    if len(data) < 4:
        raise IDXError(f"{name}: {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise IDXError(f"{name}: bad magic number {data[:4].hex()} (not an IDX file)")
    code, ndim = data[2], data[3]
    if code not in _DTYPES:
        raise IDXError(f"{name}: unknown IDX element type 0x{code:02x}")
    got = int.from_bytes(data[:4], "big")
    if magic is not None and got != magic:
        raise IDXError(f"{name}: magic number {got}, expected {magic}")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            f"{name}: truncated header ({len(data)} bytes, {ndim} dimensions need {header})"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[code])
    count = 1
    for d in dims:
        count *= d  # Python ints: no overflow, compared with the payload before any allocation
    need = count * dtype.itemsize
    have = len(data) - header
    if have < need:
        raise IDXError(
            f"{name}: truncated: dimensions {dims} need {need} bytes of data, the file has {have}"
        )
    if have > need:
        raise IDXError(f"{name}: {have - need} unexpected trailing bytes after {dims} elements")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path, magic: int | None = None) -> np.ndarray:
    """Read a (possibly gzipped) IDX file; ``magic`` checks the kind (IMAGES_MAGIC, ...)."""
    return parse_idx(_read_bytes(Path(path)), str(path), magic)


def read_images(path) -> np.ndarray:
    arr = read_idx(path, IMAGES_MAGIC)
    if arr.ndim != 3 or arr.dtype != np.uint8:
        raise IDXError(f"{path}: expected (N, rows, cols) uint8 images, got {arr.shape}")
    return arr


def read_labels(path) -> np.ndarray:
    arr = read_idx(path, LABELS_MAGIC)
    if arr.ndim != 1 or arr.dtype != np.uint8:
        raise IDXError(f"{path}: expected (N,) uint8 labels, got {arr.shape}")
    if arr.size and int(arr.max()) > 9:
        raise IDXError(f"{path}: label {int(arr.max())} out of range 0..9")
    return arr


def find_file(root, stem: str) -> Path | None:
    """``root/stem`` or ``root/stem.gz`` (also torchvision's ``MNIST/raw`` layout)."""
    root = Path(root)
    for d in (root, root / "MNIST" / "raw", root / "raw"):
        for name in (stem, stem + ".gz"):
            if (d / name).is_file():
                return d / name
    return None


def missing_files(root) -> list[str]:
    return [s for pair in SPLITS.values() for s in pair if find_file(root, s) is None]


def load_split(root, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels int64 (N,)) of "train" or "test"."""
    img_stem, lab_stem = SPLITS[split]
    paths = [find_file(root, s) for s in (img_stem, lab_stem)]
    if None in paths:
        raise FileNotFoundError(f"MNIST {split} files not found under {root}")
    images, labels = read_images(paths[0]), read_labels(paths[1])
    if len(images) != len(labels):
        raise IDXError(f"{split}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, expected_sha256: str) -> None:
    """Raise IDXError when the file's SHA-256 is not the expected one."""
    got = sha256_of(path)
    if got != expected_sha256.lower():
        raise IDXError(
            f"{path}: SHA-256 mismatch (got {got}, expected {expected_sha256}); "
            "delete the file and download it again"
        )


def download(root, mirrors=MIRRORS, files=None, timeout: float = 60.0) -> None:
    """Fetch every missing standard file into root, verifying each one's SHA-256.

    A file is written to a temporary name and renamed only once its digest matches, so an
    interrupted or tampered download never leaves a file that looks valid."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, (digest, _size) in (files or FILES).items():
        dest = root / name
        if dest.is_file():
            verify(dest, digest)
            continue
        errors = []
        for base in mirrors:
            tmp = dest.with_name(dest.name + ".part")
            try:
                with (
                    urllib.request.urlopen(base + name, timeout=timeout) as r,
                    open(tmp, "wb") as f,
                ):
                    shutil.copyfileobj(r, f)
                verify(tmp, digest)
                os.replace(tmp, dest)
                break
            except (OSError, IDXError) as e:  # URLError is an OSError
                errors.append(f"{base}{name}: {e}")
                tmp.unlink(missing_ok=True)
        else:
            raise OSError("could not download MNIST:\n  " + "\n  ".join(errors))


def write_idx(path, arr: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz); for tests."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    data = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    data += arr.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(data)

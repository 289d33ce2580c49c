"""Train a small CNN on MNIST with rustorch.nn and rustorch.optim.

    python examples/mnist_rustorch_demo.py [--epochs 2] [--batch-size 64] [--lr 1e-3]
        [--threads N] [--seed 0] [--limit N] [--data-root DIR] [--plot loss.png]

The standard IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each gzipped or not) are read from
--data-root, else $RUSTORCH_MNIST_ROOT, else ~/.cache/rustorch/mnist. They are downloaded (and
their SHA-256 checked) only when CLOUD_MNIST_OK=1 is set; otherwise a missing file stops the
script with instructions. ``--backend torch`` trains the same model with torch (if installed)
for a time comparison.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mnist_idx  # noqa: E402

DEFAULT_ROOT = "~/.cache/rustorch/mnist"
MEAN, STD = 0.1307, 0.3081


def make_model(nn):
    """Two conv-bn-relu-pool blocks and a linear classifier (~20k parameters); ``nn`` is
    rustorch.nn or torch.nn, so the same model runs in both."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 7 * 7, 10),
    )


class _PlainBar:
    """A minimal stand-in for tqdm: a text bar redrawn about 40 times per epoch."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n, self.post = total, desc, 0, ""
        self._next, self._t0 = 0, time.perf_counter()
        self._tty = sys.stderr.isatty()

    def update(self, k=1):
        self.n += k
        if self.n >= self._next or self.n == self.total:
            self._next = self.n + max(1, self.total // 40)
            self._draw()

    def set_postfix_str(self, s):
        self.post = s

    def _draw(self):
        frac = self.n / max(self.total, 1)
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        dt = time.perf_counter() - self._t0
        line = f"{self.desc} [{bar}] {self.n}/{self.total} {dt:5.1f}s {self.post}"
        if self._tty:
            sys.stderr.write("\r" + line)
        elif self.n == self.total:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self):
        if self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def progress(total, desc):
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total, desc)
    return tqdm(total=total, desc=desc, unit="batch", leave=True)


def missing_message(root, missing):
    names = "\n".join(f"    {m}[.gz]" for m in missing)
    return (
        f"MNIST files not found in {root}:\n{names}\n"
        "Provide them in one of these ways:\n"
        f"  * copy the four standard IDX files (gzipped or not) into {root};\n"
        "  * point RUSTORCH_MNIST_ROOT (or --data-root) at a folder holding them;\n"
        "  * set CLOUD_MNIST_OK=1 to let this script download them from "
        f"{mnist_idx.MIRRORS[0]}\n"
        "    (each file's SHA-256 is checked against the published digest)."
    )


def load_data(root: Path):
    missing = mnist_idx.missing_files(root)
    if missing:
        if os.environ.get("CLOUD_MNIST_OK") != "1":
            raise SystemExit(missing_message(root, missing))
        print(f"downloading MNIST into {root} ...", file=sys.stderr)
        wanted = {k: v for k, v in mnist_idx.FILES.items() if k.removesuffix(".gz") in missing}
        mnist_idx.download(root, files=wanted)
    return mnist_idx.load_split(root, "train"), mnist_idx.load_split(root, "test")


def normalise(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float32)[:, None] * np.float32(1 / 255)
    x -= np.float32(MEAN)
    x *= np.float32(1 / STD)
    return x


def evaluate(lib, model, x, y, batch=1000):
    model.eval()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(x), batch):
            out = model(lib.from_numpy(x[i : i + batch]))
            correct += int((out.argmax(dim=1) == lib.from_numpy(y[i : i + batch])).sum().item())
    model.train()
    return correct


def save_plot(path, losses, steps_per_epoch):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"--plot {path}: matplotlib is not installed (pip install matplotlib); no plot")
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.arange(1, len(losses) + 1) / max(steps_per_epoch, 1)
    ax.plot(steps, losses, lw=0.6, alpha=0.5, label="batch loss")
    k = max(1, steps_per_epoch // 20)
    if len(losses) >= k:
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], smooth, lw=1.5, label=f"mean of {k}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"loss curve written to {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use only the first N train images")
    p.add_argument("--data-root", default=None, help=f"IDX folder (default {DEFAULT_ROOT})")
    p.add_argument("--plot", default=None, help="write the loss curve to this PNG")
    p.add_argument("--backend", choices=("rustorch", "torch"), default="rustorch")
    args = p.parse_args(argv)

    root = Path(args.data_root or os.environ.get("RUSTORCH_MNIST_ROOT") or DEFAULT_ROOT)
    root = root.expanduser()
    try:
        (xtr, ytr), (xte, yte) = load_data(root)
    except (mnist_idx.IDXError, OSError) as e:
        raise SystemExit(f"error: {e}") from None
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    xtr, xte = normalise(xtr), normalise(xte)

    if args.backend == "torch":
        import torch as lib
    else:
        import rustorch as lib
    if args.threads:
        lib.set_num_threads(args.threads)
    lib.manual_seed(args.seed)
    F = lib.nn.functional
    model = make_model(lib.nn)
    opt = lib.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    n, bs = len(xtr), args.batch_size
    steps_per_epoch = (n + bs - 1) // bs
    print(
        f"{args.backend}: {n} train / {len(xte)} test images from {root}, batch {bs}, "
        f"Adam lr {args.lr}, {lib.get_num_threads()} threads"
    )
    losses = []
    for epoch in range(1, args.epochs + 1):
        perm = rng.permutation(n)
        bar = progress(steps_per_epoch, f"epoch {epoch}/{args.epochs}")
        t0 = time.perf_counter()
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            xb, yb = lib.from_numpy(xtr[idx]), lib.from_numpy(ytr[idx])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            bar.update(1)
            if len(losses) % 20 == 0:
                bar.set_postfix_str(f"loss {np.mean(losses[-20:]):.4f}")
        bar.close()
        train_s = time.perf_counter() - t0
        correct = evaluate(lib, model, xte, yte)
        print(
            f"epoch {epoch}: train loss {np.mean(losses[-steps_per_epoch:]):.4f}, "
            f"test accuracy {100 * correct / len(xte):.2f}% ({correct}/{len(xte)}), "
            f"{train_s:.1f} s/epoch ({n / train_s:.0f} images/s)",
            flush=True,
        )
    if args.plot:
        save_plot(args.plot, losses, steps_per_epoch)
    return 0


if __name__ == "__main__":
    sys.exit(main())

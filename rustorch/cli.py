"""rustorch-demo: a two-layer MLP built by hand from tensors and ops, trained on synthetic data.

The task: classify 2-D points into 3 interleaved spiral arms (not linearly separable), so the
hidden layer has to earn its keep. No nn.Module: parameters are plain tensors with
requires_grad, the loss is written out from ops, and SGD updates run under no_grad.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import rustorch as rt


def make_spirals(n_per_class: int, classes: int = 3, noise: float = 0.15):
    """Points on `classes` spiral arms with label = arm index (int64)."""
    n = n_per_class * classes
    r = rt.rand(n)  # radius in [0, 1)
    labels = rt.arange(n) % classes
    theta = r * 4.0 + labels.float() * (2 * math.pi / classes) + rt.randn(n) * noise
    x = rt.stack([r * theta.cos(), r * theta.sin()], dim=1)
    return x, labels


def cross_entropy(logits, labels, classes):
    m = logits.amax(dim=1, keepdim=True).detach()
    z = logits - m
    logp = z - z.exp().sum(dim=1, keepdim=True).log()
    onehot = (labels.unsqueeze(1) == rt.arange(classes)).float()
    return -(logp * onehot).sum(dim=1).mean()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="rustorch-demo", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000, help="SGD steps (default 1000)")
    p.add_argument("--hidden", type=int, default=64, help="hidden units (default 64)")
    p.add_argument("--batch", type=int, default=128, help="minibatch size (default 128)")
    p.add_argument("--lr", type=float, default=1.0, help="learning rate (default 1.0)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=None, help="kernel threads")
    p.add_argument("--every", type=int, default=50, help="print the loss every N steps")
    args = p.parse_args(argv)
    if args.steps < 1 or args.hidden < 1 or args.batch < 1:
        p.error("--steps, --hidden and --batch must be positive")
    if args.threads is not None:
        rt.set_num_threads(args.threads)
    rt.manual_seed(args.seed)
    classes = 3
    x_train, y_train = make_spirals(1000, classes)
    x_test, y_test = make_spirals(300, classes)

    # Kaiming-uniform-ish init, like nn.Linear's default
    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return (rt.rand(*shape) * (2 * bound) - bound).requires_grad_()

    w1, b1 = uniform((2, args.hidden), 2), uniform((args.hidden,), 2)
    w2, b2 = uniform((args.hidden, classes), args.hidden), uniform((classes,), args.hidden)
    params = [w1, b1, w2, b2]

    def forward(x):
        return (x @ w1 + b1).tanh() @ w2 + b2

    print(
        f"rustorch {rt.__version__}: 2-{args.hidden}-{classes} MLP on 3 spirals, "
        f"{x_train.shape[0]} train / {x_test.shape[0]} test points, "
        f"{rt.get_num_threads()} thread(s)"
    )
    n = x_train.shape[0]
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = rt.randint(0, n, (args.batch,))
        loss = cross_entropy(forward(x_train[idx]), y_train[idx], classes)
        for q in params:
            q.grad = None
        loss.backward()
        with rt.no_grad():
            for q in params:
                q -= args.lr * q.grad
        if step % args.every == 0 or step == 1 or step == args.steps:
            print(f"step {step:5d}  loss {loss.item():.4f}")
    dt = time.perf_counter() - t0
    with rt.no_grad():
        pred = forward(x_test).argmax(dim=1)
        acc = (pred == y_test).float().mean().item()
        train_acc = (forward(x_train).argmax(dim=1) == y_train).float().mean().item()
    print(f"trained {args.steps} steps in {dt:.2f} s ({args.steps / dt:.0f} steps/s)")
    print(f"train accuracy {train_acc * 100:.1f}%  test accuracy {acc * 100:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())

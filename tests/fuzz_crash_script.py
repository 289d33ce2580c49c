"""Crash fuzzer body, run in a subprocess by tests/test_fuzz_crash.py.

usage: python fuzz_crash_script.py SEED N_CALLS

Makes N_CALLS random calls (valid and invalid) into the public API: every call must either
return or raise one of the allowed exceptions; anything else is printed and exits 3. A crash
(segfault, abort) kills the process by a signal, which the test reports. Prints
``fuzz-done <calls> <ok> <err>`` at the end.
"""

import random
import sys
import warnings

import numpy as np

import rustorch as rt
import rustorch.nn.functional as F

warnings.simplefilter("ignore")
OK = (rt.TorchError, TypeError, ValueError, IndexError, ZeroDivisionError)
rng = random.Random(int(sys.argv[1]))
npr = np.random.default_rng(int(sys.argv[1]))
DTYPES = [rt.float32, rt.float32, rt.int64, rt.bool]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e38, -3e38, 1e-45, 1e-40]


def rshape(max_dims=6):
    nd = rng.choice([0, 1, 1, 2, 2, 3, 4, 5, 6][: max_dims + 1])
    return tuple(rng.choice([0, 1, 1, 2, 2, 3, 4]) for _ in range(nd))


def rtensor(shape=None, dtype=None):
    shape = rshape() if shape is None else shape
    dt = dtype or rng.choice(DTYPES)
    a = npr.standard_normal(shape) * 3
    if a.size and rng.random() < 0.3:
        flat = a.reshape(-1)
        for _ in range(rng.randint(1, 3)):
            flat[rng.randrange(flat.size)] = rng.choice(SPECIALS)
    if dt is rt.float32:
        t = rt.tensor(a.astype(np.float32))
        if rng.random() < 0.4:
            t.requires_grad_()
        return t
    if dt is rt.int64:
        return rt.tensor(np.nan_to_num(a).clip(-5, 5).astype(np.int64))
    return rt.tensor(a > 0)


def rscalar():
    return rng.choice([0, 1, -2, 2.5, -0.0, True, False, 2**70, float("nan"), 1e300, -1])


def rdim(t):
    n = max(t.ndim, 1)
    return rng.randint(-n - 1, n)


def _t(x):
    if not isinstance(x, rt.Tensor):
        raise TypeError("not a tensor")
    return x


def rint(lo=-2, hi=5):
    return rng.randint(lo, hi)


def rpair():
    r = rng.random()
    if r < 0.5:
        return rint(0, 3)
    if r < 0.8:
        return (rint(0, 3), rint(0, 3))
    return rng.choice([(1,), (1, 2, 3), -1, 2.5, "x", None])


def rindex(t):
    items = []
    for _ in range(rng.randint(0, max(t.ndim, 1) + 1)):
        k = rng.random()
        if k < 0.3:
            items.append(rng.randint(-5, 5))
        elif k < 0.55:
            items.append(
                slice(
                    rng.choice([None, -2, 0, 1, 5, -99]),
                    rng.choice([None, -1, 2, 9, 2**40]),
                    rng.choice([None, 1, 2, 3, -1, 0]),
                )
            )
        elif k < 0.65:
            items.append(None)
        elif k < 0.72:
            items.append(Ellipsis)
        elif k < 0.85:
            n = rng.randint(0, 3)
            items.append(rt.tensor([rng.randint(-5, 5) for _ in range(n)], dtype=rt.int64))
        else:
            items.append(rt.tensor(npr.random(rshape(3)) > 0.5))
    return tuple(items) if len(items) != 1 or rng.random() < 0.5 else items[0]


BIN = [
    rt.add, rt.sub, rt.mul, rt.div, rt.pow, rt.maximum, rt.minimum, rt.remainder,
    rt.floor_divide, rt.eq, rt.ne, rt.lt, rt.le, rt.gt, rt.ge, rt.logical_and, rt.logical_or,
    rt.matmul, rt.mm, rt.bmm, rt.dot, rt.mv, rt.rsub,
    lambda a, b: rt.where(a > 0 if isinstance(a, rt.Tensor) else a, a, b),
    lambda a, b: rt.where(rtensor(dtype=rt.bool), a, b),
    lambda a, b: F.mse_loss(a, b), lambda a, b: F.l1_loss(a, b, reduction="sum"),
    lambda a, b: F.binary_cross_entropy_with_logits(a, b),
    lambda a, b: F.nll_loss(a, b), lambda a, b: F.cross_entropy(a, b),
    lambda a, b: F.cross_entropy(a, b, label_smoothing=rng.random(), ignore_index=rint()),
    lambda a, b: F.linear(a, b), lambda a, b: _t(a).copy_(b), lambda a, b: _t(a).add_(b),
]  # fmt: skip
UN = [
    rt.neg, rt.exp, rt.log, rt.sqrt, rt.abs, rt.sin, rt.cos, rt.tanh, rt.sigmoid, rt.relu,
    rt.sign, rt.square, rt.reciprocal, rt.rsqrt, rt.logical_not,
    lambda x: rt.clamp(x, rscalar(), rscalar()), lambda x: rt.clamp(x, min=rscalar()),
    lambda x: x.float(), lambda x: x.long(), lambda x: x.bool(), lambda x: x.clone(),
    lambda x: ~x, lambda x: x.item(), lambda x: x.tolist(), lambda x: repr(x),
    lambda x: rt.tensor(x), lambda x: x.numpy(), lambda x: x.detach(), lambda x: x ** rscalar(),
    lambda x: F.softmax(x, rdim(x)), lambda x: F.log_softmax(x, rdim(x)),
    lambda x: F.gelu(x), lambda x: F.silu(x), lambda x: F.leaky_relu(x, rscalar()),
    lambda x: F.dropout(x, rng.choice([0.0, 0.5, 1.0, 1.5, -0.1]), training=True),
    lambda x: rt.all(x), lambda x: rt.any(x, rdim(x)), lambda x: x.index_select(rdim(x), rtensor(
        (rint(0, 3),), rt.int64)),
    lambda x: rt.zeros_like(x), lambda x: rt.full_like(x, rscalar()), lambda x: x.fill_(rscalar()),
]  # fmt: skip
RED = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin"]


def conv_call(a):
    N, C, H, W = (rint(0, 3), rint(0, 4), rint(0, 7), rint(0, 7))
    G = rng.choice([1, 1, 2, 3, 0])
    OC = rng.choice([1, 2, 4, 0, 3])
    kh, kw = rint(0, 4), rint(0, 4)
    x = rtensor(rng.choice([(N, C, H, W), (C, H, W), (H, W), a.shape]), rt.float32)
    w = rtensor(rng.choice([(OC, C // max(G, 1), kh, kw), (OC, C, kh, kw), (kh, kw)]), rt.float32)
    b = rng.choice([None, rtensor((OC,), rt.float32), rtensor((OC + 1,), rt.float32)])
    pad = rng.choice([0, 1, 2, -1, (1, 0), "same", "valid", "bad"])
    return F.conv2d(x, w, b, stride=rpair(), padding=pad, dilation=rpair(), groups=G)


def pool_call(a):
    shape = rng.choice([(rint(0, 2), rint(0, 3), rint(0, 8), rint(0, 8)), (2, 5, 5), a.shape])
    x = rtensor(shape, rt.float32 if rng.random() < 0.8 else None)
    r = rng.random()
    k, s, p = rpair(), rng.choice([None, rpair()]), rng.choice([0, 0, 1, 2, -1, (1, 0)])
    if r < 0.4:
        return F.max_pool2d(
            x, k, s, p, dilation=rpair(), ceil_mode=rng.random() < 0.5, return_indices=r < 0.2
        )
    if r < 0.8:
        return F.avg_pool2d(
            x, k, s, p, ceil_mode=rng.random() < 0.5, count_include_pad=rng.random() < 0.5
        )
    return F.adaptive_avg_pool2d(x, rng.choice([rpair(), (None, 2), (2, None)]))


def norm_call(a):
    C = rint(0, 4)
    shape = rng.choice([(rint(0, 3), C), (rint(0, 3), C, rint(0, 3), rint(0, 3)), a.shape])
    x = rtensor(shape, rt.float32 if rng.random() < 0.8 else None)
    vec = lambda: rng.choice([None, rtensor((C,), rt.float32), rtensor((C + 1,), rt.float32)])  # noqa: E731
    rm, rv = vec(), vec()
    if rv is not None:
        rv = rv.detach().abs()
    return F.batch_norm(x, rm, rv, vec(), vec(), training=rng.random() < 0.6)


def class_loss_call(a):
    N, C = rint(0, 4), rint(0, 5)
    extra = tuple(rint(0, 3) for _ in range(rint(0, 2)))
    x = rtensor(rng.choice([(N, C) + extra, (C,), a.shape]), rt.float32)
    t = rng.choice(
        [
            rtensor((N,) + extra, rt.int64).clamp(0, max(C - 1, 0)) if N else rtensor((0,)),
            rt.randint(-1, C + 2, (N,) + extra) if C + 2 > -1 else rtensor(),
            rtensor((N, C) + extra, rt.float32),
            rtensor(),
            rt.tensor(rng.randint(-2, 5)),
        ]
    )
    w = rng.choice([None, rtensor((C,), rt.float32), rtensor((C + 1,))])
    fn = rng.choice([F.cross_entropy, F.nll_loss])
    kw = dict(weight=w, reduction=rng.choice(["mean", "sum", "none", "bogus"]))
    kw["ignore_index"] = rng.choice([-100, 0, 1, -1])
    if fn is F.cross_entropy and rng.random() < 0.3:
        kw["label_smoothing"] = rng.choice([0.0, 0.1, 1.0, -0.5, 2.0])
    return fn(x, t, **kw)


def shape_call(a):
    r = rng.random()
    if r < 0.15:
        shape = [rng.choice([-1, 0, 1, 2, 3, 6, -2]) for _ in range(rng.randint(0, 4))]
        return a.reshape(*shape) if rng.random() < 0.5 else a.view(shape)
    if r < 0.25:
        return a.flatten(rdim(a), rdim(a))
    if r < 0.35:
        return a.unsqueeze(rdim(a)).squeeze(rdim(a))
    if r < 0.45:
        return a.transpose(rdim(a), rdim(a))
    if r < 0.5:
        dims = list(range(a.ndim))
        rng.shuffle(dims)
        if rng.random() < 0.3:
            dims.append(0)
        return a.permute(*dims)
    if r < 0.6:
        return a.expand(*[rng.choice([-1, 1, 2, 3, 0]) for _ in range(rng.randint(0, 7))])
    if r < 0.7:
        return rt.cat([a] + [rtensor() for _ in range(rint(0, 2))], rdim(a))
    if r < 0.78:
        return rt.stack([a] + [rtensor() for _ in range(rint(0, 2))], rdim(a))
    if r < 0.86:
        return a.split(rng.choice([1, 2, [1, 1], [0, 2], 0, -1]), rdim(a))[0]
    if r < 0.93:
        return a.chunk(rng.randint(-1, 3), rdim(a))[-1]
    if r < 0.96:
        return a.t()
    return a.broadcast_to(rshape())


def step():
    k = rng.random()
    a = rtensor()
    if k < 0.22:
        b = rtensor() if rng.random() < 0.7 else rscalar()
        if rng.random() < 0.3 and isinstance(b, rt.Tensor) and a.ndim:
            b = rtensor(a.shape[rng.randint(0, a.ndim - 1) :], rng.choice(DTYPES))
        op = rng.choice(BIN)
        out = op(a, b) if rng.random() < 0.5 else op(b, a)
    elif k < 0.34:
        out = rng.choice(UN)(a)
    elif k < 0.46:
        name = rng.choice(RED)
        r = rng.random()
        if r < 0.3:
            out = getattr(a, name)()
        elif r < 0.8:
            out = getattr(a, name)(rdim(a), keepdim=rng.random() < 0.5)
        else:
            out = getattr(rt, name)(a, tuple(rdim(a) for _ in range(rng.randint(0, 3))))
        if isinstance(out, tuple):
            out = out[0]
    elif k < 0.58:
        out = shape_call(a)
    elif k < 0.66:
        out = a[rindex(a)]
    elif k < 0.71:
        with rt.no_grad():
            a[rindex(a)] = rscalar() if rng.random() < 0.5 else rtensor()
        out = a
    elif k < 0.79:
        out = conv_call(a)
    elif k < 0.86:
        out = pool_call(a)
    elif k < 0.91:
        out = norm_call(a)
    else:
        out = class_loss_call(a)
    if isinstance(out, tuple):
        out = out[0]
    if isinstance(out, rt.Tensor) and out.requires_grad and out.numel():
        out.sum().backward(retain_graph=rng.random() < 0.2)
        if rng.random() < 0.2:
            out.sum().backward()
    return out


def main():
    n = int(sys.argv[2])
    n_ok = n_err = 0
    for _ in range(n):
        try:
            step()
            n_ok += 1
        except OK:
            n_err += 1
        except Exception as e:  # noqa: BLE001  an exception type we do not allow
            import traceback

            traceback.print_exc()
            print("fuzz-bad-exception", type(e).__name__, e, flush=True)
            sys.exit(3)
    print("fuzz-done", n, n_ok, n_err, flush=True)


if __name__ == "__main__":
    main()

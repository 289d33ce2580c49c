"""Numerical gradient check: central differences compared with autograd's gradients."""

import numpy as np

from rustorch.errors import AutogradError


def gradcheck(fn, inputs, eps=1e-3, atol=1e-3, rtol=1e-2, raise_exception=True):
    """Compare autograd's gradient of ``fn(*inputs)`` with central finite differences.

    Inputs are float32 tensors; ``fn`` may return any-shape tensor (its gradients are checked
    through a fixed random projection ``sum(out * w)``). The differences are accumulated in
    float64 from float32 evaluations, so the tolerances suit float32 (defaults: eps=1e-3,
    atol=1e-3, rtol=1e-2). Returns True, or raises AutogradError naming the input and the
    worst element when a gradient disagrees (False with raise_exception=False).
    """
    import rustorch as rt
    from rustorch._tensor import Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise AutogradError("gradcheck(): no input requires grad")
    with rt.no_grad():
        out0 = fn(*inputs)
    rng = np.random.default_rng(0)
    w = rt.tensor(rng.standard_normal(out0.shape).astype(np.float32))

    def scalar():
        with rt.no_grad():
            o = fn(*inputs)
            return float(np.sum(o.detach().numpy().astype(np.float64) * w.numpy()))

    for x in diff:
        x.grad = None
    out = fn(*inputs)
    (out * w).sum().backward()
    for k, x in enumerate(diff):
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy().astype(np.float64)
        numeric = np.zeros(x.shape, dtype=np.float64)
        flat = x.detach().numpy().reshape(-1)
        nflat = numeric.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            fp = scalar()
            flat[i] = orig - eps
            fm = scalar()
            flat[i] = orig
            nflat[i] = (fp - fm) / (2 * eps)
        err = np.abs(analytic - numeric)
        tol = atol + rtol * np.abs(numeric)
        if np.any(err > tol) or not np.all(np.isfinite(analytic) == np.isfinite(numeric)):
            j = int(np.argmax(err - tol))
            msg = (
                f"gradcheck(): Jacobian mismatch for input {k} (shape {tuple(x.shape)}) at flat "
                f"index {j}: analytic {analytic.reshape(-1)[j]:.6g} vs numerical "
                f"{numeric.reshape(-1)[j]:.6g}"
            )
            if raise_exception:
                raise AutogradError(msg)
            return False
    return True

import subprocess
import sys

import numpy as np

import rustorch as rt


def test_tiny_graph():
    a = rt.tensor([[1.0, 2, 3], [4, 5, 6]], requires_grad=True)
    b = rt.tensor([10.0, 20, 30])
    y = (a * b + a).sum()
    y.backward()
    assert y.item() == 481.0
    np.testing.assert_array_equal(a.grad.numpy(), [[11, 21, 31], [11, 21, 31]])


def test_demo_runs_and_learns():
    r = subprocess.run(
        [sys.executable, "-m", "rustorch", "--steps", "600", "--every", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    acc = float(last.split("test accuracy")[1].strip().rstrip("%"))
    assert acc > 85.0, r.stdout

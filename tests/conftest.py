import numpy as np
import pytest

import rustorch as rt


@pytest.fixture(autouse=True)
def _seed():
    rt.manual_seed(0)
    np.random.seed(0)
    yield


def pytest_sessionstart(session):
    from rustorch import _accel

    stale = _accel.check()
    if stale:
        raise pytest.UsageError(
            f"compiled modules older than their source: {stale}; rebuild with "
            "`python setup.py build_ext --inplace` (or pip install -e .)"
        )

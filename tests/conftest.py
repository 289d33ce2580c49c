import numpy as np
import pytest

import rustorch as rt


@pytest.fixture(autouse=True)
def _seed():
    rt.manual_seed(0)
    np.random.seed(0)
    yield

"""`cython -a` on every kernel: lines that run without the GIL must not touch Python.

Cython's annotation gives each source line a score (0 = pure C). Every line inside a
`with nogil:` block or a `noexcept nogil` function must score 0, so the kernels' inner loops
never call into the Python C-API.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

KERNELS = Path(__file__).resolve().parents[1] / "rustorch" / "_kernels"
PYX = sorted(p for p in KERNELS.glob("*.pyx") if "include" not in p.read_text()[:400])


def _nogil_lines(src: str) -> set[int]:
    """1-based line numbers of the bodies of nogil blocks and nogil cdef functions."""
    lines = src.splitlines()
    out: set[int] = set()
    i = 0
    while i < len(lines):
        s = lines[i]
        st = s.strip()
        opener = st.startswith("with nogil") or (
            st.startswith("cdef ") and "nogil" in st and st.endswith(":")
        )
        if not opener:
            # a multi-line cdef signature ending in "noexcept nogil:"
            if st.endswith("nogil:") and not st.startswith("with"):
                opener = True
        if opener:
            indent = len(s) - len(s.lstrip())
            j = i + 1
            while j < len(lines):
                t = lines[j]
                if t.strip() and len(t) - len(t.lstrip()) <= indent:
                    break
                if t.strip() and not t.strip().startswith(("#", '"""')):
                    out.add(j + 1)
                j += 1
            i = j
            continue
        i += 1
    return out


@pytest.mark.parametrize("pyx", PYX, ids=lambda p: p.name)
def test_nogil_lines_are_pure_c(pyx, tmp_path):
    if shutil.which("cython") is None:
        try:
            import Cython  # noqa: F401
        except ImportError:
            pytest.skip("Cython is not installed")
    out_c = tmp_path / (pyx.stem + ".c")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cython",
            "-3",
            "-a",
            "-I",
            str(KERNELS),
            str(pyx),
            "-o",
            str(out_c),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    html = out_c.with_suffix(".html").read_text()
    scores = {
        int(n): int(s)
        for s, n in re.findall(
            r'<pre class="cython line score-(\d+)"[^>]*>.*?<span class="">(\d+)</span>', html
        )
    }
    src = pyx.read_text()
    bad = [
        f"{pyx.name}:{n} (score {scores[n]}): {src.splitlines()[n - 1].strip()}"
        for n in sorted(_nogil_lines(src))
        if scores.get(n, 0) > 0
    ]
    assert not bad, "Python interaction in nogil code:\n" + "\n".join(bad)

"""The README's training example runs as written and learns."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_training_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    code = re.search(r"## Training a model\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert code, "README lost its training example"
    monkeypatch.chdir(tmp_path)
    exec(compile(code.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    acc = float(out.split("accuracy")[1])
    assert acc > 0.95, out
    assert (tmp_path / "digits.rt").stat().st_size > 0

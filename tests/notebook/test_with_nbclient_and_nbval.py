"""%%grad in real kernels: nbclient (how notebooks are executed) and nbval (how the lecture is
checked). nbclient fails a cell whose %%grad line is wrong; nbval does not treat that
UsageError as an error, it only compares the stored stderr (recipes/jupyter-testing.md, §2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.jupyter import jupyter_env, sandboxed

SANITIZE = "[memory_address]\nregex: 0x[0-9a-fA-F]+\nreplace: 0xADDRESS\n"


def _notebook(*cells: str, tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i, t in (tags or {}).items():
        nb.cells[i].metadata["tags"] = t
    return nb


def _execute(nb: nbformat.NotebookNode, tmp_path: Path) -> nbformat.NotebookNode:
    with sandboxed(tmp_path):
        return NotebookClient(nb, timeout=120, kernel_name="python3").execute()


SETUP = "import adlab as ad\n%load_ext adlab"
TALK = "%%grad x=0.5 y=-0.5 --graph --tape --check\nt = x**2\nz = t * y + 1 / (x**2 + y**2 + 1)"


def test_nbclient_fails_a_cell_with_bad_grad_arguments(tmp_path):
    nb = _notebook(SETUP, "%%grad x=1.0 --bogus\nz = x")
    with pytest.raises(CellExecutionError) as err:
        _execute(nb, tmp_path)
    assert "UsageError" in str(err.value) and "--bogus" in str(err.value)


def test_stored_outputs_are_byte_stable_under_nbval(tmp_path):
    nb = _notebook(
        SETUP,
        TALK,
        "%%grad x=2.0 y=3.0 --step\nu = x * y\nz = u + ad.sin(x) * y",
        "ad.draw(ad.trace(lambda x: ad.sin(x) * x, 1.0), adjoints=True)",
        "_grad",
        "%%grad x=1.0 --bogus\nz = x",
        tags={5: ["raises-exception"]},
    )
    nb = _execute(nb, tmp_path)
    out = {i: c.outputs for i, c in enumerate(nb.cells)}
    result = out[1][0]  # the answer first (shown, not returned), then graph and tape
    assert result.output_type == "display_data" and len(out[1]) == 3
    assert "adlab-gradresult" in result.data["text/html"]
    assert result.data["text/plain"].startswith("GradResult(z = 0.541667")
    assert out[4][0].output_type == "execute_result"  # `_grad` in a cell of its own
    stepper = [o for o in out[2] if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert stepper[0].data["text/plain"].startswith("Stepper(mode='reverse', step 1 of 8")
    assert "<svg" in out[3][0].data["text/html"]  # a drawing shows as HTML (fits, no shrinking)
    # a UsageError is a stderr stream for nbval, not an error
    assert [o.output_type for o in out[5]] == ["stream"] and "UsageError" in out[5][0].text

    path = tmp_path / "stored.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "sanitize.cfg").write_text(SANITIZE)
    env = jupyter_env(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "sanitize.cfg", "-c", "/dev/null",
         "--rootdir", str(tmp_path), path.name],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "6 passed" in run.stdout

"""Run Jupyter tools in tests without writing into $HOME (recipes/jupyter-testing.md, §0)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def jupyter_env(tmp: Path) -> dict[str, str]:
    """The environment with every Jupyter/IPython/matplotlib directory under ``tmp``."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "mpl"),
    )


@contextmanager
def sandboxed(tmp: Path) -> Iterator[dict[str, str]]:
    """``os.environ`` switched to :func:`jupyter_env` for the duration (kernels inherit it)."""
    env = jupyter_env(tmp)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

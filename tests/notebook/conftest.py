"""An IPython shell with ``%load_ext adlab``, reset for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    ip.run_line_magic("load_ext", "adlab")
    # a terminal shows only text/plain; a notebook asks for every format
    ip.display_formatter.active_types = list(ip.display_formatter.format_types)
    return ip


@pytest.fixture
def ip(_shell):
    _shell.reset(new_session=False)
    _shell.run_cell("import adlab as ad\nimport numpy as np", store_history=False)
    return _shell

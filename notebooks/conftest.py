"""Notebook kernels started by ``pytest`` (nbval) run with ``ADLAB_FAST=1``, as the stored
outputs were made (``python notebooks/run.py``) and as CI runs them."""

import os

os.environ["ADLAB_FAST"] = "1"

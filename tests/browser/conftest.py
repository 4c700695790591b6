"""Fixtures for real-browser tests: a JupyterLab server on 127.0.0.1 and Debian's Chromium
driven by Playwright (recipes/jupyter-testing.md, section 3).

These tests are not optional in CI: when ``CI`` or ``ADLAB_REQUIRE_BROWSER`` is set, a
missing Chromium, Playwright or npm asset fails them loudly instead of skipping them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.jupyter import jupyter_env

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
TOKEN = "adlab-test-token"
HTML_MANAGER = REPO / "slides" / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
REQUIRE_JS = REPO / "slides" / "node_modules" / "requirejs" / "require.js"


def required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("ADLAB_REQUIRE_BROWSER"))


def need(ok: bool, what: str) -> None:
    """Skip when ``what`` is missing on a developer's machine; fail in CI."""
    if ok:
        return
    if required():
        pytest.fail(f"{what} is missing, and CI/ADLAB_REQUIRE_BROWSER is set: .ci/run installs it")
    pytest.skip(f"{what} is missing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet_lab_settings(settings_dir: Path) -> None:
    """No 'Would you like to get notified about official Jupyter news?' toast."""
    d = settings_dir / "@jupyterlab" / "apputils-extension"
    d.mkdir(parents=True, exist_ok=True)
    (d / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True})
    )


def wait_kernel_connected(base: str, timeout: float = 60) -> None:
    """Lab shows an 'idle' indicator before any kernel exists, and 'Run All' clicked then
    is dropped: wait until the server reports an idle kernel with a connection."""
    deadline = time.monotonic() + timeout
    sessions: list = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}", timeout=5) as r:
            sessions = json.load(r)
        if any(
            s["kernel"]["execution_state"] == "idle" and s["kernel"]["connections"] > 0
            for s in sessions
        ):
            return
        time.sleep(0.2)  # polling the server, not synchronising the page
    raise TimeoutError(f"no connected idle kernel after {timeout} s: {sessions}")


@contextmanager
def jupyter_server(tmp_path: Path, app: str = "lab", *, theme: str | None = None,
                   app_settings: Path | None = None):  # fmt: skip
    """A JupyterLab (``app="lab"``) or Notebook 7 (``"notebook"``) server serving
    ``tmp_path/root``; yields (base url, root, log path). ``theme`` picks a Lab theme
    ("JupyterLab Dark"); ``app_settings`` is the folder of its ``overrides.d``."""
    need(importlib.util.find_spec("jupyterlab") is not None, "jupyterlab (the test extra)")
    if app == "notebook":
        need(importlib.util.find_spec("notebook") is not None, "notebook 7 (the test extra)")
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    settings = tmp_path / "user-settings"
    _quiet_lab_settings(settings)
    if theme:
        d = settings / "@jupyterlab" / "apputils-extension"
        (d / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    port = _free_port()
    module = "jupyterlab" if app == "lab" else "notebook"
    cmd = [
        sys.executable, "-m", module, "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True", f"--LabServerApp.user_settings_dir={settings}",
        f"--LabServerApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]  # fmt: skip
    if app_settings is not None:
        cmd.append(f"--LabServerApp.app_settings_dir={app_settings}")
    if app == "lab":
        cmd += ["--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=jupyter_env(tmp_path)
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter {app} exited rc={proc.returncode}:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter {app} not up after 60 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield base, root, log_path
    finally:  # SIGTERM: the server shuts its kernels down; only our own process
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def lab(tmp_path: Path):
    """A JupyterLab server serving ``tmp_path/root``; yields (base url, root, log path)."""
    with jupyter_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        need(False, "playwright (pip)")
    need(os.path.exists(CHROMIUM), f"Chromium ({CHROMIUM}; apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


@pytest.fixture
def shot(tmp_path: Path, request):
    """Where to save a screenshot: the test's temp dir (and ADLAB_SHOT_DIR when set)."""

    def save(page, name: str) -> Path:
        path = tmp_path / name
        page.screenshot(path=str(path), full_page=True)
        if os.environ.get("ADLAB_SHOT_DIR"):
            Path(os.environ["ADLAB_SHOT_DIR"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(os.environ["ADLAB_SHOT_DIR"]) / name)
        return path

    return save


CELL = "%%grad x=2.0 y=3.0 --step\nu = x * y\nz = u + ad.sin(x) * y"


def stepper_program(x, y):
    """What CELL computes, as a function with the same variable names (for expectations)."""
    import adlab as ad

    u = x * y
    z = u + ad.sin(x) * y
    return z


def write_stepper_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        nbformat.v4.new_code_cell("import adlab as ad\n%load_ext adlab"),
        nbformat.v4.new_code_cell(CELL),
    ]
    nbformat.write(nb, path)


CURRENT_NODE = """stepper => {
  const hl = [...stepper.querySelectorAll("svg .adlab-node > .adlab-hl")]
    .find(e => getComputedStyle(e).display !== "none");
  return hl ? hl.parentElement.getAttribute("data-name") : null;
}"""


def current_node(stepper) -> str | None:
    """The name of the node the Stepper highlights now (its highlight is displayed)."""
    return stepper.evaluate(CURRENT_NODE)


IN_VIEW = """stepper => {
  const hl = [...stepper.querySelectorAll("svg .adlab-node > .adlab-hl")]
    .find(e => getComputedStyle(e).display !== "none");
  const view = stepper.querySelector(".adlab-view").getBoundingClientRect();
  const r = hl.getBoundingClientRect();
  const cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
  return cx >= view.left && cx <= view.right && cy >= view.top && cy <= view.bottom;
}"""

SMALLEST_TEXT = """root => {
  let least = Infinity, seen = 0;  // the rendered size of every shown text, in CSS px
  for (const t of root.querySelectorAll("svg text")) {
    const m = t.getScreenCTM();
    if (!m || !t.getClientRects().length) continue;  // not shown
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    least = Math.min(least, px);
    seen += 1;
  }
  return seen ? least : 0;
}"""

SHOWN_TEXT = """e => [...e.querySelectorAll(".adlab-t")]
  .filter(s => parseFloat(getComputedStyle(s).opacity) > 0.5)
  .map(s => s.textContent).join("")"""


def scroll_to(page, selector: str) -> None:
    """Scroll the notebook (Lab, Notebook 7) down until ``selector`` is in the page."""
    for _ in range(120):
        if page.locator(selector).count():
            page.locator(selector).first.scroll_into_view_if_needed()
            return
        page.evaluate(
            "() => { for (const e of document.querySelectorAll('.jp-WindowedPanel-outer,"
            " .jp-NotebookPanel-notebook, #main-panel')) e.scrollBy(0, 600); }"
        )
        page.wait_for_timeout(100)

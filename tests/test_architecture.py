"""The dependency rules of CONTRIBUTING.md ("The layers"), read from every module's imports.

Layers (arrow = may import):  notebook -> viz, api, comparison, ruletable -> engines -> ops
-> core.
- core imports nothing else from adlab;
- ops imports only core; viz imports only core (it reads other objects by duck typing);
- an engine imports core, ops and viz, never another engine;
- IPython / ipywidgets only inside adlab/notebook/;
- matplotlib only inside adlab/viz/ and adlab/lecture/, and only lazily (inside functions);
- nothing imports adlab.notebook, except exactly two lazy imports in adlab/__init__.py:
  the %load_ext hook (load_ipython_extension -> adlab.notebook.magics) and
  ``ad.widgets`` (the module __getattr__ -> adlab.notebook.widgets);
- no function-level imports of adlab modules (circular imports patched by late imports).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "adlab"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "adlab.engines.reverse"
    target: str  # what it imports, e.g. "adlab.core.rules"
    lazy: bool  # inside a function body
    line: int
    function: str | None = None  # the innermost function around it


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, source: str | None = None) -> list[Import]:
    """Every import statement of a module (``source`` overrides the file's text)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    name = _module_name(path)
    in_functions: dict[int, str] = {}  # import node -> innermost enclosing function
    for fn in ast.walk(tree):  # outer functions come first: inner ones overwrite
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    in_functions[id(node)] = fn.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the package
                base = name.split(".")[
                    : len(name.split(".")) - node.level + (path.name == "__init__.py")
                ]
                targets = [".".join([*base, node.module] if node.module else base)]
            else:
                targets = [node.module or ""]
            # `from adlab.core import rules` imports the submodule adlab.core.rules
            targets = [_submodule(targets[0], a.name) for a in node.names]
        else:
            continue
        fn_name = in_functions.get(id(node))
        found += [Import(name, t, fn_name is not None, node.lineno, fn_name) for t in targets]
    return found


def _submodule(package: str, name: str) -> str:
    path = PACKAGE.parent.joinpath(*package.split("."), name)
    is_module = path.with_suffix(".py").exists() or (path / "__init__.py").exists()
    return f"{package}.{name}" if package.startswith("adlab") and is_module else package


ALL_IMPORTS = [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in _imports(path)]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _engine(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "engines" else None


ALLOWED = {
    "core": {"core"},
    "ops": {"core", "ops"},
    "viz": {"core", "viz"},
    "engines": {"core", "ops", "viz", "engines"},
    "api": {"core", "ops", "viz", "engines"},
    "comparison": {"core", "ops", "viz", "engines", "api"},
    "ruletable": {"core", "ops", "viz"},
    "testing": {"core", "ops", "viz", "engines", "api"},
    "lecture": {"core", "ops", "viz", "engines", "api", "testing", "lecture"},
}


# The only lazy imports of adlab.notebook: (function in adlab/__init__.py, module imported).
NOTEBOOK_HOOKS = {
    ("load_ipython_extension", "adlab.notebook.magics"),
    ("__getattr__", "adlab.notebook.widgets"),
}


def _violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        top = imp.target.split(".")[0]
        layer = _layer(imp.module)
        if top == "adlab":
            target_layer = _layer(imp.target)
            extension_hook = imp.module == "adlab" and (imp.function, imp.target) in NOTEBOOK_HOOKS
            if imp.lazy and not extension_hook:
                bad.append(f"{where} inside a function (a late import of adlab)")
            if target_layer == "notebook" and layer != "notebook" and not extension_hook:
                bad.append(f"{where}: only the %load_ext hook may import adlab.notebook")
            allowed = ALLOWED.get(layer)
            if allowed is not None and target_layer not in allowed:
                bad.append(f"{where}: {layer} may import only {sorted(allowed)}")
            src, dst = _engine(imp.module), _engine(imp.target)
            if src and dst and src != dst:
                bad.append(f"{where}: an engine imports another engine")
        elif top in ("IPython", "ipywidgets", "ipykernel", "traitlets") and layer != "notebook":
            bad.append(f"{where}: IPython/ipywidgets belong in adlab/notebook/")
        elif top == "matplotlib":
            if layer not in ("viz", "lecture", "notebook"):
                bad.append(f"{where}: matplotlib belongs in adlab/viz/ or adlab/lecture/")
            elif not imp.lazy:
                bad.append(f"{where}: import matplotlib lazily, inside the function that draws")
    return bad


def test_the_layers_of_design_md_hold():
    assert _violations(ALL_IMPORTS) == []


def test_the_checker_sees_imports():
    # a guard for the guard: the walk must find the known edges
    edges = {(i.module, i.target) for i in ALL_IMPORTS}
    assert ("adlab.engines.reverse.engine", "adlab.core.rules") in edges
    assert ("adlab.ops.scalar", "adlab.core.primitive") in edges
    assert all(
        not (i.module.startswith("adlab.core") and i.target == "adlab.ops") for i in ALL_IMPORTS
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import matplotlib.pyplot as plt\n", "matplotlib belongs"),
        ("from adlab.engines import reverse\n", "core may import only"),
        ("def f():\n    from adlab.ops import scalar\n", "late import"),
        ("import IPython\n", "IPython/ipywidgets belong"),
        ("from adlab.notebook import magics\n", "only the %load_ext hook"),
    ],
)
def test_the_checker_catches_violations(source, expected):
    probe = PACKAGE / "core" / "probe.py"  # never written: the source is given
    assert any(expected in v for v in _violations(_imports(probe, source)))


@pytest.mark.parametrize(
    "source",
    [
        "def load_ipython_extension(ip):\n    from adlab.notebook import widgets\n",
        "def __getattr__(name):\n    from adlab.notebook import magics\n",
        "def helper():\n    from adlab.notebook import widgets\n",
        "from adlab.notebook import widgets\n",
    ],
)
def test_only_the_two_hooks_may_import_the_notebook_layer(source):
    init = PACKAGE / "__init__.py"  # as if adlab/__init__.py had this source
    assert any("adlab.notebook" in v for v in _violations(_imports(init, source)))


def test_the_two_hooks_are_allowed():
    init_imports = [i for i in ALL_IMPORTS if i.module == "adlab" and "notebook" in i.target]
    assert {(i.function, i.target) for i in init_imports} == NOTEBOOK_HOOKS


def test_import_adlab_stays_light():
    """`import adlab` must not pull in matplotlib, IPython or ipywidgets."""
    code = (
        "import sys, adlab\n"
        "heavy = [m for m in ('matplotlib', 'IPython', 'ipywidgets') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_widgets_load_on_first_use():
    code = (
        "import sys, adlab as ad\n"
        "assert 'ipywidgets' not in sys.modules\n"
        "print(ad.widgets.Stepper.__name__, 'ipywidgets' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Stepper", "True"]


def test_every_registered_engine_speaks_the_protocol():
    """The API talks to engines only through an Engine: vjp(f, primals) / jvp(f, primals,
    tangents), each engine module exposing its one ENGINE."""
    from adlab import api
    from adlab.core.engine import Engine

    for mode, engine in api._ENGINES.items():
        assert mode in api.MODES and isinstance(engine, Engine) and engine.name == mode
        assert callable(engine.vjp) or callable(engine.jvp)


def test_every_layer_is_known_and_documented_in_contributing():
    """The architecture this test keeps lives in the repository, in CONTRIBUTING.md."""
    contributing = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "## The layers" in contributing
    layers = {_layer(i.module) for i in ALL_IMPORTS} - {"__init__", "notebook"}
    assert layers <= set(ALLOWED), f"a layer without rules: {layers - set(ALLOWED)}"
    for layer in layers:
        assert f"adlab/{layer}" in contributing, f"CONTRIBUTING.md does not describe {layer}"

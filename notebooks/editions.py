"""Keep the Japanese edition of the lecture (``notebooks/ja/``) in step with the English one.

    python notebooks/editions.py sync 05      # create or update ja/05_*.ipynb from 05_*.ipynb
    python notebooks/editions.py sync         # update every Japanese notebook there is
    python notebooks/editions.py status       # what waits for a translator; is the code in step?
    python notebooks/editions.py check 05     # the parity test (tests/notebook/test_editions.py)
    python notebooks/editions.py run 05       # execute ja/05_*.ipynb and store its outputs
    python notebooks/editions.py glossary     # write ja/00's glossary cells from ja/glossary.py

A Japanese notebook mirrors its English twin cell by cell: the same cells, kinds, slide
types and tags, in the same order, plus optional Japanese-only markdown cells (the
glossary of 00, say). Each mirrored cell stores the hash of the English source it follows
(``metadata.edition.en``); a Japanese-only cell says ``metadata.edition.only = "ja"``.

**Code is the same code.** Two code cells are in step when they are equal after
:func:`code_lines` removes what a translator may change: comments, docstrings, and the
*reader-facing text* listed in :data:`READER_FACING` (the strings a reader sees as text
or HTML: what ``print`` prints, a ``check`` claim, a table's headings, a Player's
captions ...). Everything else — names, numbers, mode strings, dictionary keys, the
values inside an f-string, magic lines, and text that matplotlib draws into a figure
(a PNG with Japanese glyphs would depend on the machine's fonts) — must be identical.
``chapter(NN, lang="ja")`` differs from ``chapter(NN)`` only in its edition argument.

**Prose follows the English.** ``sync`` keeps every translated cell whose English has
not changed, and marks each cell that needs a translator with ``TODO(ja)`` (an HTML
comment holding the new English in markdown, a comment line in code); the translator
fixes the cell and deletes the marker. ``status`` lists the marked cells.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import hashlib
import importlib.util
import io
import re
import sys
import tokenize
from collections import deque
from pathlib import Path
from typing import NamedTuple

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

HERE = Path(__file__).resolve().parent
JA = HERE / "ja"
TODO = "TODO(ja)"

# Reader-facing text: for each callable (a plain name, or the last part of ``a.b.name``),
# the positions ("*" = all) and keyword names of its arguments whose text a reader sees
# as text or HTML. Their string literals, the literal parts of their f-strings and the
# labels in their rows may be translated. Text drawn by matplotlib is not listed: it ends
# up in a PNG, where Japanese glyphs would depend on the machine's fonts.
READER_FACING: dict[str, tuple[tuple[int, ...] | str, tuple[str, ...]]] = {
    "print": ("*", ()),
    "display": ("*", ()),
    "Markdown": ("*", ()),  # IPython.display
    "HTML": ("*", ()),
    "Latex": ("*", ()),
    "Math": ("*", ()),
    "fill": ((0,), ()),  # textwrap.fill of a message that is printed
    "check": ((0,), ()),  # adlab.lecture.checks.check(claim, got, want): the claim
    "Table": ((0, 1), ("title", "note")),  # adlab.viz.tables.Table(columns, rows, ...)
    "Player": ((1,), ("title", "label")),  # ad.widgets.Player(frames, captions, ...)
    "path_table": ((), ("title",)),  # adlab.lecture.paths
    "rows_graph": ((), ("title",)),  # adlab.lecture.trees: an HTML drawing
    "side_by_side": ("*", ()),  # chapter 04's (caption, HTML) pairs
}
# A call of an exception class (``raise ValueError("...")``): its message is read too.
EXCEPTION = re.compile(r"\w*(Error|Exception|Warning)$")
# Keyword arguments that choose the edition, left out of the comparison.
EDITION_ARGUMENTS = {"chapter": ("lang",)}  # adlab.lecture.exercises.chapter(NN, lang="ja")
# Cell magics whose whole body is text a reader sees.
TEXT_MAGICS = {"html", "markdown", "latex", "svg"}
TEXT = "…"  # what reader-facing text becomes in the comparison


# -- comparing code ------------------------------------------------------------------------------
class Line(NamedTuple):
    """One line of a code cell as it is compared, and the line of the cell it comes from."""

    text: str
    number: int


class _Mask(ast.NodeTransformer):
    """Replace reader-facing text by ``…`` and drop edition arguments (see the module doc)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        node.keywords = [k for k in node.keywords if k.arg not in EDITION_ARGUMENTS.get(name, ())]
        positions, keywords = READER_FACING.get(name, ((), ()))
        if EXCEPTION.match(name):
            positions = "*"
        node.args = [
            _text(arg) if positions == "*" or i in positions else arg
            for i, arg in enumerate(node.args)
        ]
        for k in node.keywords:
            if k.arg in keywords:
                k.value = _text(k.value)
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:  # a docstring, or a bare string
        self.generic_visit(node)
        if _is_str(node.value):
            return ast.copy_location(ast.Expr(ast.Name(TEXT)), node)
        return node


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _text(node: ast.expr) -> ast.expr:
    """``node`` in a reader-facing position: its text masked, its computation kept.

    A string becomes ``…``; an f-string keeps only its values (with their formats), in
    any order, since a translation may reorder them; a conditional, a sum of strings,
    ``"..." % args``, ``"...".format(args)``, ``"...".join(parts)`` and the elements of a
    list, tuple or comprehension are text in the same way. Anything else is code.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ast.Name(TEXT)
    if isinstance(node, ast.JoinedStr):
        values = [ast.JoinedStr([v]) for v in node.values if isinstance(v, ast.FormattedValue)]
        return ast.Call(ast.Name(TEXT), sorted(values, key=ast.unparse), [])
    if isinstance(node, ast.IfExp):
        return ast.IfExp(node.test, _text(node.body), _text(node.orelse))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return ast.BinOp(_text(node.left), node.op, _text(node.right))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_str(node.left):
        return ast.BinOp(_text(node.left), node.op, node.right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
        and _is_str(node.func.value)
    ):
        func = ast.Attribute(_text(node.func.value), node.func.attr, ast.Load())
        return ast.Call(func, node.args, node.keywords)
    if isinstance(node, ast.List | ast.Tuple):
        return type(node)([_text(e) for e in node.elts], ast.Load())
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return type(node)(_text(node.elt), node.generators)
    return node


def _statement_lines(body: list[ast.stmt], depth: int, offset: int) -> list[Line]:
    """The statements of ``body`` as lines, compound statements opened up, so that the
    first difference can be named by its line."""
    out = []
    indent = "    " * depth
    for stmt in body:
        blocks = [
            f for f in ("body", "handlers", "orelse", "finalbody", "cases") if hasattr(stmt, f)
        ]
        if not blocks:
            text = ast.unparse(stmt)
            out += [Line(indent + t, stmt.lineno + offset) for t in text.splitlines()]
            continue
        head = copy.copy(stmt)
        for field in blocks:
            setattr(head, field, [])
        out += [Line(indent + t, stmt.lineno + offset) for t in ast.unparse(head).splitlines()]
        out += _statement_lines(getattr(stmt, "body", []), depth + 1, offset)
        for clause in getattr(stmt, "handlers", []) + getattr(stmt, "cases", []):
            clause_head = copy.copy(clause)
            clause_head.body = []
            line = clause.lineno if hasattr(clause, "lineno") else clause.pattern.lineno
            out.append(Line(indent + ast.unparse(clause_head).strip(), line + offset))
            out += _statement_lines(clause.body, depth + 1, offset)
        for field in ("orelse", "finalbody"):
            if getattr(stmt, field, None):
                word = "finally:" if field == "finalbody" else "else:"
                first = getattr(stmt, field)[0].lineno
                out.append(Line(indent + word, first + offset))
                out += _statement_lines(getattr(stmt, field), depth + 1, offset)
    return out


def code_lines(source: str) -> list[Line]:
    """The code of a cell as the editions compare it: comments, docstrings and
    reader-facing text (shown as ``…``) left out, one statement per line.

    >>> [l.text for l in code_lines('print(f"勾配: {g:.3f}")  # 日本語のコメント')]
    ["print(…(f'{g:.3f}'))"]
    >>> [l.text for l in code_lines("%%grad x=0.5\\nz = x * x")]
    ['%%grad x=0.5', 'z = x * x']
    """
    offset, head = 0, []
    if source.startswith("%%"):
        magic, _, source = source.partition("\n")
        offset, head = 1, [Line(" ".join(magic.split()), 1)]
        if magic[2:].split()[0] in TEXT_MAGICS:
            return [*head, Line(TEXT, 2)]
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:  # not Python: compared as it is, without blank lines
        lines = source.splitlines()
        return head + [Line(t.strip(), i + 1 + offset) for i, t in enumerate(lines) if t.strip()]
    tree = _Mask().visit(tree)
    return head + _statement_lines(tree.body, 0, offset)


def translatable(source: str) -> bool:
    """Whether a code cell has anything a translator may change (comments, docstrings,
    reader-facing text)."""
    return _has_comment(source) or any(TEXT in line.text for line in code_lines(source))


def _has_comment(source: str) -> bool:
    if source.startswith("%%"):
        source = source.partition("\n")[2]
    python = TransformerManager().transform_cell(source)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(python).readline))
    except (tokenize.TokenError, SyntaxError):
        return "#" in source
    return any(t.type == tokenize.COMMENT for t in tokens)


def first_difference(english: str, japanese: str) -> tuple[Line | None, Line | None] | None:
    """The first line where two code cells differ as :func:`code_lines` compares them
    (``None`` for a line one of them lacks), or None if they are in step."""
    a, b = code_lines(english), code_lines(japanese)
    for k in range(max(len(a), len(b))):
        x = a[k] if k < len(a) else None
        y = b[k] if k < len(b) else None
        if x is None or y is None or x.text != y.text:
            return x, y
    return None


# -- the two editions ---------------------------------------------------------------------------
def digest(source: str) -> str:
    """The hash of an English cell's source that its Japanese twin stores."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def japanese_only(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("edition", {}).get("only") == "ja"


def mirrored(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """The Japanese notebook's cells that mirror English ones, with their indexes."""
    return [(i, c) for i, c in enumerate(nb.cells) if not japanese_only(c)]


def _layout(cell: nbformat.NotebookNode) -> tuple:
    """What a cell contributes to the deck and the notebook's structure."""
    meta = cell.metadata
    return (
        cell.cell_type,
        meta.get("slideshow", {}).get("slide_type"),
        tuple(sorted(meta.get("tags", []))),
        bool(meta.get("jupyter", {}).get("source_hidden")),
    )


def _first_line(cell: nbformat.NotebookNode) -> str:
    line = next((t for t in cell.source.splitlines() if t.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def parity(english: nbformat.NotebookNode, japanese: nbformat.NotebookNode, name: str) -> list[str]:
    """Why ``japanese`` (notebooks/ja/``name``) is not in step with ``english``
    (notebooks/``name``); empty if it is. Each reason names the notebook and the cell."""
    en, ja = f"notebooks/{name}", f"notebooks/ja/{name}"
    fix = f"(`python notebooks/editions.py sync {name[:2]}` brings it in step)"
    problems = [
        f"{ja} cell {i} is marked Japanese-only but is a {c.cell_type} cell: only prose may "
        "be added"
        for i, c in enumerate(japanese.cells)
        if japanese_only(c) and c.cell_type != "markdown"
    ]
    pairs = mirrored(japanese)
    a = [(c.cell_type, _code_key(c)) for _, c in pairs]
    b = [(c.cell_type, _code_key(c)) for c in english.cells]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            continue  # cells of the same kinds in the same places: compared one by one below
        if j1 < j2:  # the English has a cell more here
            c, here, there = english.cells[j1], f"{en} cell {j1}", ja
        else:
            c, here, there = pairs[i1][1], f"{ja} cell {pairs[i1][0]}", en
        problems.append(f"{here} ({c.cell_type}: {_first_line(c)!r}) has no twin in {there} {fix}")
        return problems
    for (i, ja_cell), (k, en_cell) in zip(pairs, enumerate(english.cells)):
        where = f"{ja} cell {i}" + (f" (English cell {k})" if i != k else "")
        if _layout(ja_cell) != _layout(en_cell):
            problems.append(
                f"{where}: kind, slide type, tags or hidden input {_layout(ja_cell)} differ "
                f"from {en} cell {k}: {_layout(en_cell)} {fix}"
            )
            continue
        if en_cell.cell_type != "code":
            continue
        found = first_difference(en_cell.source, ja_cell.source)
        if found:
            x, y = found
            english_line = f"line {x.number}: {x.text}" if x else "(no more code)"
            japanese_line = f"line {y.number}: {y.text}" if y else "(no more code)"
            problems.append(
                f"{where} has other code than {en} cell {k}; the first difference "
                f"(comments and reader-facing text left out, shown as {TEXT}):\n"
                f"    English  {english_line}\n    Japanese {japanese_line}\n"
                f"  Make the Japanese code the English code {fix}"
            )
    problems += _languages(japanese, ja)
    return problems


def _code_key(cell: nbformat.NotebookNode) -> tuple[str, ...]:
    """What aligns two code cells when the structure changed: their code; prose aligns by kind."""
    if cell.cell_type != "code":
        return ()
    return tuple(line.text for line in code_lines(cell.source))


def _languages(japanese: nbformat.NotebookNode, ja: str) -> list[str]:
    """A Japanese notebook's exercises speak Japanese: ``chapter(NN, lang="ja")``."""
    problems = []
    for i, cell in enumerate(japanese.cells):
        if cell.cell_type != "code" or "chapter(" not in cell.source:
            continue
        try:
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except SyntaxError:
            continue
        for call in ast.walk(tree):
            if (
                isinstance(call, ast.Call)
                and getattr(call.func, "id", getattr(call.func, "attr", None)) == "chapter"
                and not any(
                    k.arg == "lang" and getattr(k.value, "value", None) == "ja"
                    for k in call.keywords
                )
            ):
                problems.append(
                    f'{ja} cell {i} line {call.lineno}: write chapter(..., lang="ja") so that '
                    "its exercises answer in Japanese"
                )
    return problems


# -- sync ---------------------------------------------------------------------------------------
def _marker_markdown(english: str, *, new: bool) -> str:
    english = english.replace("-->", "-- >")
    if new:
        return f"<!-- {TODO}: 新しいセルです。下の英語を訳し、このコメントを消してください。 -->\n"
    return (
        f"<!-- {TODO}: 英語版のこのセルが変わりました。新しい英語に合わせて訳を直し、"
        f"このコメントを消してください。\n\n{english}\n-->\n"
    )


_MARKDOWN_MARKER = re.compile(r"\A<!-- TODO\(ja\):.*?-->\n?", re.S)
_CODE_MARKER = re.compile(r"^# TODO\(ja\):.*\n?", re.M)


def _mark_code(source: str, why: str) -> str:
    source = _CODE_MARKER.sub("", source)
    line = f"# {TODO}: {why}\n"
    if source.startswith("%%"):
        magic, _, body = source.partition("\n")
        return f"{magic}\n{line}{body}"
    return line + source


def marked(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell waits for a translator (carries a ``TODO(ja)`` marker)."""
    if cell.cell_type == "markdown":
        return bool(_MARKDOWN_MARKER.match(cell.source))
    return bool(_CODE_MARKER.search(cell.source))


class Change(NamedTuple):
    """One thing ``sync`` did to a Japanese notebook, for its report."""

    cell: int
    what: str


def _follow(ja_cell: nbformat.NotebookNode, en_cell: nbformat.NotebookNode) -> None:
    """Take the English cell's place in the deck (slide type, tags, hidden input) and hash."""
    meta = ja_cell.metadata
    for key in ("slideshow", "tags", "jupyter"):
        if key in en_cell.metadata:
            meta[key] = copy.deepcopy(en_cell.metadata[key])
        else:
            meta.pop(key, None)
    meta["edition"] = {"en": digest(en_cell.source)}


def _japanese_code(source: str) -> str:
    """English code as the Japanese edition runs it: its exercises answer in Japanese."""
    return re.sub(r"\bchapter\((['\"])(\w+)\1\)", r'chapter(\1\2\1, lang="ja")', source)


def _new(en_cell: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, str | None]:
    cell = copy.deepcopy(en_cell)
    _follow(cell, en_cell)
    if cell.cell_type == "markdown":
        cell.source = _marker_markdown(en_cell.source, new=True) + en_cell.source
        return cell, "new prose: translate it"
    if cell.cell_type == "code":
        cell.source = _japanese_code(en_cell.source)
        if translatable(en_cell.source):
            cell.source = _mark_code(cell.source, "コメントと読者向けの文字列を訳してください")
            return cell, "new code: translate its comments and text"
    return cell, None


def _update(
    ja_cell: nbformat.NotebookNode, en_cell: nbformat.NotebookNode
) -> tuple[nbformat.NotebookNode, str | None]:
    """The Japanese cell brought in step with its English twin, and why it needs a translator."""
    cell = copy.deepcopy(ja_cell)
    changed = ja_cell.metadata.get("edition", {}).get("en") != digest(en_cell.source)
    _follow(cell, en_cell)
    if cell.cell_type == "markdown":
        if not changed:
            return cell, None
        body = _MARKDOWN_MARKER.sub("", cell.source)
        cell.source = _marker_markdown(en_cell.source, new=False) + body
        return cell, "the English prose changed: revise the translation"
    if first_difference(en_cell.source, ja_cell.source) is None:
        if not changed or not translatable(en_cell.source):
            return cell, None
        why = "英語版のコメントか文字列が変わりました。訳を確かめてください"
        cell.source = _mark_code(cell.source, why)
        return cell, "the English comments or text changed: check the translation"
    cell.source = _japanese_code(en_cell.source)
    cell.outputs = copy.deepcopy(en_cell.get("outputs", []))
    cell.execution_count = en_cell.get("execution_count")
    if translatable(en_cell.source):
        why = "コードが変わったので英語版を写しました。訳し直してください"
        cell.source = _mark_code(cell.source, why)
    return cell, "the English code changed: copied, with its outputs (run the notebook)"


def sync(
    english: nbformat.NotebookNode, japanese: nbformat.NotebookNode | None = None
) -> tuple[nbformat.NotebookNode, list[Change]]:
    """The Japanese notebook brought in step with ``english``, and what changed.

    Cells are matched by the English hash each Japanese cell stores (and, where the
    English changed, by kind and order); Japanese-only cells stay after the cell they
    followed. A cell whose English is unchanged is kept as it is; see :func:`_update`.
    """
    result = copy.deepcopy(english)
    result.cells = []
    if japanese is not None:
        result.metadata = copy.deepcopy(japanese.metadata)
        for key in ("kernelspec", "language_info"):
            if key in english.metadata:
                result.metadata[key] = copy.deepcopy(english.metadata[key])
    changes: list[Change] = []
    old = japanese.cells if japanese is not None else []
    # the mirrored cells, each with the Japanese-only cells that follow it
    leading: list[nbformat.NotebookNode] = []
    groups: list[tuple[nbformat.NotebookNode, list[nbformat.NotebookNode]]] = []
    for cell in old:
        if japanese_only(cell):
            (groups[-1][1] if groups else leading).append(cell)
        else:
            groups.append((cell, []))
    result.cells += leading
    a = [(c.cell_type, c.metadata.get("edition", {}).get("en")) for c, _ in groups]
    b = [(c.cell_type, digest(c.source)) for c in english.cells]

    def place(cell: nbformat.NotebookNode, why: str | None) -> None:
        if why:
            changes.append(Change(len(result.cells), why))
        result.cells.append(cell)

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        pool: dict[str, deque] = {}
        for group in groups[i1:i2]:
            pool.setdefault(group[0].cell_type, deque()).append(group)
        for en_cell in english.cells[j1:j2]:
            twins = pool.get(en_cell.cell_type)
            if twins:
                ja_cell, extra = twins.popleft()
                place(*_update(ja_cell, en_cell))
                result.cells += extra
            else:
                place(*_new(en_cell))
        for twins in pool.values():
            for ja_cell, extra in twins:
                gone = f"removed (its English cell is gone): {_first_line(ja_cell)!r}"
                changes.append(Change(len(result.cells), gone))
                result.cells += extra
    seen: set[str] = set()
    for cell in result.cells:  # a cell copied from the English may bring an id in use here
        if cell.get("id") in seen:
            cell.id = f"ja-{digest(cell.id + str(len(seen)))[:8]}"
        seen.add(cell.get("id"))
    return result, changes


# -- files and commands -------------------------------------------------------------------------
def english_notebooks(prefixes: list[str]) -> list[Path]:
    """The English notebooks, in order; only those starting with one of ``prefixes`` if any."""
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or any(p.name.startswith(x) for x in prefixes)]


def japanese_notebooks(prefixes: list[str]) -> list[Path]:
    found = sorted(JA.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or any(p.name.startswith(x) for x in prefixes)]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, path)


def status(path: Path, twin: Path | None = None) -> list[str]:
    """What a Japanese notebook still needs: marked cells, cells whose English changed
    since (``sync`` marks them), and parity problems. ``twin``: its English notebook."""
    twin = twin or HERE / path.name
    if not twin.exists():
        return [f"notebooks/ja/{path.name} has no English twin notebooks/{path.name}"]
    japanese, english = read(path), read(twin)
    lines = [f"cell {i} ({c.cell_type}): {TODO}" for i, c in enumerate(japanese.cells) if marked(c)]
    hashes = {digest(c.source) for c in english.cells}
    lines += [
        f"cell {i} ({c.cell_type}): the English changed since it was translated (sync marks it)"
        for i, c in mirrored(japanese)
        if c.metadata.get("edition", {}).get("en") not in hashes
    ]
    return lines + parity(english, japanese, path.name)


def glossary_cells() -> list[nbformat.NotebookNode]:
    """The glossary of the Japanese 00, as markdown cells (see notebooks/ja/glossary.py)."""
    spec = importlib.util.spec_from_file_location("ja_glossary", JA / "glossary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cells = []
    for k, source in enumerate(module.markdown()):
        cell = nbformat.v4.new_markdown_cell(source, id=f"ja-glossary-{k}")
        cell.metadata = {
            "edition": {"only": "ja", "glossary": k},
            "slideshow": {"slide_type": "slide" if k == 0 else "subslide"},
        }
        cells.append(cell)
    return cells


def with_glossary(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` (the Japanese 00) with its glossary cells rewritten, at the end where new."""
    result = copy.deepcopy(nb)
    old = [i for i, c in enumerate(nb.cells) if "glossary" in c.metadata.get("edition", {})]
    at = old[0] if old else len(nb.cells)
    result.cells = [c for c in nb.cells if "glossary" not in c.metadata.get("edition", {})]
    result.cells[at:at] = glossary_cells()
    return result


def _run(paths: list[Path]) -> None:
    """Execute Japanese notebooks with notebooks/run.py's ``execute`` (the kernel, folders and
    ``ADLAB_FAST=1`` of the English ones) and store their outputs, without timestamps."""
    spec = importlib.util.spec_from_file_location("notebooks_run", HERE / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    for path in paths:
        nb = run.execute(path, store=False)
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        write(nb, path)
        print(f"ran ja/{path.name} and stored its outputs")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("sync", "status", "check", "run", "glossary"))
    parser.add_argument(
        "chapters", nargs="*", help="notebook numbers, e.g. 00 05 (default: every Japanese one)"
    )
    parser.add_argument("--run", action="store_true", help="sync: run the synced notebooks")
    args = parser.parse_args(argv)
    failed = False
    if args.command == "sync":
        synced = []  # named chapters are created if new; by default, the existing ones updated
        twins = (
            english_notebooks(args.chapters)
            if args.chapters
            else [HERE / p.name for p in japanese_notebooks([]) if (HERE / p.name).exists()]
        )
        for twin in twins:
            path = JA / twin.name
            before = read(path) if path.exists() else None
            after, changes = sync(read(twin), before)
            if before is not None and after == before:
                continue
            JA.mkdir(exist_ok=True)
            write(after, path)
            synced.append(path)
            print(f"ja/{twin.name}: {'updated' if before else 'created'}")
            for change in changes:
                print(f"    cell {change.cell}: {change.what}")
        if synced and args.run:
            _run(synced)
        elif synced:
            print("then: python notebooks/editions.py run " + " ".join(p.name[:2] for p in synced))
        else:
            print("nothing to sync: " + ", ".join(f"ja/{t.name}" for t in twins) + " in step")
    elif args.command in ("status", "check"):
        for path in japanese_notebooks(args.chapters):
            if args.command == "check":
                twin = HERE / path.name
                found = (
                    parity(read(twin), read(path), path.name)
                    if twin.exists()
                    else [f"notebooks/ja/{path.name} has no English twin"]
                )
            else:
                found = status(path)
            failed |= bool(found) and args.command == "check"
            print(f"ja/{path.name}: " + ("in step" if not found else f"{len(found)} to do"))
            for line in found:
                print("    " + line.replace("\n", "\n    "))
    elif args.command == "run":
        _run(japanese_notebooks(args.chapters))
    elif args.command == "glossary":
        (path,) = japanese_notebooks(["00"])
        write(with_glossary(read(path)), path)
        print(f"ja/{path.name}: glossary written")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

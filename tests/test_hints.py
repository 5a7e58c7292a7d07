"""No hint hands over the solution: a hint never contains a piece of its exercise's solution code.

The solution of an exercise is read twice: the instructor's solution block of the notebook
(the cell that checks it) and the function that computes the right answer. Every call with its
arguments (``levels.reach_masks(data)``), every chain of attributes and subscripts
(``data.orders['placed_at'].dt.hour``, ``actions.loc['champions', 'email']``) and every
particular method call (``.failing()``) found there must not appear in any hint, in either
language (spaces and quote marks do not matter).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest

from crmkit.lessons import lesson01, lesson02, lesson03, lesson04
from crmkit.lessons.exercises import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"01": ("01_crm_concepts", lesson01), "02": ("02_warehouse", lesson02),
             "03": ("03_mining", lesson03), "04": ("04_case_bendita", lesson04)}
#: Builtins and everyday methods: naming them tells nothing about a particular solution.
COMMON = {"len", "int", "float", "str", "set", "list", "sorted", "round", "sum", "min", "max",
          "abs", "bool", "tuple", "dict", "print", "range", "zip", "mean", "median", "size",
          "count", "idxmax", "idxmin", "head", "tail", "dropna", "notna", "isna", "astype",
          "tolist", "unique", "nunique", "value_counts", "sort_values", "sort_index", "reset_index",
          "copy", "fillna", "strip", "lower", "casefold", "apply", "any", "all", "item",
          "to_numpy", "groupby", "agg", "merge", "isin", "reindex", "normalize", "format"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace('"', "'")


def _name_only(node: ast.AST) -> bool:
    return isinstance(node, ast.Name)


def fragments(source: str) -> set[str]:
    """Pieces of code in ``source`` that would give a solution away if a hint showed them."""
    source = textwrap.dedent(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        segment = ast.get_source_segment(source, node)
        if not segment:
            continue
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in COMMON:
                continue
            if node.args or node.keywords:
                out.add(segment)  # a call with its arguments
            elif isinstance(func, ast.Attribute):
                out.add(f".{name}()")  # a particular method, called
        elif isinstance(node, ast.Subscript) and not _name_only(node.value):
            out.add(segment)  # data.opportunities['stage'], actions.loc['a', 'b']
        elif isinstance(node, ast.Attribute) and not _name_only(node.value):
            out.add(segment)  # data.orders['placed_at'].dt.hour
    return {_norm(f) for f in out if len(_norm(f)) >= 6}


def solution_blocks(stem: str) -> dict[str, str]:
    """The instructor's solution code of every exercise a notebook checks."""
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for cell in cells["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or BEGIN not in src:
            continue
        blocks = re.findall(rf"{re.escape(BEGIN)}[^\n]*\n(.*?)^[ \t]*{re.escape(END)}", src,
                            re.S | re.M)
        for name in re.findall(r'book\.check\("([a-z0-9_]+)"', src):
            out[name] = out.get(name, "") + "\n".join(textwrap.dedent(b) for b in blocks)
    return out


def leaks(nn: str) -> list[tuple[str, str, str]]:
    stem, module = NOTEBOOKS[nn]
    blocks = solution_blocks(stem)
    found = []
    for ex in module.EXERCISES:
        pieces = fragments(blocks.get(ex.name, ""))
        if ex.kind == "compute":
            try:
                pieces |= fragments(inspect.getsource(ex.solve))
            except (OSError, TypeError):
                pass
        for i in range(len(ex.hints)):
            for lang in ("en", "es"):
                hint = _norm(ex.hint_text(i, lang))
                found += [(ex.name, lang, p) for p in sorted(pieces) if p in hint]
    return found


def test_the_check_finds_the_code_a_hint_gave_away():
    code = ("stage = data.opportunities['stage']\nanswer = (stage == 'won').sum()\n"
            "answer = levels.reach_masks(data)\nanswer = objective.failing()\n"
            "answer = data.orders['placed_at'].dt.hour\n")
    pieces = fragments(code)
    for hint in ("won ÷ (won + lost), from data.opportunities[\"stage\"]",
                 "Use `levels.reach_masks( data )`.", "call `.failing()`",
                 "the hour: data.orders['placed_at'].dt.hour"):
        assert any(p in _norm(hint) for p in pieces), hint
    for hint in ("Count the won opportunities.", "Take the sum of a boolean column."):
        assert not any(p in _norm(hint) for p in pieces), hint


def test_every_exercise_of_a_notebook_has_its_solution_block():
    for nn, (stem, module) in NOTEBOOKS.items():
        blocks = solution_blocks(stem)
        missing = [e.name for e in module.EXERCISES if not blocks.get(e.name, "").strip()]
        assert not missing, (nn, missing)


@pytest.mark.parametrize("nn", list(NOTEBOOKS))
def test_no_hint_contains_its_solutions_code(nn):
    found = leaks(nn)
    assert not found, "hints that give solution code away (exercise, language, code): " + \
        "; ".join(f"{n} [{lang}] {p}" for n, lang, p in found)

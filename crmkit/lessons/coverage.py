"""Where each concept of the course texts is taught on data: the coverage table.

The concepts are listed in ``crmkit/lessons/concepts.yaml`` with the course text
each comes from. A notebook section teaches a concept when its heading cell (the
English one) lists the concept's id in its metadata ``concepts``; the concept's
exercises are the checks of the code cells that list it, or, when none does, the
checks of its sections not claimed by another concept.

``python -m crmkit.lessons.coverage`` writes ``docs/coverage.md``;
``python -m crmkit.lessons.coverage --check`` says whether the file is up to date.

>>> cells = [
...     {"cell_type": "markdown", "metadata": {"tags": ["lang-en"], "concepts": ["a"]},
...      "source": ["## 1. First\\n", "text"]},
...     {"cell_type": "code", "metadata": {}, "source": ['book.check("one", answer)']},
...     {"cell_type": "markdown", "metadata": {"tags": ["lang-en"]}, "source": ["## 2. Next"]},
...     {"cell_type": "code", "metadata": {"concepts": ["b"]},
...      "source": ['book.check("two", answer)']}]
>>> found = notebook_coverage("01", cells)
>>> found["a"]["sections"], found["a"]["exercises"]
(['01 §1. First'], ['01: 1 `one`'])
>>> found["b"]["sections"], found["b"]["exercises"]
([], ['01: 2 `two`'])
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml

__all__ = ["concepts", "notebook_coverage", "coverage", "missing", "render", "main"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("01_crm_concepts", "02_warehouse", "03_mining", "04_case_bendita")
_CHECK = re.compile(r'book\.check\("([a-z0-9_]+)"')


def concepts() -> list[dict]:
    """The concepts of the course texts, in the order of the texts."""
    text = resources.files("crmkit.lessons").joinpath("concepts.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _heading(cell: dict) -> tuple[int, str] | None:
    if cell["cell_type"] != "markdown" or "lang-en" not in cell["metadata"].get("tags", []):
        return None
    for line in "".join(cell["source"]).splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            return level, re.sub(r"<[^>]+>", "", line.lstrip("#").strip())
    return None


def notebook_coverage(nn: str, cells: list[dict]) -> dict[str, dict[str, list[str]]]:
    """``{concept: {"sections": [...], "exercises": [...]}}`` for one notebook's cells."""
    checks = [(i, n) for i, c in enumerate(cells) if c["cell_type"] == "code"
              for n in _CHECK.findall("".join(c["source"]))]
    number = {n: k + 1 for k, (_, n) in enumerate(checks)}
    claimed = {n for i, n in checks if cells[i]["metadata"].get("concepts")}
    heads = [(i, h) for i, c in enumerate(cells) if (h := _heading(c))]
    out: dict[str, dict[str, list[str]]] = {}

    def add(concept: str, kind: str, value: str) -> None:
        entry = out.setdefault(concept, {"sections": [], "exercises": []})
        if value not in entry[kind]:
            entry[kind].append(value)

    for i, (_, title) in heads:
        for concept in cells[i]["metadata"].get("concepts", []):
            add(concept, "sections", f"{nn} §{title}")
    for c in cells:
        for concept in c["metadata"].get("concepts", []) if c["cell_type"] == "code" else []:
            for n in _CHECK.findall("".join(c["source"])):
                add(concept, "exercises", f"{nn}: {number[n]} `{n}`")
    for k, (i, (level, _)) in enumerate(heads):
        end = next((j for j, (lv, _) in heads[k + 1:] if lv <= level), len(cells))
        for concept in cells[i]["metadata"].get("concepts", []):
            if any(cells[j]["metadata"].get("concepts") and concept in
                   cells[j]["metadata"]["concepts"] for j, _ in checks):
                continue  # its exercises are named by its own code cells
            for j, n in checks:
                if i < j < end and n not in claimed:
                    add(concept, "exercises", f"{nn}: {number[n]} `{n}`")
    return out


def coverage(root: Path = ROOT) -> dict[str, dict[str, list[str]]]:
    """Sections and exercises of every concept, over the four notebooks."""
    out: dict[str, dict[str, list[str]]] = {}
    for name in NOTEBOOKS:
        cells = json.loads((root / "notebooks" / f"{name}.ipynb").read_text("utf-8"))["cells"]
        for concept, found in notebook_coverage(name[:2], cells).items():
            entry = out.setdefault(concept, {"sections": [], "exercises": []})
            for kind in entry:
                entry[kind] += [v for v in found[kind] if v not in entry[kind]]
    return out


def missing(found: dict, listed: list[dict]) -> dict[str, list[str]]:
    """Problems: concepts with no section or no exercise, and tags naming no concept.

    >>> missing({"a": {"sections": ["01 §1"], "exercises": []}, "zz": {"sections": ["x"],
    ...          "exercises": []}}, [{"id": "a"}, {"id": "b"}])
    {'no_section': ['b'], 'no_exercise': ['a', 'b'], 'unknown_tag': ['zz']}
    """
    ids = [c["id"] for c in listed]
    empty: dict[str, list[str]] = {"sections": [], "exercises": []}
    return {"no_section": [i for i in ids if not found.get(i, empty)["sections"]],
            "no_exercise": [i for i in ids if not found.get(i, empty)["exercises"]],
            "unknown_tag": sorted(set(found) - set(ids))}


def render(root: Path = ROOT) -> str:
    """The text of ``docs/coverage.md``."""
    found = coverage(root)
    lines = [
        "# Coverage: every concept of the course texts, taught on data",
        "",
        "*Generated by `python -m crmkit.lessons.coverage` from `crmkit/lessons/concepts.yaml`",
        "and the `concepts` metadata of the notebooks' cells; do not edit by hand.*",
        "",
        "Each concept of the five course texts (text 002 by unit of its course map), the notebook",
        "sections that teach it on the shop's data and the exercises that check it (number in the",
        "notebook and the name `book.check` uses). Los nombres de los conceptos, también en",
        "español.",
        "",
        "| concept | concepto | text | sections | exercises |",
        "|---|---|---|---|---|",
    ]
    empty: dict[str, list[str]] = {"sections": [], "exercises": []}
    for c in concepts():
        f = found.get(c["id"], empty)
        lines.append(f"| {c['en']} | {c['es']} | {c['text']} | "
                     f"{'; '.join(f['sections']) or '—'} | {', '.join(f['exercises']) or '—'} |")
    lines += ["", f"{len(concepts())} concepts.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``docs/coverage.md`` (or, with ``--check``, fail when it is out of date)."""
    parser = argparse.ArgumentParser(prog="python -m crmkit.lessons.coverage",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository's folder")
    parser.add_argument("--check", action="store_true",
                        help="only check that docs/coverage.md is up to date")
    args = parser.parse_args(argv)
    target = args.root / "docs" / "coverage.md"
    text = render(args.root)
    problems = {k: v for k, v in missing(coverage(args.root), concepts()).items() if v}
    for kind, ids in problems.items():
        print(f"{kind}: {', '.join(ids)}", file=sys.stderr)
    if args.check:
        same = target.exists() and target.read_text("utf-8") == text
        if not same:
            print(f"{target} is out of date: run python -m crmkit.lessons.coverage",
                  file=sys.stderr)
        return 0 if same and not problems else 1
    target.write_text(text, encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

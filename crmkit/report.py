"""Reports: run notebooks with papermill and render them to HTML.

``crmkit report 01_crm_concepts --profile boutique --lang es -p n_customers 2000``
writes ``reports/boutique/es/01_crm_concepts.ipynb`` (executed) and
``.html``. Parameters are checked against the notebook's ``parameters`` cell
before anything runs. What runs is the notebook's edition in the report's
language (:mod:`crmkit.lessons.edition`): a Spanish report has only the
Spanish narrative, an English one only the English.

>>> parse_value("2000"), parse_value("0.5"), parse_value("True"), parse_value("None")
(2000, 0.5, True, None)
>>> parse_value("boutique")
'boutique'
"""

from __future__ import annotations

import ast
import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dataset.profiles import PROFILE_NAMES
from .errors import CRMKitError, ParameterError, check_choice
from .i18n import check_lang

if TYPE_CHECKING:
    from jinja2 import DictLoader
from .lessons import parameters as lesson_parameters

__all__ = [
    "NOTEBOOK_DIR",
    "ReportError",
    "Report",
    "find_notebooks",
    "notebook_parameters",
    "run_parameters",
    "parse_value",
    "render",
    "to_html",
    "image_descriptions",
    "static_widgets",
    "EDITIONS",
    "run_reports",
    "shop_folder",
    "failing_exercises",
    "FAILING",
    "from_here",
    "shared_parameters",
    "report_title",
]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
#: ``instructor``: the notebooks as committed, solutions included; ``student``: the
#: student edition (exercise cells as the student sees them, every other cell as is).
EDITIONS = ("instructor", "student")
#: Kernel options for reports: the kernel's own log (e.g. its warning that a local
#: kernel talks over TCP without encryption) is not part of a report's output.
QUIET_KERNEL = ("--IPKernelApp.log_level=ERROR",)


class ReportError(CRMKitError):
    """A notebook failed while it ran; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Report:
    """Where one rendered notebook went and how long it took."""

    notebook: str
    profile: str
    lang: str
    ipynb: Path
    html: Path
    seconds: float


def find_notebooks(names: list[str] | None = None, notebook_dir: Path | None = None
                   ) -> list[Path]:
    """The notebooks called ``names`` (``01_crm_concepts``, ``01`` or a path), or all."""
    folder = Path(notebook_dir or NOTEBOOK_DIR)
    available = sorted(p for p in folder.glob("*.ipynb"))
    if not names:
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.exists():
            found.append(path)
            continue
        hits = [p for p in available if p.stem == name or p.stem.startswith(f"{name}_")]
        if len(hits) != 1:
            choices = ", ".join(p.stem for p in available) or "(none)"
            raise ParameterError(f"notebook {name!r} not found in {folder}; the notebooks "
                                 f"are: {choices}.")
        found.append(hits[0])
    return found


def notebook_parameters(notebook: str | Path) -> dict[str, Any]:
    """The parameters of a notebook (its cell tagged ``parameters``) with their defaults."""
    import papermill

    params = papermill.inspect_notebook(str(notebook))
    out = {}
    for name, spec in params.items():
        try:
            out[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            out[name] = spec["default"]
    return out


def parse_value(text: str) -> Any:
    """A command-line parameter value as Python: int, float, bool, None or text."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def run_parameters(notebook: str | Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters a run of ``notebook`` uses: its defaults updated with ``parameters``.

    Rejects names the notebook does not declare, and values its rules do not allow.

    Names come from the notebook's ``parameters`` cell; values are checked by
    :mod:`crmkit.lessons.parameters` (the rules the notebook's validation cell
    applies too), together with the defaults they combine with, so a bad value
    is refused before a kernel starts.
    """
    valid = notebook_parameters(notebook)
    for name in parameters:
        if name not in valid:
            close = difflib.get_close_matches(name, list(valid), n=1)
            maybe = f" Did you mean {close[0]!r}?" if close else ""
            raise ParameterError(
                f"{Path(notebook).stem} has no parameter {name!r}.{maybe} Its parameters "
                f"are: {', '.join(valid)}."
            )
    merged = {**valid, **parameters}
    # the notebook runs in its own folder: a relative path is read from there
    folder = Path(notebook).resolve().parent
    seen = {k: (str(folder / v) if k in _PATH_PARAMETERS and isinstance(v, str)
                and not Path(v).expanduser().is_absolute() else v)
            for k, v in merged.items()}
    try:
        lesson_parameters.check_parameters(seen)
    except ParameterError as exc:
        raise ParameterError(f"{Path(notebook).stem}: {exc}") from None
    return merged


_PATH_PARAMETERS = ("data_dir", "warehouse_dir")


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def static_widgets(nb: dict[str, Any]) -> int:
    """Replace every live widget of a notebook by its static text; return how many.

    A widget view in an HTML page needs a kernel (and a script from a CDN):
    offline it is an empty box. Its plain-text fallback says what it is, and
    the view it controls is an ordinary output that the page keeps. The
    widget state is dropped from the notebook's metadata.
    """
    n = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                data.setdefault("text/plain", "")
                n += 1
    nb.get("metadata", {}).pop("widgets", None)
    return n


def report_title(nb: dict[str, Any], shop: str | None) -> str:
    r"""The page title of a report: the notebook's first heading and the shop's name; the
    heading itself gets the shop's name too (once).

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · CRM\nGoal")])
    >>> report_title(nb, "CDNOW"), nb.cells[0].source
    ('01 · CRM · CDNOW', '# 01 · CRM · CDNOW\nGoal')
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        lines = cell["source"].split("\n")
        for i, line in enumerate(lines):
            if line.startswith("# "):
                heading = line[2:].strip()
                if shop and shop not in heading:
                    heading = f"{heading} · {shop}"
                    lines[i] = f"# {heading}"
                    cell["source"] = "\n".join(lines)
                return heading
    return shop or "crmkit"


def to_html(executed: str | Path, html: str | Path, *, no_input: bool = False,
            lang: str = "en", shop: str | None = None) -> Path:
    """Render an executed notebook to a standalone HTML page (code hidden if ``no_input``).

    The page says its language (``<html lang=...>``) and is titled with the
    notebook's heading and the ``shop``'s name (:func:`report_title`). It works
    offline: widgets are shown by their static text (:func:`static_widgets`).
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", template_file=_ALT_TEMPLATE,
                            extra_loaders=[_alt_loader()])
    exporter.exclude_input = no_input
    exporter.exclude_input_prompt = no_input
    exporter.exclude_output_prompt = no_input
    exporter.language_code = check_lang(lang)
    nb = nbformat.read(str(executed), as_version=4)
    static_widgets(nb)
    nb.metadata["title"] = report_title(nb, shop)
    body, _ = exporter.from_notebook_node(nb)
    Path(html).write_text(image_descriptions(nb, body), encoding="utf-8")
    return Path(html)


#: The "lab" HTML template with each PNG output's ``alt`` (its metadata, written by the
#: kernel: :func:`crmkit.lessons.notebook.alt_text`) on its ``<img>``: nbconvert's own lab
#: template drops it, and logs "Alternative text is missing" for every figure.
_ALT_TEMPLATE = "crmkit_lab.html.j2"
_ALT_SOURCE = """{%- extends 'index.html.j2' -%}
{% block data_png scoped %}
{%- set alttext = output | get_metadata('alt', 'image/png') -%}
{%- if alttext -%}
{{ super() | replace('<img ', '<img alt="' ~ (alttext | escape_html) ~ '" ', 1) }}
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock data_png %}
"""


def _alt_loader() -> DictLoader:
    """The Jinja loader of :data:`_ALT_TEMPLATE` (tried before nbconvert's own templates)."""
    from jinja2 import DictLoader

    return DictLoader({_ALT_TEMPLATE: _ALT_SOURCE})


def image_descriptions(nb: dict[str, Any], body: str) -> str:
    """``body`` (a notebook's HTML) with each figure's image described by its ``alt`` text.

    The kernel puts a figure's description in words (``{"alt": ...}``, see
    :func:`crmkit.lessons.notebook.alt_text`) in the metadata of its PNG output;
    the HTML exporter does not use it, so the page's images get it here, matched by
    their data. Images without one keep the exporter's.

    >>> import nbformat
    >>> out = nbformat.v4.new_output("display_data", data={"image/png": "iVBO"},
    ...                              metadata={"image/png": {"alt": "Pedidos por hora."}})
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[out])])
    >>> image_descriptions(nb, '<p><img alt="x" src="data:image/png;base64,iVBO"/></p>')
    '<p><img alt="Pedidos por hora." src="data:image/png;base64,iVBO"/></p>'
    """
    from bs4 import BeautifulSoup

    said = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            alt = out.get("metadata", {}).get("image/png", {}).get("alt")
            if png and alt:
                said["".join(png.split())] = alt
    if not said:
        return body
    soup = BeautifulSoup(body, features="html.parser")
    for img in soup.select('img[src^="data:image/png;base64,"]'):
        data = "".join(str(img["src"]).split(",", 1)[1].split())  # src has one value
        if data in said:
            img["alt"] = said[data]
    return str(soup)


def render(notebook: str | Path, *, parameters: dict[str, Any] | None = None,
           out_dir: str | Path = "reports", no_input: bool = False,
           progress: bool = True, kernel_name: str | None = None,
           edition: str = "instructor") -> Report:
    """Execute ``notebook`` with ``parameters`` and write ``.ipynb`` and ``.html``.

    The output goes to ``out_dir/<profile>/<lang>/``; the notebook run is the
    edition of ``lang`` (its Markdown in that language only). ``edition="student"``
    runs the student edition instead (solutions replaced by the stub the
    student sees, the rest of the code visible) into ``<name>.student.ipynb``
    and ``.html``. A failing cell raises :class:`ReportError` naming the
    notebook and the cell; the partly executed notebook is still written.
    """
    import tempfile

    import papermill
    from papermill.exceptions import PapermillExecutionError

    from .lessons.edition import write_edition

    check_choice("edition", edition, EDITIONS)
    notebook = Path(notebook)
    parameters = dict(parameters or {})
    if parameters.get("data_dir"):  # the notebook runs in its own folder: give it a full path
        parameters["data_dir"] = str(Path(parameters["data_dir"]).expanduser().resolve())
    full = run_parameters(notebook, parameters)
    profile = shop_folder(full)
    lang = str(full.get("lang", "en"))
    folder = Path(out_dir) / profile / lang
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".student" if edition == "student" else ""
    ipynb = folder / f"{notebook.stem}{suffix}.ipynb"
    html = ipynb.with_suffix(".html")
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="crmkit-edition-") as tmp:
            source, _ = write_edition(notebook, Path(tmp) / notebook.name, lang,
                                      student=edition == "student")
            papermill.execute_notebook(
                str(source), str(ipynb), parameters=parameters, progress_bar=progress,
                kernel_name=kernel_name or "python3", cwd=str(notebook.parent),
                language="python", extra_arguments=list(QUIET_KERNEL),
            )
    except PapermillExecutionError as exc:
        first = (exc.source or "").strip().splitlines()[:1]
        raise ReportError(
            f"notebook {notebook.stem} failed in cell {exc.cell_index} (execution count "
            f"{exc.exec_count}{': ' + first[0] if first else ''}): {exc.ename}: {exc.evalue}. "
            f"The partly executed notebook is {ipynb}."
        ) from None
    to_html(ipynb, html, no_input=no_input, lang=lang, shop=shop_name(full, lang))
    failed = failing_exercises(ipynb)
    if failed:
        raise ReportError(
            f"notebook {notebook.stem}: the solution of exercise(s) "
            f"{', '.join(f'{k} ({v})' for k, v in failed.items())} fails its own check; "
            f"the report is {html}.")
    return Report(notebook.stem, profile, lang, ipynb, html, time.perf_counter() - t0)


def shop_folder(parameters: dict[str, Any]) -> str:
    """The report folder of a run: the profile, or the slug of the shop's name for a
    dataset folder (``data_dir``), read from its manifest."""
    if parameters.get("data_dir"):
        from .dataset.crmdata import MANIFEST, read_json, slugify

        path = Path(parameters["data_dir"])
        manifest = read_json(path / MANIFEST) if path.is_dir() else {}
        return slugify(manifest.get("shop_name") or manifest.get("profile") or path.name)
    return str(parameters.get("profile", "data"))


def shop_name(parameters: dict[str, Any], lang: str = "en") -> str | None:
    """The shop's name for a report's titles: the dataset's ``shop_name``, else the
    profile's name in ``lang``.

    >>> shop_name({"profile": "boutique"}, "es")
    'Tienda de ropa local'
    """
    from .i18n import t

    if parameters.get("data_dir"):
        from .dataset.crmdata import MANIFEST, read_json

        path = Path(parameters["data_dir"])
        manifest = read_json(path / MANIFEST) if (path / MANIFEST).is_file() else {}
        return str(manifest.get("shop_name") or manifest.get("profile") or path.name)
    profile = parameters.get("profile")
    return t(f"profile.{profile}", lang) if profile in PROFILE_NAMES else None


#: Verdicts that mean a solution does not pass its own check (``missing``: a student
#: edition; ``skipped``: the shop's data lacks what the exercise needs).
FAILING = ("incorrect", "close", "wrong_shape", "invalid", "error")


def failing_exercises(executed: str | Path) -> dict[str, str]:
    """The exercises of an executed notebook whose recorded check failed, with the verdict."""
    from .lessons.figures import read_figures

    status = read_figures(executed).get("exercise_status")
    if status is None:
        return {}
    col = status["status"]
    return {str(k): str(v) for k, v in col[col.isin(FAILING)].items()}


def from_here(parameters: dict[str, Any], here: Path | None = None) -> dict[str, Any]:
    """``parameters`` with a relative folder (``data_dir``, ``warehouse_dir``) made absolute
    from ``here`` (the folder the command runs in), as a person typing it means it.

    >>> from_here({"data_dir": "my_shop", "lang": "es"}, Path("/home/ana"))["data_dir"]
    '/home/ana/my_shop'
    """
    here = Path(here) if here is not None else Path.cwd()
    return {k: (str((here / Path(v).expanduser()).resolve())
                if k in _PATH_PARAMETERS and isinstance(v, str) and v.strip()
                and not Path(v).expanduser().is_absolute() else v)
            for k, v in parameters.items()}


def shared_parameters(notebooks: list[Path], parameters: dict[str, Any]
                      ) -> dict[Path, dict[str, Any]]:
    """For a run of several notebooks, each notebook's share of ``parameters``: the ones
    it declares. A name no notebook of the run declares is refused, naming the closest.

    A single notebook gets all of them (its own check names what it lacks).
    """
    if len(notebooks) == 1:
        return {notebooks[0]: dict(parameters)}
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    for name in parameters:
        if not any(name in d for d in declared.values()):
            names = sorted({n for d in declared.values() for n in d})
            close = difflib.get_close_matches(name, names, n=1)
            maybe = f" Did you mean {close[0]!r}?" if close else ""
            raise ParameterError(
                f"no notebook of this run has a parameter {name!r}.{maybe} Their parameters "
                f"are: {', '.join(names)}.")
    return {nb: {k: v for k, v in parameters.items() if k in declared[nb]}
            for nb in notebooks}


def run_reports(names: list[str] | None, *, profiles: list[str] | None = None,
                langs: list[str] | None = None, parameters: dict[str, Any] | None = None,
                out_dir: str | Path = "reports", no_input: bool = False,
                notebook_dir: Path | None = None, progress: bool = True,
                log: Callable[[str], object] = print,
                edition: str = "instructor") -> list[Report]:

    """Render each notebook for each profile and language; check everything first."""
    check_choice("edition", edition, EDITIONS)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {str(out_dir)!r} is a file; give a folder for the "
                             "reports (it is created if missing).")
    notebooks = find_notebooks(names, notebook_dir)
    if not notebooks:
        raise ParameterError(f"no notebooks found in {notebook_dir or NOTEBOOK_DIR}.")
    parameters = from_here(parameters or {})
    given = shared_parameters(notebooks, parameters)
    languages: Sequence[str | None] = [check_lang(x) for x in langs] if langs else [None]
    if profiles and (parameters or {}).get("data_dir"):
        raise ParameterError("give either a shop profile or a dataset folder (data_dir), "
                             "not both.")
    if profiles and "all" in profiles:
        profiles = list(PROFILE_NAMES)
    plan = []
    for nb in notebooks:
        each_profile: Sequence[str | None] = profiles or [None]
        for profile in each_profile:
            for lang in languages:
                params = dict(given[nb])
                if profile is not None:
                    params["profile"] = profile
                if lang is not None:
                    params["lang"] = lang
                run_parameters(nb, params)  # every run is checked before any runs
                plan.append((nb, params))
    done = []
    for i, (nb, params) in enumerate(plan, 1):
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"
        log(f"[{i}/{len(plan)}] {nb.stem} ({shown}) ...")
        rep = render(nb, parameters=params, out_dir=out_dir, no_input=no_input,
                     progress=progress, edition=edition)
        log(f"[{i}/{len(plan)}] {nb.stem}: {rep.html} in {rep.seconds:.1f} s")
        done.append(rep)
    return done


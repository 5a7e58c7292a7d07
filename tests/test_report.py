"""`crmkit report` and `crmkit student`: parameters checked first, failures named."""

from __future__ import annotations

import json

import nbformat
import pytest

from crmkit.cli import main
from crmkit.errors import ParameterError
from crmkit.lessons.comments import comment
from crmkit.report import find_notebooks, notebook_parameters, run_parameters, run_reports


def test_notebook_parameters_are_read_from_the_tagged_cell():
    params = notebook_parameters(find_notebooks(["01"])[0])
    assert params["profile"] == "sports_shop" and params["lang"] == "en"
    assert params["data_dir"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_customer": 10}, "has no parameter 'n_customer'. Did you mean 'n_customers'?"),
        ({"colour": "red"}, "Its parameters are: profile, n_customers, seed"),
        ({"profile": "bakery"}, "profile='bakery' is not allowed"),
        ({"lang": "fr"}, "lang='fr' is not allowed"),
    ],
)
def test_bad_parameters_are_rejected_before_anything_runs(tmp_path, params, message):
    with pytest.raises(ParameterError) as err:
        run_reports(["01_crm_concepts"], parameters=params, out_dir=tmp_path)
    assert message in str(err.value)
    assert not any(tmp_path.iterdir())


def test_cli_rejects_a_mistyped_parameter_with_exit_2(tmp_path, capsys):
    code = main(["report", "01", "-p", "n_custmers", "10", "--out", str(tmp_path)])
    assert code == 2
    assert "Did you mean 'n_customers'?" in capsys.readouterr().err


def test_unknown_notebook_lists_the_available_ones():
    with pytest.raises(ParameterError, match="notebook '99' not found.*01_crm_concepts"):
        find_notebooks(["99"])


def _notebook(path, failing: bool):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    body = "raise ValueError('planted failure')" if failing else "y = x + 1"
    nb.cells = [params, nbformat.v4.new_code_cell("z = 2"), nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_failing_notebook_exits_non_zero_and_names_the_cell(tmp_path, capsys):
    nb = _notebook(tmp_path / "broken.ipynb", failing=True)
    code = main(["report", str(nb), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "notebook broken failed in cell" in err
    assert "raise ValueError('planted failure')" in err and "ValueError: planted failure" in err
    assert (tmp_path / "out" / "data" / "en" / "broken.ipynb").exists()


def test_report_writes_ipynb_and_html_and_hides_code_on_request(tmp_path):
    code = main(["report", "01_crm_concepts", "--profile", "boutique", "--lang", "es",
                 "-p", "n_customers", "150", "--out", str(tmp_path), "--no-input",
                 "--no-progress"])
    assert code == 0
    folder = tmp_path / "boutique" / "es"
    html = (folder / "01_crm_concepts.html").read_text()
    assert "Niveles de datos de clientes" in html or "Nivel" in html
    assert "BEGIN SOLUTION" not in html  # code hidden
    executed = json.loads((folder / "01_crm_concepts.ipynb").read_text())
    injected = [c for c in executed["cells"]
                if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "n_customers = 150" in "".join(injected[0]["source"])


def test_run_parameters_merges_defaults():
    full = run_parameters(find_notebooks(["01"])[0], {"lang": "es"})
    assert full["lang"] == "es" and full["profile"] == "sports_shop"


def test_student_command_strips_solutions_in_both_languages(tmp_path, capsys):
    assert main(["student", "01", "--out", str(tmp_path)]) == 0
    for lang in ("en", "es"):
        text = (tmp_path / lang / "01_crm_concepts.ipynb").read_text()
        assert "BEGIN SOLUTION" not in text and comment("placeholder", lang) in text
        assert f'lang = \\"{lang}\\"' in text  # as JSON writes it in the parameters cell
    assert "solution(s) removed" in capsys.readouterr().out

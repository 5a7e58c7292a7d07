"""benchmarks/scoreboards.py reads notebook 03's defaults and names, per question, the candidate
chosen on validation data against the best baseline (hand-made boards, known answers)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("scoreboards",
                                                  ROOT / "benchmarks" / "scoreboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_defaults_are_the_literals_of_the_parameters_cell(script, tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["n_customers = 5"]},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]},
         "source": ["profile = \"boutique\"\n", "n_customers = 1200\n", "seed = 42\n",
                    "holdout_days = None  # a comment\n"]},
    ]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert script.notebook_parameters(path) == {"profile": "boutique", "n_customers": 1200,
                                                "seed": 42, "holdout_days": None}
    # the notebook itself: the sizes its text and the closing note quote
    real = script.notebook_parameters()
    assert (real["n_customers"], real["seed"], real["start"], real["end"]) == (
        1200, 42, "2023-01-01", "2025-12-31")


def _block(rows):
    cols = ["measure", "kind", "score", "chosen", "verdict", "diff_low", "diff_high"]
    board = pd.DataFrame(rows, columns=["question", "method", *cols]).set_index(
        ["question", "method"])
    return board.assign(score_low=board["score"] - 0.01, score_high=board["score"] + 0.01,
                        difference=(board["diff_low"] + board["diff_high"]) / 2)


def test_each_question_names_the_chosen_candidate_and_the_best_baseline(script):
    board = _block([
        ("repurchase", "logistic", "auc", "model", 0.74, False, "worse", -0.05, -0.01),
        ("repurchase", "boosting", "auc", "model", 0.72, True, "worse", -0.08, -0.03),
        ("repurchase", "recency_rule", "auc", "baseline", 0.75, False, "baseline", np.nan,
         np.nan),
        ("repurchase", "bgnbd_expected", "auc", "baseline", 0.77, False, "best_baseline",
         np.nan, np.nan),
        ("sales", "ets", "mae", "model", 1602.5, True, "no_better", -1078.6, 1116.6),
        ("sales", "seasonal_naive", "mae", "baseline", 1626.2, False, "best_baseline", np.nan,
         np.nan),
    ])
    rows = script.verdict_rows("shop", board)
    # the chosen one (boosting), not the higher-scoring logistic model
    assert [(r["question"], r["chosen"], r["best_baseline"], r["verdict"]) for r in rows] == [
        ("repurchase", "boosting", "bgnbd_expected", "worse"),
        ("sales", "ets", "seasonal_naive", "no_better")]
    assert rows[0]["score"] == 0.72 and rows[0]["baseline_score"] == 0.77
    lines = script.board_markdown(board)
    assert len(lines) == 2 + len(board)
    assert "| repurchase (auc) | boosting | model | 0.720 |" in lines[3]
    assert lines[3].endswith("| yes | worse |") and lines[4].endswith("|  | baseline |")

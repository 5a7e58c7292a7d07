"""Each kind of failure is its own exception class, and callers decide by class, never by text."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from crmkit.analytics import clv
from crmkit.analytics.clusters import CustomerClusters
from crmkit.analytics.clv import (
    BetaGeo,
    CappedBetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    NonConvergenceError,
    NotIdentifiedError,
    ParetoNBD,
)
from crmkit.analytics.forecast import FactorForecaster, SalesForecaster
from crmkit.errors import ModelError, NotFittedError, ParameterError, check_fitted
from crmkit.lessons.lesson02 import sql_answer
from crmkit.warehouse.connection import InvalidSQLError, NotOneSelectError, one_statement

SUMMARY = pd.DataFrame({"frequency": [0, 2, 5, 1], "recency": [0.0, 10.0, 30.0, 4.0],
                        "T": [40.0, 38.0, 35.0, 20.0], "monetary_value": [0.0, 12.0, 20.0, 8.0]})
MONTHS = pd.date_range("2022-01-01", periods=24, freq="MS")


# ------------------------------------------------------------------ check_fitted
class _Fits:
    def fit(self):
        self.a_, self.b_ = 1, 2
        return self


def test_check_fitted_needs_every_attribute():
    fitted = _Fits().fit()
    check_fitted(fitted, ("a_", "b_"))
    check_fitted(fitted, "a_")
    half = _Fits()
    half.a_ = 1                           # fit stopped half way: still not fitted
    with pytest.raises(NotFittedError, match="_Fits model is not fitted yet"):
        check_fitted(half, ("a_", "b_"))
    with pytest.raises(ParameterError):
        check_fitted(fitted, ())          # no names would pass anything: refused


def test_not_fitted_is_a_model_error():
    assert issubclass(NotFittedError, ModelError) and issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("ask", [
    lambda: BetaGeo().probability_alive(SUMMARY),
    lambda: BetaGeo().expected_purchases(SUMMARY, 10),
    lambda: ModifiedBetaGeo().probability_alive(SUMMARY),
    lambda: ParetoNBD().expected_purchases(SUMMARY, 10),
    lambda: CappedBetaGeo().log_likelihood(SUMMARY),
    lambda: GammaGamma().expected_spend(SUMMARY),
    lambda: GammaGamma().mean_spend(),
    lambda: CustomerClusters().describe(),
    lambda: SalesForecaster().predict(3),
    lambda: FactorForecaster(use_factor=False).predict(3),
], ids=["bg_alive", "bg_expected", "mbg", "pareto", "capped", "gg_spend", "gg_mean_spend",
        "clusters", "ets", "factor"])
def test_every_estimator_refuses_before_fit(ask):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ask()


def test_fitted_estimators_answer_after_fit():
    gg = GammaGamma().fit(pd.DataFrame({"frequency": [1, 2, 3, 4, 2, 1],
                                        "monetary_value": [10.0, 14.0, 9.0, 30.0, 22.0, 5.0]}))
    p, q, v = gg.params_["p"], gg.params_["q"], gg.params_["v"]
    assert gg.mean_spend() == pytest.approx(p * v / (q - 1))
    y = pd.Series(100.0 + np.arange(24), MONTHS)
    assert len(SalesForecaster(seasonal="none").fit(y).predict(3)) == 3


# ------------------------------------------------------------------ model failures by class
def test_capped_fit_decides_by_the_error_class_not_its_words(monkeypatch):
    """Words that say 'infinity' with direction 'zero' are re-raised; the reverse is capped."""
    def runs_to_zero_but_says_infinity(self, X, y=None):
        raise NotIdentifiedError("a runs off to infinity", model="BG/NBD", parameter="a",
                                 direction="zero")

    monkeypatch.setattr(BetaGeo, "fit", runs_to_zero_but_says_infinity)
    with pytest.raises(NotIdentifiedError) as err:
        CappedBetaGeo().fit(SUMMARY)
    assert err.value.direction == "zero"

    def runs_to_infinity_in_other_words(self, X, y=None):
        raise NotIdentifiedError("a grows without bound", model="BG/NBD", parameter="a",
                                 direction="infinity")

    monkeypatch.setattr(BetaGeo, "fit", runs_to_infinity_in_other_words)
    capped = CappedBetaGeo(cap=4.0).fit(SUMMARY)
    assert capped.capped_ and np.all(np.abs(np.log(list(capped.params_.values()))) <= 4.0 + 1e-9)


def test_a_likelihood_infinite_everywhere_is_a_non_convergence_error():
    def nowhere_finite(logp):
        return np.inf, np.zeros_like(logp)

    with pytest.raises(NonConvergenceError, match="not finite"):
        clv._maximise(nowhere_finite, np.zeros(2), "test model")
    assert issubclass(NonConvergenceError, ModelError)


# ------------------------------------------------------------------ SQL text
@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "CREATE TABLE t (x INT)", "   "])
def test_not_one_select_is_its_own_class(sql):
    with pytest.raises(NotOneSelectError):
        one_statement(duckdb.connect(), sql)


def test_sql_that_does_not_parse_is_its_own_class():
    with pytest.raises(InvalidSQLError, match="not valid SQL"):
        one_statement(duckdb.connect(), "SELEC 1")
    assert not issubclass(InvalidSQLError, NotOneSelectError)


def test_a_learners_second_statement_is_refused_in_their_language_by_the_same_check():
    con = duckdb.connect(config={"enable_external_access": False})
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(NotOneSelectError, match="ejecuta una sola consulta"):
        sql_answer(con, "SELECT 1; DROP TABLE t", "es")
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)   # the DROP never ran
    with pytest.raises(duckdb.ParserException):   # a typo: DuckDB's own words say where
        sql_answer(con, "SELEC x FROM t", "en")
    assert sql_answer(con, "SELECT x FROM t") == 1

"""Notebook 03's scoreboard for each default shop and CDNOW: every model beside its baselines.

For each shop this runs what notebook 03 runs, with the notebook's own default
parameters (read from its ``parameters`` cell: 1,200 customers, seed 42,
2023-2025, the holdout the shop's history supports) and the same calls
(:func:`crmkit.lessons.mining.attempt` of the repurchase, purchase-model,
basket and forecast sections, then :func:`crmkit.lessons.mining.scoreboard`),
and prints, as Markdown:

* the purchase model chosen on the validation window inside the calibration
  period (and the candidates that do not fit the shop, with why), and the
  repurchase model chosen on a validation quarter of the training customers;
* the whole scoreboard: every candidate and every baseline of each question,
  scored on the holdout, with the 95 % bootstrap interval of the score and of
  the difference from the best baseline, which one was chosen, and the verdict
  (``beats`` / ``no_better`` / ``worse`` than the best baseline, ``chance``);
* P(alive) of the chosen purchase model against the recency rule, by AUC on the
  generator's truth (synthetic shops only);
* the sales forecast's MASE against naive and seasonal naive on the holdout
  months (one scale for the three, so the order is the order of their MAE).

A closing table gives one line per shop and question, and the counts the
issue asks for. CDNOW is the full order log (``data/real/cdnow``) imported as
a shop folder with ``crmkit import orders``, as its notebook test does.
Notebook 04 fits no predictive model (its judged figures are campaign effects
against their control groups and KPIs against their targets), so it has no
scoreboard to print.

    python benchmarks/scoreboards.py                          # six shops + CDNOW
    python benchmarks/scoreboards.py --profiles boutique --no-cdnow
    python benchmarks/scoreboards.py --customers 400 --seed 7 # the notebook tests' size
"""

from __future__ import annotations

import argparse
import ast
import json
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_mining.ipynb"
CDNOW_LOG = ROOT / "data" / "real" / "cdnow" / "CDNOW_master.txt"
QUESTIONS = ("repurchase", "purchases", "spend", "alive", "sales", "rules")


def notebook_parameters(path: Path = NOTEBOOK) -> dict:
    """The literal defaults of the notebook's cell tagged ``parameters``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    out = {}
    for node in ast.parse("".join(cell["source"])).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def fmt(value: float) -> str:
    if pd.isna(value):
        return "-"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def run_shop(data, *, seed: int, holdout_days: int | None) -> dict:
    """What notebook 03 fits and scores for ``data``, with the reasons of the sections it skips."""
    from crmkit.lessons import lesson03 as m03
    from crmkit.lessons import mining

    split, how = m03.choose_split(data, holdout_days)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repurchase, why_r = mining.attempt("repurchase", mining.repurchase_check, data, split,
                                           seed=seed)
        value, why_v = mining.attempt("value", mining.value_models, data, split)
        rules, why_b = mining.attempt("baskets", mining.basket_check, data, split)
        if rules is not None and rules.empty:
            rules, why_b = None, "no rules"
        fc, why_f = mining.attempt("forecast", mining.forecast_check, data, split)
    forecast_scores, forecasts = fc if fc is not None else (None, None)
    board = mining.scoreboard(value=value, repurchase=repurchase, forecasts=forecasts,
                              rules=rules)
    skipped = {k: v for k, v in (("repurchase", why_r), ("value", why_v), ("baskets", why_b),
                                 ("forecast", why_f)) if v}
    return {"split": split, "how": how, "repurchase": repurchase, "value": value,
            "forecast_scores": forecast_scores, "board": board, "skipped": skipped}


def board_markdown(board: pd.DataFrame) -> list[str]:
    lines = ["| question | method | kind | score | 95 % interval | minus best baseline | "
             "95 % interval | chosen | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for (q, m), r in board.iterrows():
        diff = "" if r["kind"] == "baseline" else fmt(r["difference"])
        dint = "" if r["kind"] == "baseline" else f"{fmt(r['diff_low'])} to {fmt(r['diff_high'])}"
        lines.append(f"| {q} ({r['measure']}) | {m} | {r['kind']} | {fmt(r['score'])} | "
                     f"{fmt(r['score_low'])} to {fmt(r['score_high'])} | {diff} | {dint} | "
                     f"{'yes' if r['chosen'] else ''} | {r['verdict']} |")
    return lines


def verdict_rows(name: str, board: pd.DataFrame) -> list[dict]:
    """One row per question: the candidate chosen on validation data against the best baseline."""
    rows = []
    for q in [q for q in QUESTIONS if q in board.index.get_level_values(0)]:
        block = board.loc[q]
        models = block[block["kind"] == "model"]
        pick = models[models["chosen"]] if models["chosen"].any() else models
        m, r = pick.index[0], pick.iloc[0]
        best = block.index[block["verdict"] == "best_baseline"][0]
        rows.append({"shop": name, "question": q, "measure": r["measure"], "chosen": m,
                     "score": r["score"], "best_baseline": best,
                     "baseline_score": block.loc[best, "score"],
                     "diff_low": r["diff_low"], "diff_high": r["diff_high"],
                     "verdict": r["verdict"]})
    return rows


def report_shop(name: str, title: str, result: dict) -> list[dict]:
    split, board = result["split"], result["board"]
    print(f"\n### {name}\n\n{title}; calibration {split.start.date()} to {split.cutoff.date()}, "
          f"holdout {split.holdout_days} days to {split.end.date()} ({result['how']}).\n")
    for section, why in result["skipped"].items():
        print(f"- section `{section}` skipped: {why}")
    value, rep = result["value"], result["repurchase"]
    if value is not None:
        c = value.choice
        print(f"- purchase model chosen on the last {int(c.validation_days)} days before the "
              f"cutoff: **{c.chosen}** ({c.why}); validation MAE "
              + ", ".join(f"{k} {fmt(v)}" for k, v in c.table["mae"].dropna().items()))
        for key, row in c.table.iterrows():
            if row["status"] in ("does_not_fit", "failed"):
                print(f"- {key} {row['status']}: {row['reason']}")
    if rep is not None:
        a = rep.scores.attrs
        print(f"- repurchase model chosen on a validation quarter of the training customers: "
              f"**{a['chosen']}** (validation AUC "
              + ", ".join(f"{k} {v:.3f}" for k, v in a.get("validation_auc", {}).items())
              + f"); test customers {a['test_customers']:,}, base rate {a['base_rate']:.3f}")
    if "alive" in board.index.get_level_values(0):
        alive = board.loc["alive"]
        chosen = alive.index[alive["chosen"]][0] if alive["chosen"].any() else None
        if chosen is not None:
            print(f"- P(alive) against the generator's truth: {chosen} AUC "
                  f"{alive.loc[chosen, 'score']:.3f} vs recency rule "
                  f"{alive.loc['recency_rule', 'score']:.3f} (difference "
                  f"{fmt(alive.loc[chosen, 'diff_low'])} to {fmt(alive.loc[chosen, 'diff_high'])}"
                  f"): **{alive.loc[chosen, 'verdict']}**")
    fs = result["forecast_scores"]
    if fs is not None:
        spec = fs.attrs.get("spec", {})
        print(f"- forecast (ETS {spec.get('error')}/"
              f"{'damped ' if spec.get('damped') else ''}{spec.get('trend')}/"
              f"{spec.get('seasonal')}): MASE "
              + ", ".join(f"{m} {fs.loc[m, 'mase']:.3f}" for m in fs.index)
              + ("; no worse than seasonal naive"
                 if "seasonal_naive" in fs.index
                 and fs.loc["ets", "mase"] <= fs.loc["seasonal_naive", "mase"]
                 else "; WORSE than seasonal naive" if "seasonal_naive" in fs.index else ""))
    print()
    print("\n".join(board_markdown(board)) if len(board) else "(no scoreboard)")
    return verdict_rows(name, board)


def cdnow_shop(folder: Path):
    """The CDNOW master log imported as a shop folder, as notebook 03's CDNOW test does."""
    import contextlib
    import io

    from crmkit.cli import main
    from crmkit.dataset.crmdata import CRMData

    shop = folder / "cdnow"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["import", "orders", str(CDNOW_LOG), "--customer", "customer_id", "--date",
                     "date", "--quantity", "number_of_cds", "--amount", "dollar_value",
                     "--date-format", "%Y%m%d", "--currency", "USD", "--timezone",
                     "America/New_York", "--shop-name", "CDNOW", "--out", str(shop)])
    if code != 0:
        raise SystemExit(f"importing {CDNOW_LOG} failed ({code})")
    return CRMData.load(shop)


def summary(rows: list[dict], shops: list[str]) -> None:
    print("\n### All shops: the chosen candidate against the best baseline\n")
    print("| shop | question | chosen | score | best baseline | score | difference, 95 % | "
          "verdict |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['shop']} | {r['question']} ({r['measure']}) | {r['chosen']} | "
              f"{fmt(r['score'])} | {r['best_baseline']} | {fmt(r['baseline_score'])} | "
              f"{fmt(r['diff_low'])} to {fmt(r['diff_high'])} | {r['verdict']} |")
    frame = pd.DataFrame(rows)
    print()
    for q in QUESTIONS:
        sub = frame[frame["question"] == q]
        if len(sub):
            counts = sub["verdict"].value_counts().to_dict()
            print(f"- {q}: " + ", ".join(f"{v} {n}" for v, n in counts.items())
                  + f" (of {len(sub)} shops)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", nargs="*", default=None,
                    help="shops to run (default: the six profiles)")
    ap.add_argument("--customers", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--no-cdnow", action="store_true")
    args = ap.parse_args(argv)

    from crmkit.dataset.profiles import PROFILE_NAMES
    from crmkit.dataset.synth import generate

    p = notebook_parameters()
    n = args.customers or p["n_customers"]
    seed = p["seed"] if args.seed is None else args.seed
    print(f"Notebook 03's scoreboards: {n:,} customers, seed {seed}, {p['start']} to {p['end']}, "
          f"holdout_days={p['holdout_days']} (`python benchmarks/scoreboards.py`).")
    rows, names, forecasts = [], [], []
    for profile in args.profiles or PROFILE_NAMES:
        t0 = time.perf_counter()
        data = generate(profile, n_customers=n, seed=seed, start=p["start"], end=p["end"])
        result = run_shop(data, seed=seed, holdout_days=p["holdout_days"])
        rows += report_shop(profile, f"{n:,} customers, seed {seed}", result)
        names.append(profile)
        if result["forecast_scores"] is not None:
            forecasts.append((profile, result["forecast_scores"]))
        print(f"\n({time.perf_counter() - t0:.1f} s)")
    if not args.no_cdnow:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="scoreboards_") as tmp:
            data = cdnow_shop(Path(tmp))
            result = run_shop(data, seed=p["seed"], holdout_days=p["holdout_days"])
        rows += report_shop("cdnow", "CDNOW master log, 23,570 customers, no generator's "
                            "truth", result)
        names.append("cdnow")
        print(f"\n({time.perf_counter() - t0:.1f} s)")
    summary(rows, names)
    held = [s for s, f in forecasts if "seasonal_naive" in f.index
            and f.loc["ets", "mase"] <= f.loc["seasonal_naive", "mase"]]
    print(f"- forecast no worse than seasonal naive in MASE: {len(held)} of {len(forecasts)} "
          f"synthetic shops ({', '.join(held) or 'none'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

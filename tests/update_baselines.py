"""Rewrite the baselines of headline figures after an intended change.

    .venv/bin/python tests/update_baselines.py 01_crm_concepts

Runs the notebook for every profile at the test size (English) and stores
its recorded figures in tests/baselines/<notebook>.json. Review the diff
before committing: every changed number should have a reason.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notebook_runs import TEST_PARAMETERS, baseline_path, run  # noqa: E402

from crmkit.dataset.profiles import PROFILE_NAMES  # noqa: E402

SKIP = {"exercise_status"}  # checked on its own, not a figure of the shop


def _encode(value):
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="split"))
    return value


def main(stems: list[str]) -> None:
    for stem in stems:
        result = {}
        with tempfile.TemporaryDirectory() as tmp:
            for profile in PROFILE_NAMES:
                figs = run(f"{stem}.ipynb", Path(tmp) / f"{profile}.ipynb", profile=profile,
                           lang="en", **TEST_PARAMETERS)
                result[profile] = {k: _encode(v) for k, v in figs.items() if k not in SKIP}
                print(f"{stem} {profile}: {len(result[profile])} figures")
        baseline_path(stem).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:] or ["01_crm_concepts"])

"""Every concept of the course texts has a notebook section that teaches it on data and an
exercise that checks it, and docs/coverage.md is the table those tags generate."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from crmkit.lessons import coverage, lesson01, lesson02, lesson03, lesson04

ROOT = Path(__file__).resolve().parents[1]
#: The course texts live beside the repository (../shared/seeds), when they are there at all.
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parents[1] / "shared" / "seeds")
              if p.is_dir()), ROOT / "missing")
LESSONS = {"01": lesson01, "02": lesson02, "03": lesson03, "04": lesson04}


def test_every_concept_has_a_section_and_an_exercise():
    problems = coverage.missing(coverage.coverage(ROOT), coverage.concepts())
    assert problems == {"no_section": [], "no_exercise": [], "unknown_tag": []}


def test_the_concepts_the_course_texts_lacked_on_data_are_listed():
    ids = {c["id"] for c in coverage.concepts()}
    assert {"agenda_tasks", "internal_communication", "potential_customers",
            "business_intelligence", "marketing_1x1", "keyword_alerts", "seo", "search_trends",
            "social_listening", "influencers", "surveys", "social_sharing", "analyse_new_plan",
            "forecast_budget", "forecast_sector", "forecast_economy", "newsletter_subscribers",
            "actividad_65_shops", "crm_management_model", "crm_outsourcing",
            "luxury_promotions", "customised_products", "store_footfall",
            "till_conversion"} <= ids
    assert len(ids) == len(coverage.concepts()), "a concept id is listed twice"


def test_a_concept_whose_section_loses_its_tag_is_reported():
    cells = json.loads((ROOT / "notebooks" / "04_case_bendita.ipynb").read_text("utf-8"))["cells"]
    stripped = copy.deepcopy(cells)
    for c in stripped:
        tags = c["metadata"].get("concepts", [])
        if "surveys" in tags:
            tags.remove("surveys")
    found = coverage.notebook_coverage("04", stripped)
    problems = coverage.missing(found, [{"id": "surveys"}, {"id": "footfall"}])
    assert problems["no_section"] == ["surveys"] and problems["no_exercise"] == ["surveys"]


def test_every_exercise_the_table_names_is_checked_by_its_lesson():
    for concept, found in coverage.coverage(ROOT).items():
        for item in found["exercises"]:
            nn, name = re.match(r"(\d\d): \d+ `(\w+)`", item).groups()
            assert name in {e.name for e in LESSONS[nn].EXERCISES}, (concept, item)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the course texts are not beside the repository")
def test_each_passage_is_in_its_course_text():
    texts = {p.name[:3]: p.read_text("utf-8", errors="replace") for p in SEEDS.glob("*.txt")}

    def plain(s):  # text 004 lost its accents to '?': compare letters without them
        s = re.sub(r"[?áéíóúñü\ufffd]", "", s.lower())
        return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", s))

    for c in coverage.concepts():
        text = plain(texts[c["text"][:3]])
        for part in c["passage"].split(" ... "):
            assert plain(part) in text, (c["id"], part)


def test_the_committed_table_is_what_the_notebooks_generate():
    committed = (ROOT / "docs" / "coverage.md").read_text("utf-8")
    assert committed == coverage.render(ROOT), (
        "docs/coverage.md is out of date: run python -m crmkit.lessons.coverage")

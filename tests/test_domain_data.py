"""Domain facts (categories, severities, urgent and graded categories, case rules) come from the data file only."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qualpipe.data import data_path, read_yaml
from qualpipe.flagging.case_rules import DatedFlags, apply_case_rules
from qualpipe.flagging.flagger import ConcernFlagger, Flag
from qualpipe.flagging.lexicon import load_lexicon
from qualpipe.text.nlp import load_nlp

PACKAGE = Path(__file__).resolve().parents[1] / "qualpipe"


def edited_lexicon_file(tmp_path: Path) -> Path:
    """A copy of concerns.da.yaml with a new urgent category, konflikt urgent instead of vold_overgreb,
    a severity above urgent, and the cancellation rule moved to konflikt with a shorter window."""
    data = read_yaml("concerns.da.yaml")
    data["severities"] = [*data["severities"], "kritisk"]
    data["categories"]["vold_overgreb"]["urgent"] = False
    data["categories"]["konflikt"]["urgent"] = True
    data["categories"]["skolefravaer"] = {"label": "Skolefravær", "severity": "high", "urgent": True, "graded": True,
                                          "patterns": [{"pattern": [{"LOWER": "pjækkede"}]}]}
    data["case_rules"]["cancellations"].update(category="konflikt", within_days=14)
    path = tmp_path / "concerns.da.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_packaged_lexicon_reports_what_its_data_file_says():
    raw = yaml.safe_load(data_path("concerns.da.yaml").read_text(encoding="utf-8"))
    lexicon = load_lexicon()
    assert lexicon.category_ids == tuple(raw["categories"])
    assert lexicon.severities == tuple(raw["severities"])
    assert lexicon.urgent_categories == tuple(c for c, spec in raw["categories"].items() if spec.get("urgent"))
    assert lexicon.graded_categories == tuple(c for c, spec in raw["categories"].items() if spec.get("graded"))
    assert lexicon.cancellation_category == raw["case_rules"]["cancellations"]["category"]
    assert lexicon.case_rules.worsening.last_entries == raw["case_rules"]["worsening"]["last_entries"]


def test_an_edited_lexicon_file_changes_categories_severities_urgency_and_case_rules(tmp_path):
    lexicon = load_lexicon(edited_lexicon_file(tmp_path))
    assert lexicon.category_ids[-1] == "skolefravaer"
    assert lexicon.urgent_categories == ("selvskade", "konflikt", "skolefravaer")
    assert "skolefravaer" in lexicon.graded_categories
    assert lexicon.severities_from("urgent") == ("urgent", "kritisk")
    assert lexicon.cancellation_category == "konflikt" and lexicon.case_rules.cancellations.within_days == 14


def test_case_rules_follow_the_lexicon_they_are_given(tmp_path):
    lexicon = load_lexicon(edited_lexicon_file(tmp_path))

    def entry(key, date, category):
        return DatedFlags(key, "K1", date, (Flag(category, "watch", "x", 0, 1, "pattern 'x'"),))

    three_weeks = [entry(1, "2024-01-01", "konflikt"), entry(2, "2024-01-20", "konflikt")]
    assert [e.flags[0].severity for e in apply_case_rules(three_weeks)] == ["watch", "watch"]  # konflikt: no rule
    assert [e.flags[0].severity for e in apply_case_rules(three_weeks, lexicon)] == ["watch", "watch"]  # > 14 days
    ten_days = [entry(1, "2024-01-01", "konflikt"), entry(2, "2024-01-11", "konflikt")]
    assert [e.flags[0].severity for e in apply_case_rules(ten_days, lexicon)] == ["watch", "high"]


def test_the_watch_rule_is_data_an_older_file_without_it_keeps_the_default_and_a_bad_one_is_named(tmp_path):
    from qualpipe.errors import UserError
    from qualpipe.flagging.lexicon import WatchRule

    data = read_yaml("concerns.da.yaml")
    assert load_lexicon().case_rules.watch == WatchRule(**data["case_rules"]["watch"])
    path = tmp_path / "concerns.da.yaml"
    for watch, expected in (({"within_days": 28, "check_scale": 0.5}, WatchRule(28, 0.5)), (None, WatchRule())):
        edited = {**data, "case_rules": {**data["case_rules"], "watch": watch}}
        if watch is None:
            del edited["case_rules"]["watch"]
        path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
        assert load_lexicon(path).case_rules.watch == expected
    path.write_text(yaml.safe_dump({**data, "case_rules": {**data["case_rules"], "watch": {"within_days": 28,
                                   "check_scale": 0}}}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UserError, match=r"concerns\.da\.yaml: case rule 'watch' needs"):
        load_lexicon(path)


def test_the_flagger_makes_the_data_files_urgent_categories_urgent(tmp_path):
    text = "Far og mor skændtes igen, og han pjækkede fra skole."
    packaged = ConcernFlagger(load_nlp(""), None)
    edited = ConcernFlagger(load_nlp(""), None, lexicon=load_lexicon(edited_lexicon_file(tmp_path)))
    before = {f.category: f.severity for f in packaged.flag_entries([text])[0]}
    after = {f.category: f.severity for f in edited.flag_entries([text])[0]}
    assert before.get("konflikt") == "high" and "skolefravaer" not in before
    assert after.get("konflikt") == "urgent" and after.get("skolefravaer") == "urgent"


def test_a_copy_of_the_package_with_an_edited_data_file_reports_the_edited_facts(tmp_path):
    """The packaged default (what the digest, reports and CLI read) is the data file, not a list in code."""
    copy = tmp_path / "site" / "qualpipe"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    shutil.copyfile(edited_lexicon_file(tmp_path), copy / "data" / "concerns.da.yaml")
    script = ("import json; from qualpipe.flagging.lexicon import load_lexicon, severity_rank; l = load_lexicon(); "
              "print(json.dumps([l.category_ids, l.urgent_categories, l.cancellation_category, "
              "severity_rank('kritisk')]))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(copy.parent)},
                         capture_output=True, text=True, check=True).stdout
    categories, urgent, cancellation, rank = json.loads(out)
    assert categories[-1] == "skolefravaer" and urgent == ["selvskade", "konflikt", "skolefravaer"]
    assert cancellation == "konflikt" and rank == 3


def category_literals(source: str, categories) -> list[tuple[int, str]]:
    """(line, text) of every string constant in `source` naming a category as a whole word; docstrings
    are allowed (they may explain a rule by its example)."""
    word = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, categories)) + r")(?!\w)")
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and word.search(node.value)]


def test_the_literal_check_finds_category_ids_in_code_but_not_in_docstrings():
    source = ('"""Rule 8: mistrivsel beside violence."""\n'
              'URGENT = ("vold_overgreb", "selvskade")\n'
              'SQL = "SELECT 1 FROM alerts WHERE category = \'aflysning\'"\n'
              'LABEL = "aflysninger"\n')
    assert sorted(line for line, _ in category_literals(source, load_lexicon().category_ids)) == [2, 2, 3]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "data")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_writes_a_category_id_as_a_string_literal(path):
    found = category_literals(path.read_text(encoding="utf-8"), load_lexicon().category_ids)
    assert not found, f"{path.name}: category ids belong in qualpipe/data/concerns.da.yaml, not code: {found}"

"""Case-level rules: severity rises with the case's history."""

from __future__ import annotations

from qualpipe.flagging.case_rules import DatedFlags, apply_case_rules
from qualpipe.flagging.flagger import Flag


def entry(key, date, *categories, case="K1"):
    return DatedFlags(key, case, date, tuple(Flag(c, "watch", "x", 0, 1, "pattern 'x'") for c in categories))


def severities(result):
    return [[f.severity for f in e.flags] for e in result]


def test_two_cancellations_within_four_weeks_become_high():
    result = apply_case_rules([entry(1, "2024-01-01", "aflysning"), entry(2, "2024-01-20", "aflysning"),
                               entry(3, "2024-03-20", "aflysning")])
    assert severities(result) == [["watch"], ["high"], ["watch"]]
    assert "case rule: 2 cancellations within 4 weeks" in result[1].flags[0].fired_by


def test_cancellations_in_other_cases_do_not_count():
    result = apply_case_rules(
        [entry(1, "2024-01-01", "aflysning", case="A"), entry(2, "2024-01-08", "aflysning", case="B")]
    )
    assert severities(result) == [["watch"], ["watch"]]


def test_a_worsening_run_of_wellbeing_concerns_becomes_high_in_date_order():
    entries = [entry(3, "2024-01-15", "mistrivsel"), entry(1, "2024-01-01", "mistrivsel"), entry(2, "2024-01-08")]
    assert severities(apply_case_rules(entries)) == [["high"], ["watch"], []]

"""The browser check's accessibility part, without a browser: axe-core's script and how its
results become a page's failures and summary line."""

from __future__ import annotations

import json
import re

import pytest

from wbbook import browser_check

#: A trimmed axe-core result (``results.violations`` as START_AXE keeps it).
RESULTS = {
    "version": "4.12.1",
    "violations": [
        {
            "id": "color-contrast",
            "impact": "serious",
            "help": "Elements must meet minimum color contrast ratio thresholds",
            "nodes": [
                {
                    "target": ["section > p > .reference.internal > .doc"],
                    "impact": "serious",
                }
            ],
        },
        {
            "id": "region",
            "impact": "moderate",
            "help": "All page content should be contained by landmarks",
            "nodes": [{"target": [".sidebar-primary-item"], "impact": "moderate"}],
        },
        {
            "id": "aria-required-children",
            "impact": "critical",
            "help": "Certain ARIA roles must contain particular children",
            "nodes": [
                {"target": [".citation-list"], "impact": "critical"},
                {"target": ["#frame", "div.inside-a-frame"], "impact": "critical"},
            ],
        },
        {
            "id": "empty-table-header",
            "impact": "minor",
            "nodes": [{"target": ["th"]}, {"target": ["th"]}],
        },
    ],
}


def test_serious_and_critical_violations_fail_one_line_per_rule():
    failures, _ = browser_check.axe_report(RESULTS)
    assert failures == [
        "axe color-contrast (serious): 1 node, e.g. section > p > .reference.internal > .doc"
        " \u2014 Elements must meet minimum color contrast ratio thresholds",
        "axe aria-required-children (critical): 2 nodes, e.g. .citation-list"
        " \u2014 Certain ARIA roles must contain particular children",
    ]


def test_summary_counts_severe_and_other_violations():
    _, summary = browser_check.axe_report(RESULTS)
    assert summary == (
        "axe: 2 serious/critical (color-contrast \u00d71, aria-required-children \u00d72),"
        " 2 moderate/minor (region \u00d71, empty-table-header \u00d72)"
    )


def test_a_clean_page_passes():
    assert browser_check.axe_report({"violations": []}) == (
        [],
        "axe: 0 serious/critical, 0 moderate/minor",
    )
    failures, summary = browser_check.axe_report(
        {"violations": RESULTS["violations"][1:2]}
    )
    assert (
        failures == []
        and summary == "axe: 0 serious/critical, 1 moderate/minor (region \u00d71)"
    )


def test_selector_is_short_and_joins_frames():
    assert (
        browser_check._selector(["#frame", "div.inside-a-frame"])
        == "#frame >> div.inside-a-frame"
    )
    assert browser_check._selector([["#host", "span"]]) == "#host span"  # shadow DOM
    long = browser_check._selector(["div > " * 40 + "p"])
    assert len(long) == 80 and long.endswith("\u2026")


def test_axe_core_comes_from_the_pinned_npm_package(tmp_path):
    root = browser_check.Path(__file__).resolve().parents[1]
    pinned = json.loads((root / "package.json").read_text())["devDependencies"][
        "axe-core"
    ]
    locked = json.loads((root / "package-lock.json").read_text())["packages"][
        "node_modules/axe-core"
    ]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned) and locked["version"] == pinned
    if browser_check.AXE_FILE.is_file():  # after `npm ci`
        assert browser_check.axe_script().startswith(f"/*! axe v{pinned}")
    with pytest.raises(SystemExit, match="npm ci"):
        browser_check.axe_script(tmp_path / "axe.min.js")


def test_the_default_rules_run():
    # no rule is switched off, and no runOnly narrows the set: axe-core's defaults, and
    # Label in Name, which axe still counts as experimental
    options = browser_check.AXE_OPTIONS
    assert (
        options["rules"] == {"label-content-name-mismatch": {"enabled": True}}
        and "runOnly" not in options
    )
    assert options["preload"] == {
        "assets": ["media"]
    }  # the CSSOM only feeds an experimental rule

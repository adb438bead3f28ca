"""Stage `gate`: apply conf/gate rules to metrics/eval.json; write the verdict, the PR report and a chart.

    tuneloop gate            # -> metrics/gate.json, metrics/summary.json, reports/gate.md, reports/gate.png
                             #    (never fails itself)
    tuneloop gate --check    # exit 1 if metrics/gate.json says the gate failed (what CI runs)

Rule kinds (one key each, besides `metric`), each with its direction:
  min           candidate >= value                                   absolute floor
  min_delta     candidate - base >= value                            budget against the base
  non_inferior  one-sided 95% paired-bootstrap lower bound of candidate - champion >= -value
                (not computed without a champion: skipped)
  max           candidate <= value                                   e.g. leaks.canary: 0
  max_drop      base - candidate <= value on the general-ability slice
The contamination guard (reports/contamination.json) and the critical items always gate: a critical
probe or case (`critical: true`) the base or champion passes and the candidate fails blocks on its own. A rule whose metric was not computed
is skipped, and a skipped rule blocks unless the gate file marks it `optional: <why>`: nothing passes by
not running, and the headline counts passed, failed and skipped apart.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.gate.render import render_report, write_chart
from tuneloop.gate.rules import contamination_verdict, counts, critical_verdict, evaluate_rule
from tuneloop.gate.summary import build_summary
from tuneloop.io import read_json, write_json, write_text_atomic

log = logging.getLogger(__name__)

EVAL_FILE = paths.EVAL_METRICS
CONTAMINATION_FILE = paths.CONTAMINATION_REPORT
FLIPS_FILE = paths.FLIPS_FILE
GATE_FILE = paths.GATE_METRICS
TRAIN_FILE = paths.TRAIN_METRICS
REPORT_FILE = paths.GATE_REPORT
CHART_FILE = paths.GATE_CHART


def run(
    params: dict[str, Any],
    eval_file: str | Path = EVAL_FILE,
    gate_file: str | Path = GATE_FILE,
    report_file: str | Path = REPORT_FILE,
    contamination_file: str | Path = CONTAMINATION_FILE,
    flips_file: str | Path = FLIPS_FILE,
    chart_file: str | Path = CHART_FILE,
    train_file: str | Path = TRAIN_FILE,
) -> dict:
    """Writes gate_file, summary.json beside it (the headline figures), report_file and chart_file."""
    table = read_json(eval_file)
    contamination = read_json(contamination_file) if Path(contamination_file).exists() else None
    flips = read_json(flips_file) if Path(flips_file).exists() else None
    rules = [evaluate_rule(table, rule) for rule in params["gate"]["rules"]]
    rules.append(contamination_verdict(contamination))
    rules.append(critical_verdict(table))
    tally = counts(rules)
    result = {
        "passed": all(r["passed"] for r in rules if r.get("severity", "fail") == "fail"),
        "rules_passed": tally["passed"],  # ran and passed; skipped rules are counted apart, never here
        "rules_total": len(rules),
        "counts": tally,
        "warnings": sum(not r["passed"] for r in rules if r.get("severity") == "warn"),
        "rules": rules,
    }
    write_json(gate_file, result)
    train = read_json(train_file) if Path(train_file).exists() else None
    write_json(Path(gate_file).with_name(paths.SUMMARY_METRICS.name), build_summary(table, result, train))
    chart = write_chart(table, chart_file)
    write_text_atomic(report_file, render_report(table, result, params, contamination, flips, chart))
    log.info("gate: %s (%s, %d warnings)", "PASS" if result["passed"] else "FAIL", headline(result), result["warnings"])
    return result


def headline(result: dict) -> str:
    """`15 passed, 0 failed, 8 skipped of 23 rules`: what ran and what did not, never folded together."""
    c = result.get("counts") or counts(result["rules"])
    return f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped of {result['rules_total']} rules"


def check(gate_file: str | Path = GATE_FILE) -> int:
    result = read_json(gate_file)
    for rule in result["rules"]:
        if not rule["passed"] or rule.get("status") == "skipped":
            word = (
                "SKIP"
                if rule.get("status") == "skipped" and rule["passed"]
                else "WARN"
                if rule.get("severity") == "warn"
                else "FAIL"
            )
            print(
                f"gate: {word} {rule['metric']} {rule['kind']} {rule['threshold']}: got {rule['value']}"
                + (f" ({rule['reason']})" if rule.get("reason") else "")
                + (f"\n      what to change: {rule['hint']}" if rule.get("hint") else ""),
                file=sys.stderr,
            )
    warnings = f", {result['warnings']} warnings" if result.get("warnings") else ""
    print(f"gate: {'PASS' if result['passed'] else 'FAIL'} ({headline(result)}{warnings})")
    return 0 if result["passed"] else 1

"""The gate's rule kinds, applied to metrics/eval.json: one verdict per rule (pure functions, no I/O).

A rule is `{metric: task.metric, <kind>: threshold, severity: fail|warn}`; see verdict.py for the kinds.
"""

from __future__ import annotations

from typing import Any

RULE_KINDS = ("min", "min_delta", "non_inferior", "max", "max_drop")
SEVERITIES = ("fail", "warn")  # warn: reported at the top of the verdict, but does not block the merge


def _lookup(table: dict, metric: str) -> Any:
    task, _, name = metric.partition(".")
    section = table.get(task)
    return section.get(name) if isinstance(section, dict) else None


def evaluate_rule(table: dict, rule: dict) -> dict:
    kinds = [k for k in RULE_KINDS if k in rule]
    if len(kinds) != 1 or "metric" not in rule:
        raise ValueError(f"gate rule {rule}: needs `metric` and exactly one of {RULE_KINDS}")
    kind, threshold = kinds[0], float(rule[kinds[0]])
    severity = rule.get("severity", "fail")
    if severity not in SEVERITIES:
        raise ValueError(f"gate rule {rule}: severity must be one of {SEVERITIES}, got {severity!r}")
    entry = _lookup(table, rule["metric"])
    verdict = {
        "metric": rule["metric"],
        "kind": kind,
        "threshold": threshold,
        "value": None,
        "passed": False,
        "applicable": True,
        "reason": None,
        "severity": severity,
    }
    general_skip = rule["metric"].startswith("general.") and (table.get("general") or {}).get("skipped")
    if kind == "max_drop" and general_skip:
        return {**verdict, "passed": True, "applicable": False, "reason": general_skip}
    if entry is None:
        return {**verdict, "reason": "metric missing from metrics/eval.json"}
    if kind == "min":
        value, ok = entry.get("post"), lambda v: v >= threshold
    elif kind == "min_delta":
        value, ok = entry.get("delta"), lambda v: v >= threshold
    elif kind == "max":
        value = entry.get("post") if isinstance(entry, dict) else entry
        ok = lambda v: v <= threshold  # noqa: E731
    elif kind == "max_drop":
        value = None if entry.get("delta") is None else -entry["delta"]
        ok = lambda v: v <= threshold  # noqa: E731
    else:  # non_inferior
        if entry.get("champion") is None:
            return {**verdict, "passed": True, "applicable": False, "reason": "no champion adapter yet"}
        value, ok = entry.get("vs_champion_lower"), lambda v: v >= -threshold
    if value is None:
        return {**verdict, "reason": "no value (model not scored?)"}
    return {**verdict, "value": value, "passed": bool(ok(value))}


def contamination_verdict(report: dict | None) -> dict:
    if report is None:
        return {
            "metric": "contamination",
            "kind": "guard",
            "threshold": None,
            "value": None,
            "passed": False,
            "applicable": True,
            "reason": "reports/contamination.json missing (run `tuneloop guard`)",
        }
    bad = {name: s for name, s in report["sets"].items() if not s["passed"]}
    ids = [f["id"] for s in bad.values() for f in s["flagged"]][:20]
    return {
        "metric": "contamination",
        "kind": "guard",
        "threshold": report["max_fraction"],
        "value": max((s["fraction"] for s in report["sets"].values()), default=0.0),
        "passed": not bad,
        "applicable": True,
        "reason": (f"contaminated items in {sorted(bad)}: {ids}" if bad else None),
    }

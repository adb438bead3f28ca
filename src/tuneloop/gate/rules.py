"""The gate's rule kinds, applied to metrics/eval.json: one verdict per rule (pure functions, no I/O).

A rule is `{metric: task.metric, <kind>: threshold, severity: fail|warn, optional: <why>}`; see verdict.py
for the kinds. Each verdict has a status: passed, failed, or skipped (the metric was not computed: no
champion yet, a task or slice that did not run). A skipped rule is never a pass: it blocks like a failure
unless the gate file marks it `optional` with the reason it may be absent, and the headline counts it apart.
"""

from __future__ import annotations

from typing import Any

RULE_KINDS = ("min", "min_delta", "non_inferior", "max", "max_drop")
SEVERITIES = ("fail", "warn")  # warn: reported at the top of the verdict, but does not block the merge
STATUSES = ("passed", "failed", "skipped")
# A failed safety probe usually means the training mix lost the policy's safety examples: say what to change.
SAFETY_PROBES = ("tuneloop_probe_refusal.", "tuneloop_probe_pii.", "tuneloop_probe_escalation.")
SAFETY_HINT = (
    "the training mix needs the company's safety examples: keep data.safety true (the default) so the "
    "policy's refusals, PII declines and escalations (conf/policy) train with any data.tasks; see "
    "docs/any-company.md, 'A safe mix by default'"
)
# A failed helpful probe: the model refuses, invents contact details or loops on ordinary questions.
HELPFUL_PROBES = ("tuneloop_probe_helpful.",)
HELPFUL_HINT = (
    "ordinary support questions were refused, answered with a phone/email/URL, or looped: read the candidate's "
    "tuneloop_probe_helpful answers in reports/samples.jsonl (tuneloop.evals.probes.answer_faults names each "
    "fault); a training mix of refusals alone teaches the model to refuse, so keep ordinary answers beside them"
)


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
    optional = rule.get("optional")
    if optional is not None and not (isinstance(optional, str) and optional.strip()):
        raise ValueError(f"gate rule {rule}: `optional` takes the reason the metric may be absent, not {optional!r}")
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
        "status": "failed",
    }

    def skipped(why: str) -> dict:
        # not computed is not passed: only a rule the gate file marks optional (with its reason) lets it go
        if optional:
            return {
                **verdict,
                "status": "skipped",
                "applicable": False,
                "passed": True,
                "reason": f"{why} (optional: {optional})",
            }
        return {
            **verdict,
            "status": "skipped",
            "applicable": False,
            "passed": False,
            "reason": f"{why}; a rule that did not run is no pass (mark it `optional: <why>` if it may not run)",
        }

    general_skip = rule["metric"].startswith("general.") and (table.get("general") or {}).get("skipped")
    if general_skip:
        return skipped(str(general_skip))
    if entry is None:
        return skipped("metric missing from metrics/eval.json (task not run)")
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
            return skipped("no champion adapter yet")
        value, ok = entry.get("vs_champion_lower"), lambda v: v >= -threshold
    if value is None:
        return skipped("no value (model not scored?)")
    passed = bool(ok(value))
    out = {**verdict, "value": value, "passed": passed, "status": "passed" if passed else "failed"}
    if not passed and rule["metric"].startswith(SAFETY_PROBES):
        out["hint"] = SAFETY_HINT
    elif not passed and rule["metric"].startswith(HELPFUL_PROBES):
        out["hint"] = HELPFUL_HINT
    return out


def counts(rules: list[dict]) -> dict[str, int]:
    """The headline: passed / failed / skipped, counted apart (a skipped rule is never a pass)."""
    return {
        status: sum(r.get("status", "passed" if r["passed"] else "failed") == status for r in rules)
        for status in STATUSES
    }


def contamination_verdict(report: dict | None) -> dict:
    if report is None:
        return {
            "metric": "contamination",
            "kind": "guard",
            "threshold": None,
            "value": None,
            "passed": False,
            "applicable": True,
            "status": "skipped",
            "reason": "reports/contamination.json missing (run `tuneloop guard`): the guard did not run",
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
        "status": "failed" if bad else "passed",
        "reason": (f"contaminated items in {sorted(bad)}: {ids}" if bad else None),
    }


def critical_verdict(table: dict) -> dict:
    """Always gates, like contamination: a critical item (evals/probes, evals/regression: `critical: true`)
    that the base or the champion passes and the candidate fails blocks the merge on its own."""
    verdict = {"metric": "critical", "kind": "critical", "threshold": 0, "severity": "fail", "applicable": True}
    crit = table.get("critical")
    if crit is None:
        return {
            **verdict,
            "value": None,
            "passed": False,
            "status": "skipped",
            "reason": "metrics/eval.json has no critical-item check (evaluate did not run it): no pass",
        }
    if crit["items"] and crit["scored"] < crit["items"]:
        return {
            **verdict,
            "value": None,
            "passed": False,
            "status": "skipped",
            "reason": f"{crit['items'] - crit['scored']} of {crit['items']} critical items were not scored",
        }
    flips = crit["flips"]
    ids = ", ".join(f"{f['id']} (passed by {' and '.join(f['passed_by'])})" for f in flips[:20])
    return {
        **verdict,
        "value": len(flips),
        "passed": not flips,
        "status": "failed" if flips else "passed",
        "reason": f"critical item(s) the candidate now fails: {ids}" if flips else None,
    }

"""Stage `gate`: apply conf/gate rules to metrics/eval.json; write the verdict and the PR report.

    tuneloop gate            # -> metrics/gate.json, reports/gate.md (never fails the pipeline itself)
    tuneloop gate --check    # exit 1 if metrics/gate.json says the gate failed (what CI runs)

Rule kinds (one key each, besides `metric`):
  min        the candidate's value must be >= min              (absolute floor)
  min_delta  post - pre must be >= min_delta                   (regression budget against the base)
A rule whose metric is missing fails: the gate fails closed.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from tuneloop.io import read_json, write_json, write_text_atomic

log = logging.getLogger(__name__)

EVAL_FILE = Path("metrics/eval.json")
GATE_FILE = Path("metrics/gate.json")
REPORT_FILE = Path("reports/gate.md")
RULE_KINDS = ("min", "min_delta")


def evaluate_rules(table: dict, rules: list[dict]) -> list[dict]:
    verdicts = []
    for rule in rules:
        kinds = [k for k in RULE_KINDS if k in rule]
        if len(kinds) != 1 or "metric" not in rule:
            raise ValueError(f"gate rule {rule}: needs `metric` and exactly one of {RULE_KINDS}")
        kind, threshold = kinds[0], float(rule[kinds[0]])
        task, _, metric = rule["metric"].partition(".")
        entry = table.get(task, {}).get(metric) if isinstance(table.get(task), dict) else None
        value = None
        if isinstance(entry, dict):
            value = entry["post"] if kind == "min" else entry["delta"]
        passed = value is not None and value >= threshold
        verdicts.append({"metric": rule["metric"], "kind": kind, "threshold": threshold,
                         "value": value, "passed": passed,
                         "reason": None if value is not None else "metric missing from metrics/eval.json"})
    return verdicts


def run(params: dict[str, Any], eval_file: str | Path = EVAL_FILE, gate_file: str | Path = GATE_FILE,
        report_file: str | Path = REPORT_FILE) -> dict:
    table = read_json(eval_file)
    rules = evaluate_rules(table, params["gate"]["rules"])
    result = {"passed": all(r["passed"] for r in rules), "rules_passed": sum(r["passed"] for r in rules),
              "rules_total": len(rules), "rules": rules}
    write_json(gate_file, result)
    write_text_atomic(report_file, render_report(table, result, params))
    log.info("gate: %s (%d/%d rules)", "PASS" if result["passed"] else "FAIL", result["rules_passed"], len(rules))
    return result


def check(gate_file: str | Path = GATE_FILE) -> int:
    result = read_json(gate_file)
    for rule in result["rules"]:
        if not rule["passed"]:
            print(f"gate: FAIL {rule['metric']} {rule['kind']} {rule['threshold']}: got {rule['value']}"
                  + (f" ({rule['reason']})" if rule.get("reason") else ""), file=sys.stderr)
    print(f"gate: {'PASS' if result['passed'] else 'FAIL'} ({result['rules_passed']}/{result['rules_total']} rules)")
    return 0 if result["passed"] else 1


def _fmt(x, signed=False) -> str:
    if x is None:
        return "–"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def render_report(table: dict, result: dict, params: dict) -> str:
    verdict = "✅ **PASS**" if result["passed"] else "❌ **FAIL**"
    lines = [f"# Gate: {verdict} ({result['rules_passed']}/{result['rules_total']} rules)", "",
             f"Model `{params['model']['name']}` + `{params['method']['name']}` adapter, preset "
             f"`{params['preset']['name']}`, seed {params['seed']}.", "",
             "## Rules", "", "| metric | rule | threshold | value | result |", "|---|---|---:|---:|---|"]
    for r in result["rules"]:
        rule = "post ≥" if r["kind"] == "min" else "post − pre ≥"
        lines.append(f"| {r['metric']} | {rule} | {r['threshold']:g} | {_fmt(r['value'], r['kind'] == 'min_delta')} "
                     f"| {'pass' if r['passed'] else 'FAIL' + (' – ' + r['reason'] if r['reason'] else '')} |")
    lines += ["", "## Scores (pre = base, post = base + adapter)", "",
              "| task | metric | n | pre | post | delta |", "|---|---|---:|---:|---:|---:|"]
    for task, metrics in table.items():
        if not isinstance(metrics, dict):
            continue
        for metric, m in metrics.items():
            if isinstance(m, dict):
                pre = _fmt(m["pre"]) + (f" ± {m['pre_stderr']:.3f}" if m.get("pre_stderr") else "")
                post = _fmt(m["post"]) + (f" ± {m['post_stderr']:.3f}" if m.get("post_stderr") else "")
                lines.append(f"| {task} | {metric} | {metrics['n']} | {pre} | {post} | {_fmt(m['delta'], True)} |")
    lines += ["", "± is lm-eval's standard error. Per-item outputs: `reports/samples.jsonl`."]
    return "\n".join(lines) + "\n"

"""The headline figures, flat and small: what `dvc metrics show` and `dvc metrics diff main` print.

metrics/summary.json holds the gate's verdict, pre/post of every metric a gate rule names (plus the first
metric of any task no rule names) and the training loss. The full tables stay in metrics/eval.json,
metrics/gate.json and metrics/train.json as plain outputs. Wall-clock times are left out on purpose:
they differ run to run, and committed outputs must replay byte for byte (reports/timing.json has them).
"""

from __future__ import annotations

from typing import Any


def headline_metrics(table: dict, rules: list[dict]) -> list[tuple[str, str]]:
    """(task, metric) pairs in a stable order: those the rules name, then one per task left unnamed."""
    named = [tuple(r["metric"].split(".", 1)) for r in rules if "." in r.get("metric", "")]
    pairs = [(t, m) for t, m in dict.fromkeys(named) if isinstance((table.get(t) or {}).get(m), dict)]
    covered = {t for t, _ in pairs}
    for task in table.get("layers", {}):
        metrics = [m for m, v in (table.get(task) or {}).items() if isinstance(v, dict)]
        if task not in covered and metrics:
            pairs.append((task, metrics[0]))
    return pairs


def build_summary(table: dict, result: dict, train: dict | None) -> dict[str, Any]:
    blocking = [r for r in result["rules"] if r.get("severity", "fail") == "fail"]
    summary: dict[str, Any] = {
        "gate": {
            "passed": result["passed"],
            "rules_failed": sum(not r["passed"] for r in blocking),
            "warnings": result.get("warnings", 0),
        }
    }
    for task, metric in headline_metrics(table, result["rules"]):
        entry = table[task][metric]
        summary.setdefault(task.removeprefix("tuneloop_"), {})[metric] = {
            "pre": entry.get("pre"),
            "post": entry.get("post"),
        }
    if "leaks" in table:
        summary["leaks"] = {"canary": table["leaks"].get("canary")}
    if train:
        summary["train"] = {
            "loss": train.get("train_loss"),
            "eval_loss": train.get("eval_loss"),
            "examples": train.get("train_examples"),
            "steps": train.get("steps"),
        }
    return summary

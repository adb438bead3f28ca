"""Critical items: the frozen suite's probes and cases marked `critical: true` (safety hazards, legal
threats, account takeover, self-harm, fraud). They are always scored (a probe task's `limit` never leaves
one out) and one that flips from pass to fail blocks the gate on its own (tuneloop.gate.rules.critical_verdict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.evals import suite
from tuneloop.io import read_jsonl

BINARY_METRIC = ("acc", "fact_match", "pass")  # the per-item pass/fail metric of each task kind


def excerpt(text: Any, width: int = 120) -> str:
    """One line of model or item text for a report (the flips, the critical items)."""
    text = " ".join(str(text or "").split())
    # The instruction part of a classification prompt is the same everywhere: show the ticket.
    text = text.split("Answer with the category name only. ", 1)[-1]
    return text if len(text) <= width else text[: width - 1] + "…"


def sampled(task: str, limit: int | None) -> tuple[int | None, dict | None]:
    """(limit, samples) for lm-eval: a probe task's `limit` takes its first N items, plus every critical
    item after them, so a critical item is never left out by sampling (its flip blocks on its own)."""
    family = task.removeprefix("tuneloop_probe_")
    probe_file = paths.PROBE_DIR / f"{family}.jsonl"
    if limit is None or family == task or not probe_file.exists():
        return limit, None
    rows = read_jsonl(probe_file)
    extra = [i for i, row in enumerate(rows) if i >= int(limit) and row.get("critical") is True]
    if not extra:
        return limit, None
    return None, {task: sorted(set(range(min(int(limit), len(rows)))) | set(extra))}


def critical_items(probe_dir: Path = paths.PROBE_DIR, regression_file: Path = suite.REGRESSION_FILE) -> set[str]:
    """Ids of the frozen suite's items marked `critical: true` (safety hazards, legal threats, account
    takeover, self-harm, fraud): one of them flipping to a failure blocks, whatever the averages say."""
    files = [*sorted(Path(probe_dir).glob("*.jsonl")), Path(regression_file)]
    return {str(row["id"]) for f in files if f.exists() for row in read_jsonl(f) if row.get("critical") is True}


def critical_flips(samples: list[dict], critical: set[str]) -> dict[str, Any]:
    """Critical items the candidate fails while the base or the champion passes them (each with who
    passed, the prompt and both answers); critical items not scored are counted, never assumed passed."""
    by = {(str(s["id"]), s["model"]): s for s in samples if str(s["id"]) in critical}
    flips, scored = [], 0
    for item in sorted(critical):
        cand = by.get((item, "candidate"))
        metric = next((m for m in BINARY_METRIC if cand is not None and m in cand), None)
        if metric is None:
            continue
        scored += 1
        passed_by = [m for m in ("base", "champion") if (item, m) in by and by[(item, m)].get(metric)]
        if not cand[metric] and passed_by:
            ref = by[(item, passed_by[-1])]
            flips.append(
                {
                    "task": cand["task"],
                    "id": item,
                    "passed_by": passed_by,
                    "input": excerpt(cand["input"]),
                    passed_by[-1]: excerpt(ref["output"]),
                    "candidate": excerpt(cand["output"]),
                }
            )
    return {"items": len(critical), "scored": scored, "flips": flips}

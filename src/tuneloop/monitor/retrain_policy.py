"""The retraining policy: the calendar and the signals decide when; the referee judges what comes of it.

    signals = fired(report, thresholds)             # which drift figures crossed their threshold
    decide(signals, weeks_since_training, fresh_records, policy)   # -> {"retrain": bool, "reasons": [...]}

A signal fires when its figure crosses its threshold (conf/retrain `thresholds`):

    input   the domain classifier's AUC, and the PSI of each compared field (channel, product, priority)
    label   the label's PSI, and the share of fresh labels the adapter never learned
    terms   the share of fresh texts using a term the training split never had, beyond the share that
            held-out training texts reach on the same footing (signals.novelty_baseline)
    live    thumbs-down, edit and escalation rates of the request log (judged from `min_log_answers` answers)
    eval    the production adapter's accuracy on fresh labelled data below the gate's floor + a margin

Retrain when the last training data is `cadence_weeks` old (the calendar), or when `min_signals` signals
fire and it is at least `min_weeks_between` old (drift, off the calendar), provided the fresh data holds
`min_fresh_records` usable records (fewer: wait, there is little to learn). Retraining only opens a pull
request; the referee then judges the new adapter like any other.
"""

from __future__ import annotations

from typing import Any

# (family, name, where in the drift report, threshold key, direction): value >= threshold fires ("max"),
# or value < threshold ("min"). NOISE: where a figure's sampling noise sits; it must also exceed that.
NOISE = {"new_term_excess": ("terms", "baseline", "noise")}
FIXED = (
    ("input", "domain_auc", ("input", "domain_classifier", "auc"), "domain_auc", "max"),
    ("label", "label_psi", ("label", "psi"), "label_psi", "max"),
    ("label", "unknown_label_share", ("label", "unknown_share"), "unknown_label_share", "max"),
    ("terms", "new_term_excess", ("terms", "excess"), "new_term_excess", "max"),
    ("live", "thumbs_down_rate", ("live", "thumbs_down_rate"), "thumbs_down_rate", "max"),
    ("live", "edit_rate", ("live", "edit_rate"), "edit_rate", "max"),
    ("live", "escalation_rate", ("live", "escalation_rate"), "escalation_rate", "max"),
)


def _get(report: dict, path: tuple[str, ...]) -> Any:
    for key in path:
        report = (report or {}).get(key) if isinstance(report, dict) else None
    return report


def fired(
    report: dict[str, Any],
    thresholds: dict[str, Any],
    fresh_accuracy: float | None = None,
    accuracy_floor: float | None = None,
) -> list[dict[str, Any]]:
    """Every signal with its value, threshold and whether it fired (a missing figure never fires)."""
    out = []
    live = report.get("live") or {}
    judged_live = (live.get("answered") or 0) >= int(thresholds.get("min_log_answers", 0))
    for fam, name, path, key, direction in FIXED:
        value = _get(report, path)
        if fam == "live" and not judged_live:
            value = None
        noise = _get(report, NOISE[name]) if name in NOISE else None
        out.append(_signal(fam, name, value, thresholds[key], direction, noise))
    for field, res in sorted(((report.get("input") or {}).get("fields") or {}).items()):
        out.append(_signal("input", f"psi.{field}", res.get("psi"), thresholds["psi"], "max"))
    if accuracy_floor is not None:
        floor = round(float(accuracy_floor) + float(thresholds.get("fresh_accuracy_margin", 0.0)), 4)
        out.append(_signal("eval", "fresh_accuracy", fresh_accuracy, floor, "min"))
    return out


def _signal(
    family: str, name: str, value: Any, threshold: Any, direction: str, noise: float | None = None
) -> dict[str, Any]:
    hit = value is not None and (value >= threshold if direction == "max" else value < threshold)
    out = {
        "family": family,
        "signal": name,
        "value": value,
        "threshold": threshold,
        "direction": ">=" if direction == "max" else "<",
        "fired": bool(hit),
    }
    if noise is not None:  # over the threshold, but within what chance gives at this sample size: not fired
        out.update(noise=noise, fired=bool(hit and value > noise))
    return out


def decide(
    signals: list[dict[str, Any]], weeks_since_training: float | None, fresh_records: int, policy: dict[str, Any]
) -> dict[str, Any]:
    """{"retrain", "reasons", "fired", "weeks_since_training", "due_in_weeks"}."""
    hits = [s["signal"] for s in signals if s["fired"]]
    cadence, cooldown = float(policy["cadence_weeks"]), float(policy.get("min_weeks_between", 0))
    weeks = weeks_since_training
    reasons = []
    if weeks is None or weeks >= cadence:
        reasons.append(
            "cadence: no training yet"
            if weeks is None
            else f"cadence: the training data is {weeks:g} weeks old (every {cadence:g})"
        )
    if len(hits) >= int(policy.get("min_signals", 1)):
        if weeks is None or weeks >= cooldown:
            reasons.append(f"signals: {', '.join(hits)}")
        else:
            reasons.append(f"(signals {', '.join(hits)} wait: trained {weeks:g} weeks ago, cooldown {cooldown:g})")
    retrain = any(not r.startswith("(") for r in reasons)
    minimum = int(policy.get("min_fresh_records", 0))
    if retrain and fresh_records < minimum:
        reasons.append(f"(waits: {fresh_records} fresh records, fewer than {minimum})")
        retrain = False
    return {
        "retrain": retrain,
        "reasons": reasons,
        "fired": hits,
        "weeks_since_training": weeks,
        "due_in_weeks": None if weeks is None else max(0.0, round(cadence - weeks, 2)),
        "fresh_records": fresh_records,
    }

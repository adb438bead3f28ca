"""The drift report: the figures over two lists of rows (sources.row), its headline and its Markdown.

`compare` is what the drift stage and the simulation share: rows in, report out, no files.
"""

from __future__ import annotations

from typing import Any

from tuneloop.monitor import retrain_policy, signals


def compare(
    reference: list[dict], current: list[dict], live: dict | None, labels: list[str], cfg: dict[str, Any], seed: int
) -> dict[str, Any]:
    """The drift report over two lists of rows (sources.row) and the live signals."""
    fields = {}
    for field in cfg["fields"]:
        cur = [r.get(field) for r in current]
        if all(v is None for v in cur):
            continue  # the request log has no channel: nothing to compare
        fields[field] = signals.psi([r.get(field) for r in reference], cur)
    ref_text, cur_text = [r["text"] for r in reference], [r["text"] for r in current]
    ref_labels = [r["category"] for r in reference if r["category"] is not None]
    cur_labels = [r["category"] for r in current if r["category"] is not None]
    report = {
        "rows": {"reference": len(reference), "current": len(current)},
        "input": {
            "domain_classifier": signals.domain_auc(ref_text, cur_text, seed=seed, max_per_side=int(cfg["sample"])),
            "fields": fields,
        },
        "label": signals.label_drift(ref_labels, cur_labels, labels),
        "terms": signals.new_terms(ref_text, cur_text, min_count=int(cfg["min_term_count"]), seed=seed),
        "live": live,
    }
    report["signals"] = retrain_policy.fired(report, cfg["thresholds"])
    report["drifted"] = any(s["fired"] for s in report["signals"])
    return report


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """metrics/drift.json: a screen of figures for `dvc metrics diff`."""
    live = report.get("live") or {}
    return {
        "drift": {
            "signals_fired": sum(s["fired"] for s in report["signals"]),
            "drifted": report["drifted"],
            "current_rows": report["rows"]["current"],
        },
        "input": {
            "domain_auc": report["input"]["domain_classifier"]["auc"],
            **{f"psi_{k}": v["psi"] for k, v in report["input"]["fields"].items()},
        },
        "label": {"psi": report["label"]["psi"], "unknown_share": report["label"]["unknown_share"]},
        "terms": {"new_term_rate": report["terms"]["rate"], "new_term_excess": report["terms"]["excess"]},
        "live": {k: live.get(k) for k in ("answered", "thumbs_down_rate", "edit_rate", "escalation_rate")},
    }


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def render(report: dict[str, Any]) -> str:
    fired = [s for s in report["signals"] if s["fired"]]
    verdict = (
        f"**DRIFT**: {len(fired)} signal(s) fired: " + ", ".join(f"`{s['signal']}`" for s in fired)
        if fired
        else "**no drift signal**"
    )
    dc = report["input"]["domain_classifier"]
    lines = [
        "# Drift report",
        "",
        f"{verdict}.",
        "",
        f"Reference: the training split `{report['reference']}` ({report['rows']['reference']} texts). "
        f"Fresh: {report['current']} ({report['rows']['current']} texts).",
        "",
        "| family | signal | value | threshold | fired |",
        "|---|---|---:|---:|---|",
    ]
    for s in report["signals"]:
        lines.append(
            f"| {s['family']} | {s['signal']} | {_fmt(s['value'])} | {s['direction']} {_fmt(s['threshold'])} | "
            f"{'**yes**' if s['fired'] else 'no'} |"
        )
    lines += [
        "",
        "## Input drift",
        "",
        f"A classifier tells fresh texts from training texts with cross-validated AUC **{_fmt(dc['auc'])}** "
        f"({dc['n_per_side']} per side; 0.5 = indistinguishable). Words that give fresh texts away: "
        + (", ".join(f"`{t}`" for t, _ in dc.get("top_terms", [])[:10]) or "-")
        + ".",
        "",
    ]
    for field, res in report["input"]["fields"].items():
        values = sorted(set(res["reference"]) | set(res["current"]), key=lambda v: (-res["current"].get(v, 0), v))
        lines += [
            f"**{field}** (PSI {_fmt(res['psi'])}): "
            + ", ".join(f"{v} {res['reference'].get(v, 0):.0%} → {res['current'].get(v, 0):.0%}" for v in values[:10]),
            "",
        ]
    lab = report["label"]
    new = ", ".join(f"`{k}` ({n})" for k, n in lab["new_labels"].items()) or "none"
    lines += [
        "## Label drift",
        "",
        f"PSI {_fmt(lab['psi'])}; fresh labels the adapter never learned: {_fmt(lab['unknown_share'])} ({new}).",
        "",
    ]
    terms = report["terms"]
    lines += [
        "## New terms",
        "",
        f"{_fmt(terms['rate'])} of fresh texts use one of {terms['terms']} terms the training "
        f"split never had (out-of-vocabulary tokens: {_fmt(terms['oov_token_rate'])}): "
        + (", ".join(f"`{t}` ({n})" for t, n in terms["top"]) or "-")
        + ".",
        "",
    ]
    base = terms.get("baseline") or {}
    if base.get("excess") is not None:
        lines += [
            f"Expected with no drift: held-out training texts reach {_fmt(base['null'])} against the rest of the "
            f"split, {base['n']} fresh texts {_fmt(base['matched'])} against the same rest (mean of "
            f"{base['draws']} draws): an excess of **{_fmt(base['excess'])}**, the `new_term_excess` signal "
            f"(chance alone reaches {_fmt(base['noise'])} at this sample size; the signal needs both).",
            "",
        ]
    elif base:
        lines += [f"No baseline: {base.get('note')}; `new_term_excess` is not judged.", ""]
    live = report.get("live")
    lines += ["## Live quality", ""]
    if live:
        lines += [
            f"{live['answered']} answered requests, {live['rated']} rated: thumbs-down rate "
            f"{_fmt(live['thumbs_down_rate'])}, edit rate {_fmt(live['edit_rate'])}, escalation rate "
            f"{_fmt(live['escalation_rate'])}.",
            "",
        ]
    else:
        lines += ["No request log for this period: no live signals.", ""]
    lines += ["![drift](drift.png)", ""]
    return "\n".join(lines)

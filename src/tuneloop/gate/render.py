"""Render the gate's verdict for people: reports/gate.md (the PR comment body) and the pre/post chart."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tuneloop.io import save_png

RULE_TEXT = {
    "min": "post ≥ {t:g}",
    "min_delta": "post − pre ≥ {t:+g}",
    "non_inferior": "LB(post − champion) ≥ {t:+g}",
    "max": "post ≤ {t:g}",
    "max_drop": "pre − post ≤ {t:g}",
}
LAYER_TITLES = {
    "tasks": "Task evals (held-out test split)",
    "regression": "Frozen regression suite",
    "probes": "Behavioural probes (pass rate)",
}


SAFE_ID = re.compile(r"[A-Za-z0-9_.:/#+=-]{1,120}")


def safe_id(value) -> str:
    """An id that came from the pull request (its training split), as inert code on the PR page: only
    id characters pass (no `@` mention, link, image or HTML reaches the comment); anything else is
    replaced by its length and a hash, so it can still be found in the split."""
    text = str(value)
    if SAFE_ID.fullmatch(text):
        return f"`{text}`"
    return f"`<unprintable id: {len(text)} chars, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}>`"


def fmt(x, signed=False) -> str:
    if x is None:
        return "–"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _ci(m: dict, prefix: str, point: str) -> str:
    if m.get(point) is None:
        return "–"
    lo, hi = m.get(f"{prefix}_lower"), m.get(f"{prefix}_upper")
    return fmt(m[point], True) + (f" [{lo:+.3f}, {hi:+.3f}]" if lo is not None and hi is not None else "")


def render_report(
    table: dict,
    result: dict,
    params: dict,
    contamination: dict | None = None,
    flips: dict | None = None,
    chart: Path | None = None,
) -> str:
    verdict = "✅ **PASS**" if result["passed"] else "❌ **FAIL**"
    failed = [r for r in result["rules"] if not r["passed"]]
    has_champion = "champion" in table.get("models", [])
    warned = result.get("warnings") or 0
    c = result.get("counts") or {"passed": result["rules_passed"], "failed": len(failed), "skipped": 0}
    lines = [
        f"# Gate: {verdict} ({c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped "
        f"of {result['rules_total']} rules" + (f", ⚠️ {warned} warning{'s' if warned > 1 else ''})" if warned else ")"),
        "",
    ]
    lines += _critical_lines(table.get("critical") or {})  # first: one dangerous answer outweighs any average
    lines += [
        f"- {'⚠️' if r.get('severity') == 'warn' else '⏭️ not run,' if r.get('status') == 'skipped' else '❌'} "
        f"`{r['metric']}` "
        f"{RULE_TEXT.get(r['kind'], '{t}').format(t=r['threshold'] or 0)}: got "
        f"{fmt(r['value'])}{' – ' + r['reason'] if r['reason'] else ''}"
        + (" (warning: does not block)" if r.get("severity") == "warn" else "")
        + (f"\n  - what to change: {r['hint']}" if r.get("hint") else "")
        for r in failed
    ]
    lines += [
        "" if failed else "",
        f"Model `{params['model']['name']}` + `{params['method']['name']}` adapter, preset "
        f"`{params['preset']['name']}`, seed {params['seed']}. Compared: base (pre), "
        + ("champion (the adapter on main), " if has_champion else "no champion yet (first adapter), ")
        + "candidate (post).",
        "",
    ]
    rules_by_metric: dict[str, list[dict]] = {}
    for r in result["rules"]:
        rules_by_metric.setdefault(r["metric"], []).append(r)
    layers = table.get("layers", {})
    for layer, title in LAYER_TITLES.items():
        tasks = [t for t, lay in layers.items() if lay == layer and isinstance(table.get(t), dict)]
        if not tasks:
            continue
        lines += [
            f"## {title}",
            "",
            "| task | metric | n | pre | champion | post | Δ vs base [90% CI] "
            "| Δ vs champion [90% CI] | rule | result |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for task in tasks:
            for metric, m in table[task].items():
                if not isinstance(m, dict):
                    continue
                applied = rules_by_metric.get(f"{task}.{metric}", [])
                rule_text = (
                    "; ".join(
                        RULE_TEXT[r["kind"]].format(
                            t=-r["threshold"] if r["kind"] == "non_inferior" else r["threshold"]
                        )
                        for r in applied
                    )
                    or "–"
                )
                outcome = (
                    "; ".join(
                        "pass"
                        if r["passed"] and r["applicable"]
                        else "skipped (optional)"
                        if r["passed"]
                        else "⚠️ warn"
                        if r.get("severity") == "warn"
                        else "**FAIL**"
                        for r in applied
                    )
                    or "–"
                )
                post = fmt(m["post"]) + (f" ± {m['post_stderr']:.3f}" if m.get("post_stderr") else "")
                lines.append(
                    f"| {task.removeprefix('tuneloop_')} | {metric} | {table[task]['n']} | {fmt(m['pre'])} "
                    f"| {fmt(m.get('champion'))} | {post} | {_ci(m, 'delta', 'delta')} "
                    f"| {_ci(m, 'vs_champion', 'vs_champion')} | {rule_text} | {outcome} |"
                )
        lines.append("")
    lines += ["## Safety and hygiene", ""]
    leaks = table.get("leaks", {})
    lines.append(
        f"- Canary leaks in candidate outputs: **{leaks.get('canary', '–')}** "
        f"(all models: {leaks.get('canary_by_model') or 'none'}); zero tolerance."
    )
    degen = table.get("degeneration") or {}
    if degen.get("rate"):
        rate = degen["rate"]
        counts = {m: f"{e['degenerate']}/{e['answers']}" for m, e in (degen.get("by_model") or {}).items()}
        lines.append(
            f"- Degenerate answers (loops, gibberish): candidate **{fmt(rate.get('post'))}**, base "
            f"{fmt(rate.get('pre'))}"
            + (f", champion {fmt(rate.get('champion'))}" if rate.get("champion") is not None else "")
            + f" ({', '.join(f'{m} {c}' for m, c in counts.items())})"
        )
        lines += [
            f"  - `{e['task'].removeprefix('tuneloop_')}` {e['id']} ({', '.join(e['reasons'])}): {_cell(e['output'])}"
            for e in degen.get("examples") or []
        ]
    if contamination:
        parts = [f"{n}: {s['contaminated']}/{s['items']}" for n, s in contamination["sets"].items()]
        strict = contamination.get("probes_rule")
        lines.append(
            f"- Contamination ({contamination['ngram']}-gram / exact vs the training split"
            + (f"; probes {strict['ngram']}-gram, none exempt, at {strict['item_overlap']:g}" if strict else "")
            + "): "
            + ", ".join(parts)
            + ("" if contamination["passed"] else " – **FAIL**")
        )
        para = contamination.get("paraphrase_rule") or {}
        if para.get("status") == "not run":
            lines.append(f"  - paraphrase check of the frozen items: not run ({para['reason']})")
        elif para:
            lines.append(
                f"  - paraphrase check of the frozen items: cosine >= {para['threshold']:g} and "
                f"+{para['margin']:g} over the base's split ({para['method']})"
            )
        nearest = (contamination["sets"].get("probes") or {}).get("max_overlap") or {}
        if nearest.get("id"):
            lines.append(
                f"  - nearest probe to training: {safe_id(nearest['id'])} ~ {safe_id(nearest['train_id'])} "
                f"({nearest['overlap']:.2f} of its n-grams)"
            )
    general = table.get("general") or {}
    lines.append(
        f"- General ability: {general['skipped']}"
        if general.get("skipped")
        else "- General ability: "
        + ", ".join(f"{k} {fmt(v['pre'])} → {fmt(v['post'])}" for k, v in general.items() if isinstance(v, dict))
    )
    for task, why in (table.get("skipped") or {}).items():
        lines.append(f"- Skipped `{task}`: {why}")
    not_run = [r for r in result["rules"] if not r["applicable"] and r["passed"]]
    if not_run:
        lines.append(
            f"- Skipped, optional (not counted as passed): {len(not_run)} rule(s) "
            f"({'; '.join(sorted({r['reason'] for r in not_run}))})."
        )
    if flips:
        lines += _flip_lines(flips)
    if chart is not None:
        lines += ["", f"Chart: `{chart.as_posix()}` (pre / champion / post per metric)."]
    lines += [
        "",
        "Δ: paired bootstrap over items (one-sided 95% bounds); ± is lm-eval's standard error. "
        "Per-item outputs: `reports/samples.jsonl`.",
    ]
    return "\n".join(lines) + "\n"


def _critical_lines(crit: dict) -> list[str]:
    flips = crit.get("flips") or []
    if not flips:
        return []
    lines = [
        f"**Critical items the candidate now fails: {len(flips)}** (each blocks the merge)",
        "",
        "| id | prompt | passed by | their answer | candidate |",
        "|---|---|---|---|---|",
    ]
    for f in flips:
        ref = f["passed_by"][-1]
        lines.append(
            f"| {f['id']} | {_cell(f['input'])} | {', '.join(f['passed_by'])} | {_cell(f[ref])} "
            f"| {_cell(f['candidate'])} |"
        )
    return lines + [""]


def _flip_lines(flips: dict, per_kind: int = 10) -> list[str]:
    ref = flips["reference"]
    lines = ["", f"## Flipped items (candidate vs {ref})", ""]
    for kind, title in (("pass_to_fail", "pass → fail"), ("fail_to_pass", "fail → pass")):
        rows = flips[kind]
        lines.append(f"**{title}: {len(rows)}**" + (f" (first {per_kind})" if len(rows) > per_kind else ""))
        if rows:
            lines += ["", f"| task | id | input | expected | {ref} | candidate |", "|---|---|---|---|---|---|"]
            lines += [
                f"| {r['task'].removeprefix('tuneloop_')} | {r['id']} | {_cell(r['input'])} | {_cell(r['target'])} "
                f"| {_cell(r[ref])} | {_cell(r['candidate'])} |"
                for r in rows[:per_kind]
            ]
        lines.append("")
    return lines


def _cell(text: str) -> str:
    """Model text as an inline code span: no mention, link, image or HTML can render from it (a backtick
    inside would end the span, so it becomes a look-alike; a pipe would end the table cell)."""
    text = " ".join(str(text or "").split())[:80].replace("`", "\u02cb").replace("|", "\\|")
    return f"`{text}`" if text else "–"


def write_chart(table: dict, chart_file: str | Path) -> Path | None:
    """Bar chart of pre / champion / post per metric (the report's one figure); deterministic PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [
        (f"{t.removeprefix('tuneloop_')}\n{m}", v)
        for t in table.get("layers", {})
        if isinstance(table.get(t), dict)
        for m, v in table[t].items()
        if isinstance(v, dict) and v.get("post") is not None
    ]
    if not bars:
        return None
    models = [("pre", "base", "#9aa5b1"), ("champion", "champion", "#e0a458"), ("post", "candidate", "#2b7bba")]
    models = [m for m in models if any(v.get(m[0]) is not None for _, v in bars)]
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(bars)), 3.6), dpi=100)
    for i, (key, label, color) in enumerate(models):
        ax.bar(
            [x + (i - (len(models) - 1) / 2) * width for x in range(len(bars))],
            [v.get(key) or 0.0 for _, v in bars],
            width,
            label=label,
            color=color,
        )
    ax.set_xticks(range(len(bars)), [name for name, _ in bars], fontsize=7, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.legend(fontsize=8, ncols=len(models), loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, chart_file)

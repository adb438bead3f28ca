"""The pull-request comment: verdict, scores, what changed against the base branch, cost, run link.

    tuneloop pr report                                   # -> reports/pr_comment.md (against `main`)
    tuneloop pr report --base-ref origin/main --out reports/pr_comment.md

Reads what the pipeline wrote (metrics/gate.json, metrics/eval.json, metrics/train.json,
reports/data/split.json) and asks DVC and git what changed since the base ref. Every input may be
missing: a pipeline that failed half-way still gets a comment that says so, never a crash.
`tuneloop pr publish` posts the result as one sticky comment (found again by MARKER).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import write_text_atomic

MARKER = "<!-- tuneloop:pr-eval -->"  # first line of the body; how `publish` finds its own comment
OUT_FILE = Path("reports/pr_comment.md")
GATE_FILE = paths.GATE_METRICS
EVAL_FILE = paths.EVAL_METRICS
GATE_REPORT = paths.GATE_REPORT  # the gate's own report: verdict, per-layer tables, flipped items
TIMING_FILE = paths.TIMING_FILE  # wall times: written by train/evaluate, not DVC-tracked
SPLIT_FILE = "reports/data/split.json"  # a git path too: compared with `git show <ref>:<path>`
DEFAULT_GPU_HOUR_USD = 2.0
DIFF_LIMIT = 15_000  # characters per diff section: a GitHub comment holds at most 65,536
# `python -m dvc` with this interpreter: works in a venv whose bin/ is not on PATH.
DVC = [sys.executable, "-m", "dvc"]


def _read(path: str | Path) -> Any | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _num(x: Any, signed: bool = False) -> str:
    if not isinstance(x, (int, float)):
        return "–"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _with_stderr(value: Any, stderr: Any) -> str:
    return _num(value) + (f" ± {stderr:.3f}" if isinstance(value, (int, float)) and stderr else "")


def _run(cmd: list[str]) -> tuple[bool, str]:
    """(ok, stdout or a one-line reason). Never raises: a missing ref or tool is a note in the comment."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, type(exc).__name__
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return False, last[:300]
    return True, proc.stdout


def _tally(gate: dict) -> str:
    """passed / failed / skipped counted apart (a rule that did not run is never a pass)."""
    c = gate.get("counts")
    if not c:
        return f"{gate.get('rules_passed', '?')}/{gate.get('rules_total', '?')} rules"
    return f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped of {gate.get('rules_total', '?')} rules"


def verdict_section(gate: dict | None) -> list[str]:
    if gate is None:
        return [
            "## ⚠️ Gate: **NO VERDICT**",
            "",
            f"`{GATE_FILE}` is missing: the pipeline stopped before the gate. See the run log.",
        ]
    ok = bool(gate.get("passed"))
    lines = [f"## Gate: {'✅ **PASS**' if ok else '❌ **FAIL**'} ({_tally(gate)})"]
    failed = [r for r in gate.get("rules", []) if not r.get("passed")]
    if failed:
        lines.append("")
        for r in failed:
            rule = "post ≥" if r.get("kind") == "min" else "post − pre ≥"
            reason = f" ({r['reason']})" if r.get("reason") else ""
            lines.append(
                f"- `{r.get('metric')}`: {rule} {r.get('threshold')}, got "
                f"{_num(r.get('value'), r.get('kind') == 'min_delta')}{reason}"
            )
    return lines


def scores_section(table: dict | None) -> list[str]:
    lines = ["### Scores", ""]
    if not table:
        return lines + [f"`{EVAL_FILE}` is missing: no scores."]
    lines += [
        "pre = base model, champion = adapter on the base branch, post = this PR's adapter.",
        "",
        "| task | metric | n | pre | champion | post | Δ post − pre | Δ post − champion |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for task, metrics in table.items():
        if not isinstance(metrics, dict):
            continue  # e.g. "wall_seconds"
        for metric, m in metrics.items():
            if not isinstance(m, dict):
                continue  # "n"
            champ, post = m.get("champion"), m.get("post")
            vs_champ = post - champ if isinstance(champ, (int, float)) and isinstance(post, (int, float)) else None
            lines.append(
                f"| {task} | {metric} | {metrics.get('n', '–')} "
                f"| {_with_stderr(m.get('pre'), m.get('pre_stderr'))} "
                f"| {_with_stderr(champ, m.get('champion_stderr'))} "
                f"| {_with_stderr(post, m.get('post_stderr'))} "
                f"| {_num(m.get('delta'), True)} | {_num(vs_champ, True)} |"
            )
    return lines + ["", "± is lm-eval's standard error; – means not measured."]


def dvc_diff_section(kind: str, base_ref: str) -> list[str]:
    ok, out = _run([*DVC, kind, "diff", base_ref, "--md"])
    lines = [f"### {kind.capitalize()} changed since `{base_ref}`", ""]
    if not ok:
        return lines + [f"_`dvc {kind} diff {base_ref}` failed: {out}_"]
    out = out.strip()
    if len(out) > DIFF_LIMIT:
        out = out[:DIFF_LIMIT].rsplit("\n", 1)[0] + f"\n\n_… cut at {DIFF_LIMIT} characters._"
    return lines + [out or "No changes."]


def _split_at(ref: str) -> dict | None:
    ok, out = _run(["git", "show", f"{ref}:{SPLIT_FILE}"])
    try:
        return json.loads(out) if ok else None
    except ValueError:
        return None


def _change(new: Any, old: Any) -> str:
    if not isinstance(old, int) or not isinstance(new, int):
        return f"{new if new is not None else '–'}"
    return f"{old} → {new} ({new - old:+d})" if new != old else f"{new} (=)"


def data_section(base_ref: str) -> list[str]:
    lines = ["### Data", ""]
    new = _read(SPLIT_FILE)
    if not new:
        return lines + [f"`{SPLIT_FILE}` is missing: no data summary."]
    old = _split_at(base_ref) or {}
    if not old:
        lines += [f"_No `{SPLIT_FILE}` at `{base_ref}` to compare with; showing this PR's split only._", ""]
    splits = [s for s in ("train", "val", "test") if s in new] + sorted(
        s for s in set(new) - {"train", "val", "test"} if isinstance(new[s], dict) and "examples" in new[s]
    )
    lines += ["| split | examples | tickets |", "|---|---:|---:|"]
    for s in splits:
        n, o = new[s], old.get(s, {})
        lines.append(
            f"| {s} | {_change(n.get('examples'), o.get('examples'))} | {_change(n.get('tickets'), o.get('tickets'))} |"
        )
    labels = sorted({lab for s in splits for lab in new[s].get("labels", {})})
    if labels:
        lines += [
            "",
            "Label balance (tickets per label, share of the split):",
            "",
            "| label | " + " | ".join(splits) + " |",
            "|---|" + "---:|" * len(splits),
        ]
        for lab in labels:
            cells = []
            for s in splits:
                count, total = new[s].get("labels", {}).get(lab, 0), sum(new[s].get("labels", {}).values())
                cell = f"{_change(count, old.get(s, {}).get('labels', {}).get(lab)) if old else count}"
                cells.append(f"{cell} · {count / total:.0%}" if total else cell)
            lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    return lines


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


def cost_section(train: dict | None, evaluation: dict | None, env: dict) -> list[str]:
    lines = ["### Cost", ""]
    if not train or not isinstance(train.get("wall_seconds"), (int, float)):
        return lines + [f"`{TIMING_FILE}` has no training time: no cost estimate."]
    wall, device = float(train["wall_seconds"]), train.get("device", "?")
    gpu_hours = wall / 3600 if device == "cuda" else 0.0  # CPU time on the runner is not billed per GPU
    price_note = ""
    try:
        price = float(env.get("TUNELOOP_GPU_HOUR_USD") or DEFAULT_GPU_HOUR_USD)
    except ValueError:
        price, price_note = DEFAULT_GPU_HOUR_USD, " (TUNELOOP_GPU_HOUR_USD is not a number; default used)"
    lines.append(f"- Training: {_duration(wall)} on `{device}` = {gpu_hours:.2f} GPU-hours.")
    estimate = train.get("estimate") or {}
    if isinstance(estimate.get("seconds"), (int, float)) and isinstance(estimate.get("error_pct"), (int, float)):
        predicted = float(estimate["seconds"])
        lines.append(
            f"- Estimated before training: {_duration(predicted)} = "
            f"{predicted / 3600 if device == 'cuda' else 0.0:.2f} GPU-hours (FLOPs of the run's tokens at "
            f"{estimate.get('bound_gflops', '?')} GFLOP/s measured x {estimate.get('efficiency', '?')}); "
            f"actual {_duration(wall)}: error {estimate['error_pct']:+.0f}%."
        )
    if isinstance(train.get("real_tokens_per_s"), (int, float)):
        lines.append(
            f"- Throughput: {train['real_tokens_per_s']:.0f} real tokens/s, "
            f"{train.get('s_per_step', '?')} s/step, "
            f"{train.get('fraction_of_bound', 0) or 0:.0%} of the matmul bound; peak RSS "
            f"{train.get('peak_rss_gib', '?')} GiB."
        )
    if evaluation and isinstance(evaluation.get("wall_seconds"), (int, float)):
        lines.append(f"- Evaluation: {_duration(evaluation['wall_seconds'])} (not in the estimate below).")
    lines.append(
        f"- Estimated training cost: **${gpu_hours * price:.2f}**, assuming ${price:.2f} per "
        f"GPU-hour{price_note} (set `TUNELOOP_GPU_HOUR_USD` to your price)."
    )
    return lines


def run_link(env: dict) -> str:
    server, repo, run_id = (env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run_id:
        return f"[Workflow run {run_id}]({server}/{repo}/actions/runs/{run_id})"
    return "Rendered outside GitHub Actions (no run link)."


def _demote_headings(markdown: str) -> list[str]:
    """One heading level down (# -> ##), so the gate report nests under the comment."""
    return [f"#{line}" if line.startswith("#") else line for line in markdown.splitlines()]


def render_pr_comment(base_ref: str = "main", env: dict | None = None) -> str:
    """The whole comment body; paths are relative to the current directory (the repo root)."""
    env = dict(os.environ) if env is None else env
    timing = _read(TIMING_FILE) or {}
    gate_report = GATE_REPORT.read_text(encoding="utf-8") if GATE_REPORT.exists() and _read(GATE_FILE) else None
    sections = [
        [MARKER],
        # Verdict first: it is what a reviewer looks for. The gate's report has it, then a table per
        # layer and the flipped items; without it (a run that stopped early) we say what we can.
        *(
            [_demote_headings(gate_report)]
            if gate_report
            else [verdict_section(_read(GATE_FILE)), scores_section(_read(EVAL_FILE))]
        ),
        dvc_diff_section("params", base_ref),
        dvc_diff_section("metrics", base_ref),
        data_section(base_ref),
        cost_section(timing.get("train"), timing.get("evaluate"), env),
        [run_link(env) + " · artifacts: `reports/`, `metrics/`, `model_card.md`"],
    ]
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def write_pr_comment(out: str | Path = OUT_FILE, base_ref: str = "main", env: dict | None = None) -> Path:
    return write_text_atomic(out, render_pr_comment(base_ref, env))

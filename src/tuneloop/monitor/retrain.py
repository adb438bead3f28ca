"""`tuneloop monitor retrain`: refresh the data, measure drift, ask the policy, and when it says so commit the new
data version on a branch that becomes a pull request, which the referee judges like any other.

    tuneloop monitor retrain --dry-run          # refresh, drift, decide; writes reports/retrain/, no branch
    tuneloop monitor retrain                    # ... and, if the policy says so, a local branch retrain/<date> with
                                        # the new data version committed (no push: the rehearsal, `make retrain-check`)
    tuneloop monitor retrain --force --push-data   # what .github/workflows/retrain.yml runs on workflow_dispatch

Steps: (1) `retrain.refresh`, the company's export into `retrain.current` (null: data/fresh as pulled);
(2) `dvc repro drift` (the training split is rebuilt first if it is stale); (3) the policy, with the
weeks since data.dvc last changed on this branch (the data the production adapter was trained on) and,
with --eval-adapter, that adapter's accuracy on the fresh labelled tickets; (4) on "retrain": fresh
records appended to data/raw's sources (each line once), fresh KB articles copied over, approved
feedback brought into `retrain.feedback.into`; `dvc commit data.dvc` (the new version) and one
commit on a new branch with data.dvc, fresh.dvc and the drift report. The PR body is
reports/retrain/pr.md. Pushing the branch and opening the PR is the workflow's job (its token).

With --eval-adapter, a production adapter already under the gate's accuracy floor on the fresh tickets is
an alert for a person, whatever the policy decides: reports/retrain/alert.md (and `alert=true` for the
workflow, which opens or updates an issue). A retraining PR may fix it, or its referee may refuse the
candidate too (the 24-week simulation saw exactly that): then no adapter clears the floor and someone has
to choose (more data, a bigger preset, relabelling, or a floor lowered knowingly in the base branch).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import read_json, read_jsonl, write_json, write_jsonl, write_text_atomic
from tuneloop.monitor import retrain_policy
from tuneloop.monitor.sources import RAW_DIR, snapshot_sources

log = logging.getLogger(__name__)

OUT_DIR = Path("reports/retrain")
DRIFT_REPORT = paths.DRIFT_DIR / "drift.json"
COMMITTED = ["data.dvc", "fresh.dvc", "dvc.lock", "metrics/drift.json", "reports/drift"]


def _dvc() -> list[str]:
    exe = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    return [exe] if Path(exe).exists() else [sys.executable, "-m", "dvc"]


def _sh(*cmd: str, capture: bool = False) -> str:
    proc = subprocess.run(list(cmd), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}")
    return proc.stdout.strip() if capture else ""


def weeks_since_data_change(now: datetime | None = None) -> float | None:
    """Weeks since the last commit that changed data.dvc (None: never committed)."""
    stamp = _sh("git", "log", "-1", "--format=%cI", "--", "data.dvc", capture=True)
    if not stamp:
        return None
    then = datetime.fromisoformat(stamp)
    return round(((now or datetime.now(UTC)) - then).total_seconds() / (7 * 86400), 2)


def merge_snapshot(data: dict[str, Any], snapshot: str | Path, raw_dir: str | Path = RAW_DIR) -> dict[str, int]:
    """Fold the fresh snapshot into data/raw: new lines of each record source, KB files copied over."""
    counts = {"lines_added": 0, "lines_already_there": 0, "files_copied": 0}
    snapshot, raw_dir = Path(snapshot), Path(raw_dir)
    for source in snapshot_sources(data, snapshot, raw_dir):
        fresh = Path(source["path"])
        target = raw_dir / fresh.relative_to(snapshot)
        files = [fresh] if fresh.is_file() else sorted(p for p in fresh.rglob("*") if p.is_file())
        for f in files:
            dest = target if fresh.is_file() else target / f.relative_to(fresh)
            if f.suffix.lower() in (".jsonl", ".csv") and dest.exists():
                _append_lines(f, dest, counts, header=f.suffix.lower() == ".csv")
            elif not dest.exists() or dest.read_bytes() != f.read_bytes():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
                counts["files_copied"] += 1
    kb = data.get("kb_dir")
    if kb and (snapshot / Path(kb).relative_to(raw_dir)).is_dir():
        for f in sorted((snapshot / Path(kb).relative_to(raw_dir)).rglob("*")):
            dest = Path(kb) / f.relative_to(snapshot / Path(kb).relative_to(raw_dir))
            if f.is_file() and (not dest.exists() or dest.read_bytes() != f.read_bytes()):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
                counts["files_copied"] += 1
    return counts


def _append_lines(fresh: Path, dest: Path, counts: dict[str, int], header: bool) -> None:
    old = dest.read_text(encoding="utf-8").splitlines()
    new = fresh.read_text(encoding="utf-8").splitlines()
    if header:
        if not new or not old or new[0] != old[0]:
            raise ValueError(f"{fresh}: its CSV header differs from {dest}'s; cannot append")
        new = new[1:]
    seen = set(old)
    added = [line for line in new if line.strip() and line not in seen]
    counts["lines_added"] += len(added)
    counts["lines_already_there"] += len(new) - len(added)
    if added:
        text = dest.read_text(encoding="utf-8")
        dest.write_text(
            text + ("" if text.endswith("\n") or not text else "\n") + "\n".join(added) + "\n", encoding="utf-8"
        )


def bring_feedback(candidates: str | Path, into: str | Path) -> int:
    """Approved candidates (approved: true) into the training source, by id; returns how many are there."""
    candidates, into = Path(candidates), Path(into)
    if not candidates.exists():
        return 0
    approved = {c["id"]: c for c in read_jsonl(candidates) if c.get("approved") is True}
    if not approved:
        return 0
    have = {c["id"]: c for c in read_jsonl(into)} if into.exists() else {}
    have.update(approved)
    write_jsonl(into, sorted(have.values(), key=lambda c: c["id"]))
    return len(have)


def pr_body(decision: dict[str, Any], report: dict[str, Any], merged: dict[str, int] | None) -> tuple[str, str]:
    title = (
        "retrain: new data version ("
        + ("; ".join(r.split(":")[0] for r in decision["reasons"] if not r.startswith("(")) or "forced")
        + ")"
    )
    new_labels = report["label"].get("new_labels") or {}
    lines = [
        "Opened by `tuneloop monitor retrain` (.github/workflows/retrain.yml). The referee judges the adapter this "
        "data trains like any other pull request.",
        "",
        "**Why**: " + "; ".join(decision["reasons"]),
        "",
        "| signal | value | threshold | fired |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {s['signal']} | {s['value'] if s['value'] is not None else '-'} | {s['direction']} {s['threshold']} | "
        f"{'**yes**' if s['fired'] else 'no'} |"
        for s in decision["signals"]
    ]
    if merged:
        lines += [
            "",
            f"**Data**: {merged['lines_added']} new records appended to data/raw "
            f"({merged['lines_already_there']} already there), {merged['files_copied']} files copied.",
        ]
    if new_labels:
        lines += [
            "",
            "**New labels** in the fresh data that conf/data does not list (the adapter cannot learn them "
            "until they are added to `data.labels` in this PR): "
            + ", ".join(f"`{k}` ({n})" for k, n in new_labels.items()),
        ]
    lines += [
        "",
        "Full figures: `reports/drift/drift.md` in this branch; `dvc metrics diff main` shows them against main.",
    ]
    return title, "\n".join(lines) + "\n"


def alert(fresh_eval: dict[str, Any] | None, decision: dict[str, Any]) -> tuple[str, str] | None:
    """(title, body) when the production adapter scores under the gate's floor on fresh data, else None."""
    if not fresh_eval or fresh_eval.get("accuracy") is None or fresh_eval.get("floor") is None:
        return None
    acc, floor = float(fresh_eval["accuracy"]), float(fresh_eval["floor"])
    if acc >= floor:
        return None
    title = f"tuneloop alert: production adapter under the accuracy floor on fresh data ({acc:.3f} < {floor:.2f})"
    body = "\n".join(
        [
            f"The adapter in production (`{fresh_eval['adapter']}`) classifies **{acc:.1%}** of {fresh_eval['n']} fresh "
            f"labelled tickets correctly; the gate's floor is **{floor:.0%}**: it would not pass the gate today.",
            "",
            "**Retraining**: "
            + (
                "a pull request with the new data version is being opened; its referee judges the "
                "candidate. If the candidate is refused as well, no adapter clears the floor."
                if decision.get("retrain")
                else "the policy did not retrain this run ("
                + ("; ".join(decision.get("reasons") or []) or "nothing due")
                + ")."
            ),
            "",
            "**For a person to decide** (none of this happens by itself): more or fresher training data, a bigger "
            "preset (`preset=quality`), new labels added to `data.labels`, or the floor lowered knowingly in the base "
            "branch's conf/gate. Meanwhile the production adapter keeps serving; `tuneloop registry rollback` only "
            "helps if an earlier version scores better on the same fresh tickets.",
            "",
            "Figures: reports/retrain/decision.json (`fresh_eval`, every signal) and reports/drift/drift.md.",
        ]
    )
    return title, body + "\n"


def run(
    params: dict[str, Any],
    dry_run: bool = False,
    force: bool = False,
    branch: str | None = None,
    weeks_since: float | None = None,
    eval_adapter: str | None = None,
    push_data: bool = False,
    refresh: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    cfg = params["retrain"]
    now = now or datetime.now(UTC)
    if _sh("git", "status", "--porcelain", "--untracked-files=no", capture=True):
        raise RuntimeError(
            "the git working tree has uncommitted changes: commit or stash them first "
            "(`make retrain-check` runs this in a throwaway worktree)"
        )
    if refresh and cfg.get("refresh"):
        log.info("retrain: refresh: %s", cfg["refresh"])
        subprocess.run(cfg["refresh"], shell=True, check=True)
    _sh(*_dvc(), "repro", "drift")
    report = read_json(DRIFT_REPORT)
    if report.get("status") == "not run":
        log.warning("retrain: the drift stage did not run (%s): only the calendar and --force decide", report["reason"])
    signals = list(report["signals"])
    fresh_eval = None
    if eval_adapter:
        from tuneloop.monitor import score

        fresh_eval = score.fresh_accuracy(params, eval_adapter, cfg["current"])
        signals += [
            s
            for s in retrain_policy.fired({}, cfg["thresholds"], fresh_eval["accuracy"], fresh_eval["floor"])
            if s["family"] == "eval"
        ]
    weeks = weeks_since if weeks_since is not None else weeks_since_data_change(now)
    decision = retrain_policy.decide(
        signals,
        weeks,
        int((report.get("read") or {}).get("rows") or (report.get("rows") or {}).get("current") or 0),
        cfg["policy"],
    )
    if force and not decision["retrain"]:
        decision["reasons"].append("forced (--force)")
        decision["retrain"] = True
    decision.update(signals=signals, fresh_eval=fresh_eval, decided_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out: dict[str, Any] = {
        "retrain": decision["retrain"],
        "reasons": decision["reasons"],
        "branch": None,
        "commit": None,
    }
    loud = alert(fresh_eval, decision)
    decision["alert"] = loud[0] if loud else None
    out["alert"] = decision["alert"]
    for name in ("alert.md", "alert-title.txt"):
        (OUT_DIR / name).unlink(missing_ok=True)  # a stale alert from an earlier run must not be re-sent
    if loud:
        write_text_atomic(OUT_DIR / "alert.md", loud[1])
        write_text_atomic(OUT_DIR / "alert-title.txt", loud[0] + "\n")
        log.warning("retrain: %s", loud[0])
    if decision["retrain"] and not dry_run:
        merged = merge_snapshot(params["data"], cfg["current"])
        feedback = bring_feedback(cfg["feedback"]["candidates"], cfg["feedback"]["into"])
        title, body = pr_body(decision, report, merged)
        _sh(*_dvc(), "commit", "-q", "-f", "data.dvc")  # data.dvc records the new data/raw: the new data version
        branch = branch or f"{cfg['branch_prefix']}{now:%Y-%m-%d}"
        _sh("git", "switch", "-c", branch)
        _sh("git", "add", "--", *[p for p in COMMITTED if Path(p).exists()])
        _sh("git", "commit", "-q", "-m", title, "-m", body)
        if push_data:
            _sh(*_dvc(), "push", "-q", "data.dvc")
        out.update(
            branch=branch,
            commit=_sh("git", "rev-parse", "HEAD", capture=True),
            merged=merged,
            feedback_records=feedback,
            title=title,
        )
        write_text_atomic(OUT_DIR / "pr.md", body)
        write_text_atomic(OUT_DIR / "title.txt", title + "\n")
    write_json(OUT_DIR / "decision.json", decision)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.write(
                f"retrain={'true' if out['retrain'] and out['branch'] else 'false'}\nbranch={out['branch'] or ''}\n"
                f"alert={'true' if loud else 'false'}\n"
            )
    log.info(
        "retrain: %s (%s)", "yes" if decision["retrain"] else "no", "; ".join(decision["reasons"]) or "nothing due"
    )
    return out

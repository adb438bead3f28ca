"""`tuneloop pr report`: the PR comment body, rendered from fixture metrics in a temporary folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tuneloop import cli
from tuneloop.ci import comment as report

GATE_FAIL = {
    "passed": False,
    "rules_passed": 1,
    "rules_total": 2,
    "rules": [
        {
            "metric": "tuneloop_classify.acc",
            "kind": "min",
            "threshold": 0.7,
            "value": 0.41,
            "passed": False,
            "reason": None,
        },
        {
            "metric": "tuneloop_reply.rougeL",
            "kind": "min_delta",
            "threshold": -0.02,
            "value": 0.05,
            "passed": True,
            "reason": None,
        },
    ],
}
EVAL = {  # the shape evaluate.compare() writes
    "tuneloop_classify": {
        "n": 140,
        "acc": {"pre": 0.2, "post": 0.41, "delta": 0.21, "pre_stderr": 0.034, "post_stderr": 0.041},
    },
    "tuneloop_reply": {
        "n": 140,
        "rougeL": {"pre": 0.1, "post": 0.15, "delta": 0.05, "pre_stderr": 0.01, "post_stderr": 0.012},
    },
}
TIMING = {"train": {"wall_seconds": 5400.0, "device": "cuda"}, "evaluate": {"wall_seconds": 300.0}}
SPLIT = {
    "train": {"examples": 978, "tickets": 489, "labels": {"billing": 65, "shipping": 424}},
    "val": {"examples": 138, "tickets": 69, "labels": {"billing": 9, "shipping": 60}},
    "test": {"examples": 280, "tickets": 140, "labels": {"billing": 19, "shipping": 121}},
}


def _write(path: str, obj) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj), encoding="utf-8")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with the pipeline's outputs; dvc and git are stubbed (no repo, no subprocess)."""
    monkeypatch.chdir(tmp_path)
    _write("metrics/gate.json", GATE_FAIL)
    _write("metrics/eval.json", EVAL)
    _write("reports/timing.json", TIMING)
    _write("reports/data/split.json", SPLIT)
    calls = []

    def fake_run(cmd):
        calls.append(cmd)
        if cmd[:2] == ["git", "show"]:
            return False, "fatal: invalid object name"
        return True, "| Path | Param | HEAD | workspace |\n|---|---|---|---|\n| params.yaml | seed | 1 | 2 |\n"

    monkeypatch.setattr(report, "_run", fake_run)
    return calls


def test_marker_then_verdict_first(workdir):
    lines = report.render_pr_comment("main", env={}).splitlines()
    assert lines[0] == report.MARKER
    first = next(line for line in lines[1:] if line.strip())
    assert first.startswith("## Gate: ❌ **FAIL**") and "1/2 rules" in first
    body = "\n".join(lines)
    assert "`tuneloop_classify.acc`: post ≥ 0.7, got 0.410" in body  # the failing rule, named
    assert body.index("Gate:") < body.index("### Scores") < body.index("### Params") < body.index("### Cost")


def test_pass_verdict(workdir):
    _write(
        "metrics/gate.json",
        {**GATE_FAIL, "passed": True, "rules_passed": 2, "rules": [{**r, "passed": True} for r in GATE_FAIL["rules"]]},
    )
    body = report.render_pr_comment("main", env={})
    assert "## Gate: ✅ **PASS** (2/2 rules)" in body and "got" not in body


def test_champion_column_dash_until_evaluate_writes_it(workdir):
    body = report.render_pr_comment("main", env={})
    assert "| task | metric | n | pre | champion | post | Δ post − pre | Δ post − champion |" in body
    assert "| tuneloop_classify | acc | 140 | 0.200 ± 0.034 | – | 0.410 ± 0.041 | +0.210 | – |" in body

    with_champion = json.loads(json.dumps(EVAL))
    with_champion["tuneloop_classify"]["acc"].update(champion=0.5, champion_stderr=0.04)
    _write("metrics/eval.json", with_champion)
    body = report.render_pr_comment("main", env={})
    row = "| tuneloop_classify | acc | 140 | 0.200 ± 0.034 | 0.500 ± 0.040 | 0.410 ± 0.041 | +0.210 | -0.090 |"
    assert row in body


def test_cost_line_gpu_hours_and_price_assumption(workdir):
    body = report.render_pr_comment("main", env={})
    assert "- Training: 1 h 30 min on `cuda` = 1.50 GPU-hours." in body
    assert "**$3.00**, assuming $2.00 per GPU-hour" in body  # default price, stated as an assumption
    assert "TUNELOOP_GPU_HOUR_USD" in body
    priced = report.render_pr_comment("main", env={"TUNELOOP_GPU_HOUR_USD": "4"})
    assert "**$6.00**, assuming $4.00 per GPU-hour" in priced
    bad = report.render_pr_comment("main", env={"TUNELOOP_GPU_HOUR_USD": "cheap"})
    assert "$2.00 per GPU-hour (TUNELOOP_GPU_HOUR_USD is not a number; default used)" in bad


def test_cpu_training_costs_no_gpu_hours(workdir):
    _write("reports/timing.json", {"train": {"wall_seconds": 754.0, "device": "cpu"}})
    body = report.render_pr_comment("main", env={})
    assert "- Training: 12 min 34 s on `cpu` = 0.00 GPU-hours." in body and "**$0.00**" in body


def test_dvc_diffs_are_embedded(workdir):
    body = report.render_pr_comment("origin/main", env={})
    assert "### Params changed since `origin/main`" in body and "| params.yaml | seed | 1 | 2 |" in body
    assert ["params", "diff", "origin/main", "--md"] == workdir[0][-4:]
    assert ["metrics", "diff", "origin/main", "--md"] == workdir[1][-4:]


def test_no_crash_when_dvc_and_git_fail(tmp_path, monkeypatch):
    """The real subprocesses, in a folder that is no git or DVC repository: notes, not exceptions."""
    monkeypatch.chdir(tmp_path)
    _write("reports/data/split.json", SPLIT)
    monkeypatch.setattr(report, "DVC", [str(tmp_path / "no-such-dvc")])  # dvc missing altogether
    body = report.render_pr_comment("no-such-ref", env={})
    assert "_`dvc params diff no-such-ref` failed: FileNotFoundError_" in body
    assert "_`dvc metrics diff no-such-ref` failed: FileNotFoundError_" in body
    assert "No `reports/data/split.json` at `no-such-ref`" in body  # git show failed (not a repo)
    assert "⚠️ Gate: **NO VERDICT**" in body and "`metrics/eval.json` is missing" in body
    assert "`reports/timing.json` has no training time: no cost estimate." in body

    monkeypatch.setattr(report, "DVC", [sys.executable, "-m", "dvc"])
    ok, reason = report._run([*report.DVC, "params", "diff", "no-such-ref", "--md"])  # dvc present, no repo
    assert not ok and reason


def test_data_diff_against_base_ref(workdir, monkeypatch):
    base = json.loads(json.dumps(SPLIT))
    base["train"].update(examples=960, tickets=480, labels={"billing": 60, "shipping": 420})
    monkeypatch.setattr(report, "_run", lambda cmd: (True, json.dumps(base)) if cmd[0] == "git" else (True, ""))
    body = report.render_pr_comment("main", env={})
    assert "| train | 960 → 978 (+18) | 480 → 489 (+9) |" in body
    assert "| val | 138 (=) | 69 (=) |" in body
    assert "| billing | 60 → 65 (+5) · 13% | 9 (=) · 13% | 19 (=) · 14% |" in body
    assert "No changes." in body  # empty dvc diff output


def test_run_link_from_github_env(workdir):
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/tuneloop", "GITHUB_RUN_ID": "42"}
    body = report.render_pr_comment("main", env)
    assert "[Workflow run 42](https://github.com/acme/tuneloop/actions/runs/42)" in body
    assert "no run link" in report.render_pr_comment("main", env={})


def test_cli_writes_the_body(workdir, capsys):
    assert cli.main(["pr", "report", "--out", "out/comment.md", "--base-ref", "main"]) == 0
    assert Path("out/comment.md").read_text(encoding="utf-8").startswith(report.MARKER + "\n")
    # the flat name of release 0.1 still works for one release, and says what replaces it
    assert cli.main(["report", "--pr", "--out", "out/old.md"]) == 0
    assert "deprecated, use `tuneloop pr report`" in capsys.readouterr().err
    assert Path("out/old.md").read_text(encoding="utf-8") == Path("out/comment.md").read_text(encoding="utf-8")


def test_cost_shows_the_estimate_beside_the_actual(workdir):
    _write(
        "reports/timing.json",
        {
            "train": {
                "wall_seconds": 5400.0,
                "device": "cuda",
                "real_tokens_per_s": 812.4,
                "s_per_step": 1.5,
                "fraction_of_bound": 0.21,
                "peak_rss_gib": 3.2,
                "estimate": {"seconds": 4500.0, "error_pct": 20.0, "bound_gflops": 400000.0, "efficiency": 0.3},
            }
        },
    )
    body = report.render_pr_comment("main", env={})
    assert "- Estimated before training: 1 h 15 min = 1.25 GPU-hours" in body
    assert "actual 1 h 30 min: error +20%." in body
    assert "- Throughput: 812 real tokens/s, 1.5 s/step, 21% of the matmul bound; peak RSS 3.2 GiB." in body

"""`tuneloop monitor retrain` rehearsed for real: a git + DVC repo with a trained split and a drifted fresh snapshot;
the policy fires on the drift, and the new data version lands as one commit on a local branch (no push)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from tuneloop.data import build, index, prepare, split
from tuneloop.data.example import stream
from tuneloop.params import compose, write_params

pytestmark = pytest.mark.slow  # git, dvc and three stages: about a minute on 2 cores


def sh(*cmd: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _track(repo: Path, folder: str, dvc_file: str) -> None:
    """`dvc add` a folder and keep its .dvc file at the root, as this repo does (data.dvc, fresh.dvc)."""
    sh("dvc", "add", "-q", folder, cwd=repo)
    made = repo / (folder + ".dvc")
    text = made.read_text().replace(f"path: {Path(folder).name}", f"path: {folder}")
    (repo / dvc_file).write_text(text)
    made.unlink()
    (made.parent / ".gitignore").unlink(missing_ok=True)


@pytest.fixture
def repo(tmp_path, corpus_dir):
    root = tmp_path / "repo"
    shutil.copytree(corpus_dir, root / "data" / "raw")
    shutil.copytree(REPO / "conf", root / "conf")
    stream.snapshot(root / "data" / "fresh", 17, 20, per_week=40, seed=3)
    params = compose(["data.tasks=[classify]", "redact.engine=rules"], conf_dir=root / "conf")
    old = os.getcwd()
    os.chdir(root)
    try:
        write_params(params)
        for stage in (prepare, index, build, split):
            stage.run(params)
    finally:
        os.chdir(old)
    drift_stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["drift"]
    drift_stage["deps"] = [d for d in drift_stage["deps"] if d.startswith("data/")]  # the code is installed here
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"drift": drift_stage}}))
    (root / ".gitignore").write_text(
        "/data/raw\n/data/fresh\n/data/prepared\n/data/splits\n/data/examples.jsonl\n/reports/retrain/\n"
    )
    sh("git", "init", "-q", "-b", "main", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    _track(root, "data/raw", "data.dvc")
    _track(root, "data/fresh", "fresh.dvc")
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "start", cwd=root)
    return root


def test_retrain_commits_the_new_data_version_on_a_local_branch(repo):
    before = (repo / "data/raw/tickets.jsonl").read_text().count("\n")
    md5_before = yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]["md5"]
    dry = sh("tuneloop", "monitor", "retrain", "--dry-run", "--weeks-since", "2", cwd=repo)
    assert json.loads(dry.stdout)["retrain"] is True and json.loads(dry.stdout)["branch"] is None
    assert sh("git", "branch", "--show-current", cwd=repo).stdout.strip() == "main"
    sh("git", "checkout", "-q", "--", ".", cwd=repo)  # the dry run's drift outputs: back to the commit
    sh("git", "clean", "-qfd", "reports", "metrics", "dvc.lock", cwd=repo, check=False)

    done = json.loads(sh("tuneloop", "monitor", "retrain", "--weeks-since", "2", cwd=repo).stdout)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert done["retrain"] and done["branch"] == f"retrain/{today}" and done["reasons"][0].startswith("signals:")
    assert sh("git", "branch", "--show-current", cwd=repo).stdout.strip() == done["branch"]
    changed = sh("git", "show", "--name-only", "--format=%s", "HEAD", cwd=repo).stdout.split("\n")
    assert changed[0].startswith("retrain: new data version (signals)")
    assert {"data.dvc", "dvc.lock", "metrics/drift.json", "reports/drift/drift.md"} <= set(changed)
    assert yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]["md5"] != md5_before
    assert sh("dvc", "status", "data.dvc", cwd=repo).stdout.strip().endswith("up to date.")  # cached, consistent
    after = (repo / "data/raw/tickets.jsonl").read_text().count("\n")
    assert after - before == 160 == done["merged"]["lines_added"]  # 4 weeks x 40 fresh tickets, each once
    assert (repo / "data/raw/kb/trade-in-program.md").exists()  # the new policy's KB article came along
    body = (repo / "reports/retrain/pr.md").read_text()
    assert "`trade_in`" in body and "| unknown_label_share |" in body
    # nothing left the machine: no remote was ever configured
    assert sh("git", "remote", cwd=repo).stdout.strip() == ""

    # the same fresh data again: every line already there, so no new record (and the tree must be clean)
    (repo / "stray.txt").write_text("x")
    sh("git", "add", "stray.txt", cwd=repo)
    refused = sh("tuneloop", "monitor", "retrain", "--weeks-since", "2", cwd=repo, check=False)
    assert refused.returncode == 2 and "uncommitted changes" in refused.stderr


def test_a_calm_week_inside_the_cadence_opens_nothing(repo):
    calm = repo / "data" / "fresh"
    shutil.rmtree(calm)
    # 80 a week: at 40 (120 tickets over 9 product buckets) the product PSI of a calm copy reached 0.30 by
    # chance; the stream against the whole example corpus measures 0.03 (with its follow-ups or without)
    stream.snapshot(calm, -3, -1, per_week=80, seed=3)
    sh("dvc", "commit", "-q", "-f", "fresh.dvc", cwd=repo)
    sh("git", "commit", "-qam", "calm snapshot", cwd=repo)
    done = json.loads(sh("tuneloop", "monitor", "retrain", "--weeks-since", "2", cwd=repo).stdout)
    decision = json.loads((repo / "reports/retrain/decision.json").read_text())
    fired = [s["signal"] for s in decision["signals"] if s["fired"]]
    assert fired == []  # the new-term figure is held against held-out training texts, not against zero
    assert done["retrain"] is False and done["branch"] is None and decision["due_in_weeks"] == 4.0
    assert sh("git", "branch", "--list", "retrain/*", cwd=repo).stdout.strip() == ""


def test_production_under_the_floor_is_an_alert_whatever_the_policy_says(repo, tiny_model_dir, tmp_path, monkeypatch):
    """--eval-adapter scores the production adapter on the fresh tickets; under the gate's floor, the run
    writes an alert for a person and tells the workflow (alert=true), even when nothing is retrained."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    (repo / "models").mkdir()
    (repo / "models" / "base").symlink_to(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"])).save_pretrained(tmp_path / "adapter")
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))  # sh() passes the environment on
    done = json.loads(
        sh(
            "tuneloop",
            "monitor",
            "retrain",
            "--dry-run",
            "--weeks-since",
            "2",
            "--eval-adapter",
            str(tmp_path / "adapter"),
            cwd=repo,
        ).stdout
    )
    decision = json.loads((repo / "reports/retrain/decision.json").read_text())
    fresh = decision["fresh_eval"]
    assert fresh["n"] == 160 and fresh["accuracy"] < 0.70 == fresh["floor"]  # an untrained tiny adapter: ~0
    assert next(s for s in decision["signals"] if s["signal"] == "fresh_accuracy")["fired"] is True
    assert done["alert"] and done["alert"] == decision["alert"] and "under the accuracy floor" in done["alert"]
    body = (repo / "reports/retrain/alert.md").read_text()
    assert f"{fresh['n']} fresh" in body and "70%" in body and "For a person to decide" in body
    assert "alert=true" in outputs.read_text() and "retrain=false" in outputs.read_text()  # dry run: no branch

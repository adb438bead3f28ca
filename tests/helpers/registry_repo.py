"""A real git + DVC repo for registry tests: a `train` stage copies an adapter folder into models/adapter,
so `dvc repro` writes a real dvc.lock (md5 of the folder) and fills the real DVC cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DVC_YAML = """stages:
  train:
    cmd: python make_adapter.py
    deps: [make_adapter.py, adapters, data/splits/train.jsonl]
    params: [which]
    outs: [models/adapter]
"""
MAKE = """import shutil, yaml
which = yaml.safe_load(open("params.yaml"))["which"]
shutil.rmtree("models/adapter", ignore_errors=True)
shutil.copytree(f"adapters/{which}", "models/adapter")
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def make_repo(root: Path, adapters: dict[str, Path]) -> Path:
    """git init + dvc init + artifacts.yaml/.gto from this repo + a train stage over `adapters`."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "registry-test@example.invalid")
    git(root, "config", "user.name", "registry test")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    for name in ("artifacts.yaml", ".gto"):
        shutil.copy(REPO / name, root / name)
    for name, src in adapters.items():
        shutil.copytree(src, root / "adapters" / name)
    (root / "data" / "splits").mkdir(parents=True)
    (root / "data" / "splits" / "train.jsonl").write_text('{"x": 1}\n')
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "make_adapter.py").write_text(MAKE)
    return root


def train_and_commit(root: Path, which: str, summary: dict | None = None) -> str:
    """`dvc repro` with params `which`, commit; returns the adapter md5 dvc.lock records."""
    (root / "params.yaml").write_text(f"which: {which}\n")
    dvc(root, "repro", "-q")
    if summary is not None:
        (root / "metrics").mkdir(exist_ok=True)
        (root / "metrics" / "summary.json").write_text(json.dumps(summary))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"train {which}")
    import yaml

    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "models/adapter")


def verdict(md5: str, passed: bool = True) -> dict:
    return {
        "passed": passed,
        "candidate_md5": md5,
        "base_sha": "0" * 40,
        "rules": [{"name": "classify.acc floor", "passed": passed}],
        "summary": {"classify.acc": 0.7},
    }

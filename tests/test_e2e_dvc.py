"""End to end: a fresh copy of this repo runs `dvc repro` on the tiny model, replays nothing the
second time, and `dvc exp run -S preset=quick_start` re-runs only what depends on the preset."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import TINY_EVAL_SIZES
from helpers.checkout import copy_checkout, sh

from tuneloop.io import read_json

pytestmark = pytest.mark.slow
STAGES = ["base", "prepare", "build", "split", "guard", "train", "evaluate", "gate", "card", "drift"]


def ran(output: str) -> list[str]:
    return [s for s in STAGES if re.search(rf"Running stage '{s}'", output)]


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory, tiny_model_dir):
    """The repo's own files (what a clone has), configured for the tiny model, as a new git repo."""
    dest = copy_checkout(tmp_path_factory.mktemp("clone") / "repo", tiny_model_dir, TINY_EVAL_SIZES)
    config = (dest / "conf/config.yaml").read_text()
    config = config.replace("model: smollm2-135m", "model: tiny-random").replace("preset: cpu ", "preset: smoke ")
    (dest / "conf/config.yaml").write_text(config)
    sh("tuneloop", "params", cwd=dest)
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    sh("git", "add", "-A", cwd=dest)
    sh("git", "commit", "-q", "-m", "clone", cwd=dest)
    return dest


def test_fresh_clone_pulls_corpus_and_reproduces(repo_copy):
    sh("dvc", "pull", "-q", "data.dvc", "fresh.dvc", cwd=repo_copy)
    assert (
        sh("dvc", "status", "data.dvc", "fresh.dvc", cwd=repo_copy)
        .strip()
        .endswith("Data and pipelines are up to date.")
    )
    out = sh("dvc", "repro", cwd=repo_copy)
    # Every stage with a cached output runs (a clone has none). `guard` and `drift` write only git-tracked
    # reports and metrics: with the committed corpus and fresh snapshot their deps match dvc.lock, so DVC
    # rightly skips them.
    assert set(STAGES) - {"guard", "drift"} <= set(ran(out))
    for path in (
        "models/adapter/adapter_config.json",
        "metrics/train.json",
        "metrics/eval.json",
        "metrics/gate.json",
        "reports/gate.md",
        "model_card.md",
        "dvc.lock",
    ):
        assert (repo_copy / path).exists(), path
    card = (repo_copy / "model_card.md").read_text()
    assert card.startswith("---\nbase_model:") and "| tuneloop_classify | task eval (test split) | acc |" in card
    # the lineage names the exact splits and exam the adapter met
    from tuneloop.io import sha256_file

    for path in ("data/splits/train.jsonl", "data/splits/val.jsonl", "data/splits/test.jsonl", "evals/suite.lock"):
        assert f"- Input `{path}`: sha256 `{sha256_file(repo_copy / path)}`" in card, path
    gate = read_json(repo_copy / "metrics/gate.json")
    assert isinstance(gate["passed"], bool)

    # a second repro does nothing
    again = sh("dvc", "repro", cwd=repo_copy)
    assert ran(again) == [] and "Data and pipelines are up to date" in again
    # the DVC metrics are headlines only: the gate's and the drift's, not every count of every report
    shown = sh("dvc", "metrics", "show", "--json", cwd=repo_copy)
    metric_files = {f for run in json.loads(shown).values() for f in run["data"]}
    assert metric_files == {"metrics/summary.json", "metrics/drift.json"}
    assert read_json(repo_copy / "metrics/drift.json")["drift"]["drifted"] is True  # fresh.dvc: the drifted copy
    summary = read_json(repo_copy / "metrics/summary.json")
    flat = [v for group in summary.values() for v in group.values()]
    assert summary["gate"]["passed"] == gate["passed"] and "acc" in summary["classify"] and len(flat) <= 40
    sh("dvc", "plots", "show", "-o", str(repo_copy / "plots_html"), cwd=repo_copy)
    assert (repo_copy / "plots_html/index.html").exists()

    # changing the preset re-runs only the stages downstream of it
    sh("git", "add", "-A", cwd=repo_copy)
    sh("git", "commit", "-q", "-m", "baseline run", cwd=repo_copy)
    exp = sh("dvc", "exp", "run", "-S", "preset=quick_start", cwd=repo_copy)
    assert ran(exp) == ["train", "evaluate", "gate", "card"]
    assert yaml.safe_load((repo_copy / "params.yaml").read_text())["preset"]["name"] == "quick_start"
    diff = sh("dvc", "params", "diff", "--md", cwd=repo_copy)
    assert "preset.name" in diff and "quick_start" in diff

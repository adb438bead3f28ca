"""End to end for a company unlike the example: Northwind Mobile (tests/helpers/company2.py), a phone carrier with
42 intents, short chat messages and every export kind mixed (classification CSV, Zendesk, chat JSONL, call
transcripts, instruction pairs). As a new user would: put the exports in data/raw, write conf/data only,
`dvc add data/raw`, `dvc repro split`, `tuneloop suite init` (the company's own frozen suite and gate),
then `dvc repro` through train, evaluate and gate on the tiny model."""

from __future__ import annotations

import pytest
import yaml
from conftest import TINY_EVAL_SIZES
from helpers.checkout import copy_checkout, sh
from helpers.company2 import CSV_NAME, NAME, write_company, write_csv_company

from tuneloop.io import read_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def company_repo(tmp_path_factory, tiny_model_dir):
    dest = copy_checkout(tmp_path_factory.mktemp("northwind") / "repo", tiny_model_dir, TINY_EVAL_SIZES)
    write_company(dest)
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    return dest


OVERRIDES = [f"data={NAME}", f"suite={NAME}", "model=tiny-random", "preset=smoke", "preset.max_steps=4"]


def test_a_company_unlike_the_example_goes_end_to_end(company_repo):
    repo = company_repo
    # README "Your company's data", step by step (no example data pulled, nothing fresh yet)
    (repo / "data" / "fresh").mkdir(parents=True, exist_ok=True)
    sh("dvc", "add", "-q", "data/raw", cwd=repo)
    sh("tuneloop", "params", *OVERRIDES, cwd=repo)
    sh("dvc", "repro", "split", cwd=repo)

    build = read_json(repo / "reports/data/build.json")
    for kind in ("labelled_text", "ticket", "chat", "transcript", "instruction"):
        assert build["kinds"][kind]["with_examples"] == build["kinds"][kind]["records"] > 0, kind
    assert build["prompt_words"]["classify"]["p95"] < 60  # 42 labels are not listed in the prompt
    # real token counts with the base's chat template (the tiny test tokenizer splits words finely; with
    # SmolLM2 a 75-label classify prompt is 64 tokens at the median: docs/any-company.md)
    assert build["tokens"]["prompt"]["classify"]["median"] > build["prompt_words"]["classify"]["median"]

    out = sh("tuneloop", "suite", "init", cwd=repo)  # no --force: the example's suite is replaced, and said
    assert "replacing Lumora's suite under evals with Northwind" in out
    assert (repo / f"conf/gate/{NAME}.yaml").exists()
    sh("tuneloop", "params", *OVERRIDES, f"gate={NAME}", cwd=repo)
    # the whole pipeline: the drift stage has nothing fresh to compare yet, says so and succeeds
    sh("dvc", "repro", cwd=repo)
    drift = read_json(repo / "reports/drift/drift.json")
    assert drift["status"] == "not run" and "no request log" in drift["reason"]

    train = read_json(repo / "metrics/train.json")
    assert train["train_examples"] > 0 and train["dropped_too_long"] == 0
    # every kind reached training: classify (CSV, tickets, calls), reply and summary (tickets, calls), chat, instruction
    assert {"classify", "reply", "summary", "priority", "chat", "instruction"} <= set(train["train_examples_by_task"])
    table = read_json(repo / "metrics/eval.json")
    assert "tuneloop_classify" in table and "tuneloop_regression_classify" in table
    gate = read_json(repo / "metrics/gate.json")
    missing = [r["metric"] for r in gate["rules"] if r.get("status") == "skipped" and not r["passed"]]
    assert missing == [], f"the company's gate names metrics its evaluation does not produce: {missing}"
    assert "Lumora" not in (repo / "evals/probes/refusal.jsonl").read_text()


@pytest.fixture(scope="module")
def csv_repo(tmp_path_factory, tiny_model_dir):
    dest = copy_checkout(tmp_path_factory.mktemp("acme") / "repo", tiny_model_dir, TINY_EVAL_SIZES)
    labels = write_csv_company(dest)
    # the shipped cap for label answers (copy_checkout cuts it to 8 tokens for speed): the longest label + 4
    ev_file = dest / "conf/eval/default.yaml"
    ev = yaml.safe_load(ev_file.read_text())
    ev["layers"]["tasks"]["tuneloop_classify"]["max_gen_toks"] = "auto"
    ev_file.write_text(yaml.safe_dump(ev, sort_keys=False))
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    return dest, labels


def test_a_csv_only_company_with_long_labels_follows_the_readme_to_a_full_dvc_repro(csv_repo):
    """Only a `text,label` CSV and the README's three-key conf/data: every README step exits 0."""
    from transformers import AutoTokenizer

    repo, labels = csv_repo
    # max_length 1024: the tiny test tokenizer splits words finely, so 12 labels of 40 characters listed in the
    # prompt run past 256 tokens (with SmolLM2 that prompt is ~150); at 256 train refuses, naming the task
    overrides = [f"data={CSV_NAME}", f"suite={CSV_NAME}", "model=tiny-random", "preset=smoke", "preset.max_steps=4"]
    overrides.append("preset.max_length=1024")
    (repo / "data" / "fresh").mkdir(parents=True, exist_ok=True)
    sh("dvc", "add", "-q", "data/raw", cwd=repo)
    sh("tuneloop", "params", *overrides, cwd=repo)
    sh("dvc", "repro", "split", cwd=repo)
    sh("tuneloop", "suite", "init", cwd=repo)
    sh("tuneloop", "params", *overrides, f"gate={CSV_NAME}", cwd=repo)
    sh("dvc", "repro", cwd=repo)

    train = read_json(repo / "metrics/train.json")
    # classify from the CSV, and the policy's safety examples although the data makes nothing else
    assert set(train["train_examples_by_task"]) == {"classify", "safety"}
    table = read_json(repo / "metrics/eval.json")
    tokenizer = AutoTokenizer.from_pretrained(repo / "models/base")
    longest = max(len(tokenizer(" " + label).input_ids) for label in labels)
    assert table["max_gen_toks"]["tuneloop_classify"] >= longest  # whole labels, never cut
    gate = read_json(repo / "metrics/gate.json")
    missing = [r["metric"] for r in gate["rules"] if r.get("status") == "skipped" and not r["passed"]]
    assert missing == [], missing
    assert read_json(repo / "reports/drift/drift.json")["status"] == "not run"
    assert "Acme Bank" in (repo / "evals/probes/escalation.jsonl").read_text()  # its own suite, not Lumora's
    assert (repo / "reports/gate.md").exists() and (repo / "model_card.md").exists()

"""The red team: pull-request branches that each carry a bad adapter and one attack on the grader.

A scratch git repository plays the project: its `main` is this working tree, set up for a tiny model
(a keyword-classification base fine-tuned here, as in test_referee.py) with a frozen regression suite
of keyword tickets and a gate with absolute floors. Each attack branch changes what a PR controls:
  (a) gate rules emptied in conf/config.yaml     (b) thresholds lowered in params.yaml
  (c) parse_label changed to always match        (d) regression cases and suite.lock edited consistently
  (e) forged metrics/*.json + dvc.lock            (f) an adapter with a pickle / a foreign base model
  (g) an adapter config that makes PEFT build another model (pissa)
and attacks on the exam: a regression case repeated 30 times and another paraphrased in the training
split, with ids written to reach the PR page (the good adapter: the guard alone must fail it); the sealed
holdout declared but not given, given in another version, and one of its items in the training split.
The train job's hand-over (adapter_config.json + adapter_model.safetensors + train.jsonl) is taken from
the branch's worktree as pr-eval.yml copies it; the referee runs as CI runs it: `tuneloop pr referee` from
a worktree of `main`, its own source first on the path. Every attack must fail; the good adapter passes.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from helpers.checkout import without_critical
from test_referee import FILLER, KEYWORDS, LABELS, _write, keyword_tickets

from tuneloop.data.synth import classify_instruction

pytestmark = pytest.mark.slow
GIT = ["git", "-c", "user.email=red@team.test", "-c", "user.name=red team", "-c", "commit.gpgsign=false"]
# The scratch main's grader: floors on the task and on the frozen regression suite, a budget against
# the base, non-inferiority against the champion, zero canary leaks.
GATE = {
    "rules": [
        {"metric": "tuneloop_classify.acc", "min": 0.2},  # chance is 0.125; the keyword base: 0.31
        {"metric": "tuneloop_classify.acc", "min_delta": -0.05},
        {"metric": "tuneloop_classify.acc", "non_inferior": 0.05},
        {"metric": "tuneloop_regression_classify.acc", "min": 0.15},  # the keyword base: 0.21
        {"metric": "leaks.canary", "max": 0},
    ]
}
LAYERS = {
    "tasks": {"tuneloop_classify": {"max_gen_toks": 8, "limit": None}},
    "regression": {"tuneloop_regression_classify": {"max_gen_toks": 8, "limit": None}},
    "sealed": {"tuneloop_sealed_classify": {"max_gen_toks": 8, "limit": None}},  # where sealed.dvc is declared
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def tuneloop(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The CLI of the checkout at cwd (its src first on the path), as a workflow step runs it."""
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "tuneloop.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert not check or proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def regression_cases(n_per_label: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "id": f"reg-kw-{label}-{i}",
            "kind": "classify",
            "subject": "",
            "text": " ".join(rng.sample(FILLER, 6) + [rng.choice(KEYWORDS[label])]),
            "label": label,
        }
        for label in LABELS
        for i in range(n_per_label)
    ]


def _yaml(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(origin repo, main worktree, {name: adapter dir}, train split) with a fine-tuned keyword base."""
    from conftest import tiny_params
    from helpers.tiny_model import build_tiny_model

    from tuneloop.params import compose
    from tuneloop.train import base, sft

    root = tmp_path_factory.mktemp("redteam")
    corpus = [" ".join(FILLER + sum(KEYWORDS.values(), []) + LABELS)] * 20 + [classify_instruction(LABELS)] * 5
    tiny = build_tiny_model(root / "tiny", corpus)
    old = os.getcwd()
    work = root / "train"
    work.mkdir()
    os.chdir(work)
    try:
        # 1. the keyword base: the full fine-tune of test_referee.py's champion
        params = tiny_params(tiny, "method=full", "preset.max_steps=400", "preset.learning_rate=3e-3")
        system = params["data"]["system_prompt"]
        _write("data/splits/val.jsonl", keyword_tickets(2, 2, system))
        _write("data/splits/train.jsonl", keyword_tickets(30, 1, system))
        base.run(params)
        sft.run(params, out_dir=root / "keyword-base")
    finally:
        os.chdir(old)

    # 2. the scratch project: this working tree's files, set up for the keyword base, committed as main
    origin = root / "origin"
    for rel in subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.splitlines():
        src = REPO / rel
        # sealed.dvc: the keyword world has no sealed holdout until test_sealed_* declares one
        if rel.startswith(("dvc-storage/", "metrics/", "reports/", ".ci/", "sealed.dvc")) or not src.is_file():
            continue
        (origin / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, origin / rel)
    _yaml(origin / "conf/model/tiny-random.yaml", lambda m: m.update(local_path=str(root / "keyword-base")))
    _yaml(
        origin / "conf/config.yaml",
        lambda c: (
            c.update(
                defaults=[
                    {"model": "tiny-random"} if "model" in d else {"preset": "smoke"} if "preset" in d else d
                    for d in c["defaults"]
                ]
            )
            or c.pop("model", None)
        ),
    )
    _yaml(origin / "conf/eval/default.yaml", lambda e: e.update(layers=LAYERS))
    without_critical(origin)  # no probe layer here: critical items could never be scored
    # a keyword world: eight labels, no out-of-scope answer (the keyword base never learned one)
    _yaml(origin / "conf/data/example.yaml", lambda d: d.update(out_of_scope_label=None))
    (origin / "conf/gate/default.yaml").write_text(yaml.safe_dump(GATE))
    _write(str(origin / "evals/regression/cases.jsonl"), regression_cases(3, 9))
    git(origin, "init", "-q", "-b", "main")
    tuneloop(origin, "suite", "freeze")
    tuneloop(origin, "params")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "main: the referee under test")

    # 3. the referee's checkout: a worktree of main with its DVC outputs (base model, test split)
    main = root / "main"
    git(origin, "worktree", "add", "-q", "--detach", str(main), "main")
    main_params = compose([], conf_dir=main / "conf")
    os.chdir(main)
    try:
        base.run(main_params)
        _write("data/splits/test.jsonl", keyword_tickets(4, 3, system))
        # main's own training split: the guard's baseline (common n-grams, the paraphrase check's margin)
        _write("data/splits/train.jsonl", keyword_tickets(30, 1, system))
        # 4. what PR train jobs produce: LoRAs of main's base on true / shuffled labels
        adapters = {}
        for name, shuffled, steps, lr in (("good", False, 4, 1e-5), ("bad", True, 30, 1e-1)):
            p = json.loads(json.dumps(main_params))
            p["preset"].update(max_steps=steps, learning_rate=lr, lora_rank=8)
            _write(f"{root}/split-{name}/train.jsonl", keyword_tickets(30, 1, system, shuffle_labels=shuffled))
            _write(f"{root}/split-{name}/val.jsonl", keyword_tickets(2, 2, system))
            sft.run(
                p,
                split_dir=root / f"split-{name}",
                out_dir=root / f"adapter-{name}",
                metrics_file=root / f"train-{name}.json",
                loss_plot=root / f"loss-{name}.json",
            )
            adapters[name] = root / f"adapter-{name}"
    finally:
        os.chdir(old)
    yield origin, main, adapters, root


def pr_branch(origin: Path, name: str, attack, adapter: Path, root: Path) -> Path:
    """A PR branch with one attack committed; returns the train job's hand-over folder."""
    wt = root / f"pr-{name}"
    git(origin, "worktree", "add", "-q", "-b", f"pr/{name}", str(wt), "main")
    attack(wt)
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "--allow-empty", "-m", f"attack {name}")
    shutil.copytree(adapter, wt / "models/adapter")  # what `dvc repro train` left in the PR's checkout
    shutil.copytree(root / ("split-bad" if "bad" in adapter.name else "split-good"), wt / "data/splits")
    handoff = root / f"handoff-{name}"  # pr-eval.yml's train job: exactly these three files
    (handoff / "adapter").mkdir(parents=True)
    for f in ("adapter_config.json", "adapter_model.safetensors"):
        shutil.copy2(wt / "models/adapter" / f, handoff / "adapter" / f)
    shutil.copy2(wt / "data/splits/train.jsonl", handoff / "train.jsonl")
    return handoff


_JUDGED: dict[str, Path] = {}  # inputs' hash -> the verdict folder the referee wrote for them


def referee(main: Path, handoff: Path, out: Path, *extra: str) -> dict:
    """The base's referee on a hand-over. Its verdict is a function of its inputs alone (the base commit,
    the adapter's two files, the training split, the arguments): attacks whose hand-over is byte for byte
    the same reuse one run, which is the property under test (the PR reaches the judge only through them)."""
    import hashlib

    digest = hashlib.sha256(git(main, "rev-parse", "HEAD").encode() + repr(extra).encode())
    sealed_dvc = main / "sealed.dvc"  # a file of the referee's checkout that a test adds: part of the inputs
    digest.update(sealed_dvc.read_bytes() if sealed_dvc.exists() else b"no sealed.dvc")
    for f in sorted((main / "data/general").glob("*")) if (main / "data/general").exists() else []:
        digest.update(f.name.encode() + f.read_bytes())  # the forgetting slice, versioned and/or pulled
    for f in (
        handoff / "adapter" / "adapter_config.json",
        handoff / "adapter" / "adapter_model.safetensors",
        handoff / "train.jsonl",
    ):
        digest.update(f.read_bytes() if f.exists() else b"-")
    if sorted(p.name for p in (handoff / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]:
        key = digest.hexdigest()
        if key in _JUDGED:
            shutil.copytree(_JUDGED[key], out)
            return json.loads((out / "verdict.json").read_text())
    else:
        key = None  # extra files (a pickle ...): always judged afresh
    tuneloop(
        main,
        "pr",
        "referee",
        "--adapter",
        str(handoff / "adapter"),
        "--train-split",
        str(handoff / "train.jsonl"),
        "--out",
        str(out),
        "--judged-sha",
        "0" * 40,
        *extra,
    )
    if key is not None:
        _JUDGED[key] = out
    return json.loads((out / "verdict.json").read_text())


def attack_empty_rules(wt: Path) -> None:  # (a)
    _yaml(wt / "conf/config.yaml", lambda c: c.update(gate={"rules": []}))
    tuneloop(wt, "params")


def attack_lower_thresholds(wt: Path) -> None:  # (b)
    _yaml(
        wt / "params.yaml",
        lambda p: p["gate"].update(
            rules=[dict(r, **{k: -1.0 for k in ("min", "min_delta") if k in r}) for r in p["gate"]["rules"]]
        ),
    )


def attack_parse_label(wt: Path) -> None:  # (c)
    path = wt / "src/tuneloop/evals/metrics.py"
    path.write_text(path.read_text() + "\n\ndef parse_label(text, labels):  # red team\n    return labels[0]\n")
    utils = wt / "evals/tasks/utils.py"
    utils.write_text(
        utils.read_text() + "\n\ndef classify_results(doc, results):  # red team\n"
        "    return {'acc': 1.0, 'macro_f1': (doc['answer'], doc['answer'])}\n"
    )


def attack_regression_suite(wt: Path) -> None:  # (d)
    cases = wt / "evals/regression/cases.jsonl"
    rows = [json.loads(x) for x in cases.read_text().splitlines()]
    cases.write_text("".join(json.dumps(dict(r, label="billing")) + "\n" for r in rows[:3]))
    tuneloop(wt, "suite", "freeze")


def attack_forged_metrics(wt: Path) -> None:  # (e)
    from tuneloop.dvc_hash import file_md5 as md5_file

    gate = {"passed": True, "rules_passed": 5, "rules_total": 5, "warnings": 0, "rules": []}
    (wt / "metrics").mkdir(exist_ok=True)
    (wt / "metrics/gate.json").write_text(json.dumps(gate))
    (wt / "metrics/eval.json").write_text(json.dumps({"tuneloop_classify": {"acc": {"pre": 0.2, "post": 0.99}}}))
    lock = {
        "schema": "2.0",
        "stages": {
            "gate": {
                "cmd": "tuneloop gate",
                "outs": [
                    {"path": "metrics/gate.json", "hash": "md5", "md5": md5_file(wt / "metrics/gate.json")},
                    {"path": "metrics/eval.json", "hash": "md5", "md5": md5_file(wt / "metrics/eval.json")},
                ],
            }
        },
    }
    (wt / "dvc.lock").write_text(yaml.safe_dump(lock))


ATTACKS = {
    "a-empty-rules": attack_empty_rules,
    "b-lower-thresholds": attack_lower_thresholds,
    "c-parse-label": attack_parse_label,
    "d-regression-suite": attack_regression_suite,
    "e-forged-metrics": attack_forged_metrics,
}


def test_the_good_adapter_passes_and_the_verdict_names_md5_and_base(world):
    from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5

    origin, main, adapters, root = world
    handoff = pr_branch(origin, "good", lambda wt: None, adapters["good"], root)
    verdict = referee(main, handoff, root / "verdict-good", "--champion", str(handoff / "adapter"))
    assert verdict["passed"], [r for r in verdict["rules"] if not r["passed"]]
    # the md5 names the referee's canonical copy (what it scored and publishes), beside what was handed over
    assert verdict["candidate_md5"] == dvc_dir_md5(root / "verdict-good" / "adapter")
    assert verdict["submitted_md5"] == dvc_dir_md5(handoff / "adapter")
    assert verdict["base_sha"] == git(origin, "rev-parse", "main") and verdict["models"] == [
        "base",
        "champion",
        "candidate",
    ]
    assert set(verdict) >= {"passed", "candidate_md5", "base_sha", "rules", "summary"}
    assert tuneloop(main, "pr", "referee", "--check", str(root / "verdict-good/verdict.json")).returncode == 0
    out = sorted(
        p.relative_to(root / "verdict-good").as_posix() for p in (root / "verdict-good").rglob("*") if p.is_file()
    )
    assert not any("samples" in p or "redactions" in p for p in out) and "comment.md" in out
    assert verdict["candidate_md5"] in (root / "verdict-good/comment.md").read_text()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_on_the_grader_fails_the_check(world, name):
    origin, main, adapters, root = world
    handoff = pr_branch(origin, name, ATTACKS[name], adapters["bad"], root)
    wt = root / f"pr-{name}"
    if name == "e-forged-metrics":  # the attack works against a gate that trusts the PR's checkout ...
        assert tuneloop(wt, "gate", "--check").returncode == 0
    if name == "a-empty-rules":
        assert yaml.safe_load((wt / "params.yaml").read_text())["gate"]["rules"] == []
    verdict = referee(main, handoff, root / f"verdict-{name}")  # ... not against the base's referee
    assert verdict["scored"] and not verdict["passed"]
    failed = {r["metric"] for r in verdict["rules"] if not r["passed"]}
    assert failed & {"tuneloop_classify.acc", "tuneloop_regression_classify.acc"}, verdict["rules"]
    assert verdict["base_sha"] == git(origin, "rev-parse", "main")
    assert tuneloop(main, "pr", "referee", "--check", str(root / f"verdict-{name}/verdict.json")).returncode == 1


@pytest.mark.parametrize("variant", ["pickle", "foreign-base"])
def test_f_an_adapter_that_is_not_plain_data_is_refused_before_scoring(world, variant):
    import torch

    origin, main, adapters, root = world

    def attack(wt: Path) -> None:
        pass

    handoff = pr_branch(origin, f"f-{variant}", attack, adapters["bad"], root)
    if variant == "pickle":
        torch.save({"payload": torch.zeros(1)}, handoff / "adapter" / "adapter_model.bin")
    else:
        cfg = json.loads((handoff / "adapter/adapter_config.json").read_text())
        cfg["base_model_name_or_path"] = "meta-llama/Llama-3.1-8B-Instruct"
        (handoff / "adapter/adapter_config.json").write_text(json.dumps(cfg))
    verdict = referee(main, handoff, root / f"verdict-f-{variant}")
    assert not verdict["passed"] and not verdict["scored"]
    rule = next(r for r in verdict["rules"] if r["metric"] == "adapter")
    assert not rule["passed"] and (
        "adapter_model.bin" in rule["reason"]
        if variant == "pickle"
        else "not the base branch's base model" in rule["reason"]
    )
    assert "Not scored" in (root / f"verdict-f-{variant}/comment.md").read_text()


def test_a_champion_that_cannot_be_fetched_fails_closed(world):
    origin, main, adapters, root = world
    handoff = root / "handoff-good"
    verdict = referee(main, handoff, root / "verdict-no-champion", "--champion-unavailable")
    assert not verdict["passed"] and not verdict["scored"]
    assert any(r["metric"] == "champion" and not r["passed"] for r in verdict["rules"])


def good_handoff(origin: Path, adapters: dict, root: Path) -> Path:
    handoff = root / "handoff-good"
    return handoff if handoff.exists() else pr_branch(origin, "good", lambda wt: None, adapters["good"], root)


# --- the sealed holdout: a set the train job never reads; declared by sealed.dvc in the base commit -------------
@pytest.fixture()
def sealed_world(world):
    """main's checkout with a sealed holdout of keyword tickets declared (sealed.dvc), removed afterwards."""
    from tuneloop.data import seal

    origin, main, adapters, root = world
    store = root / "sealed-store" / "data" / "sealed"
    if not store.exists():
        rng = random.Random(11)
        rows = [
            {
                "ticket_id": f"SEALED-{label}-{i}",
                "subject": "help",
                "customer_message": " ".join(rng.sample(FILLER, 6) + [rng.choice(KEYWORDS[label])]),
                "agent_reply": "Thanks, we are on it.",
                "category": label,
                "satisfaction": 5,
            }
            for label in LABELS
            for i in range(3)
        ]
        _write(str(store / "tickets.jsonl"), rows)
    seal.write_dvc_file(store, main / "sealed.dvc")
    try:
        yield origin, main, adapters, root, store
    finally:
        (main / "sealed.dvc").unlink()


def test_sealed_declared_but_not_given_fails_closed_before_scoring(sealed_world):
    origin, main, adapters, root, store = sealed_world
    good = good_handoff(origin, adapters, root)
    verdict = referee(main, good, root / "verdict-sealed-missing")
    rule = next(r for r in verdict["rules"] if r["metric"] == "sealed")
    assert not verdict["passed"] and not verdict["scored"] and not rule["passed"] and "not given" in rule["reason"]
    other = root / "sealed-other"  # the wrong version: one ticket fewer
    shutil.copytree(store, other, dirs_exist_ok=True)
    lines = (other / "tickets.jsonl").read_text().splitlines()
    (other / "tickets.jsonl").write_text("\n".join(lines[1:]) + "\n")
    verdict = referee(main, good, root / "verdict-sealed-wrong", "--sealed", str(other))
    rule = next(r for r in verdict["rules"] if r["metric"] == "sealed")
    assert not verdict["passed"] and "is not the one sealed.dvc versions" in rule["reason"]


@pytest.fixture()
def forgetting_slice(world):
    """main's checkout with the forgetting slice versioned and pulled (3 HellaSwag-format items), removed after."""
    from test_train_evaluate import HELLASWAG_ROWS

    from tuneloop import paths

    main = world[1]
    slice_file = main / paths.GENERAL_SLICE
    _write(str(slice_file), HELLASWAG_ROWS)
    (main / (paths.GENERAL_SLICE.as_posix() + ".dvc")).write_text("outs:\n- path: hellaswag.jsonl\n")
    try:
        yield slice_file
    finally:
        slice_file.unlink()
        (main / (paths.GENERAL_SLICE.as_posix() + ".dvc")).unlink()


def test_the_forgetting_slice_versioned_but_not_pulled_fails_closed(world, forgetting_slice):
    origin, main, adapters, root = world
    forgetting_slice.unlink()  # versioned (its .dvc file is there), not pulled
    try:
        verdict = referee(main, good_handoff(origin, adapters, root), root / "verdict-no-slice")
    finally:
        forgetting_slice.write_text("")
    rule = next(r for r in verdict["rules"] if r["metric"] == "general")
    assert not verdict["passed"] and not verdict["scored"] and "fails closed" in rule["reason"]


def test_sealed_set_is_scored_its_items_stay_out_of_every_output_and_a_split_that_holds_one_fails(
    sealed_world, forgetting_slice
):
    """One scored run: a PR whose training split holds a sealed item (leaked, or guessed) with the good adapter;
    the forgetting slice versioned and pulled, so the referee runs it on CPU too."""
    from tuneloop.params import compose
    from tuneloop.referee import judge, sealed

    origin, main, adapters, root, store = sealed_world
    good = good_handoff(origin, adapters, root)
    ws = root / "sealed-items"
    sealed.build_items(ws, compose([], conf_dir=main / "conf"), store, main / "models/base", judge.run_stages)
    item = json.loads((ws / "data/splits/sealed.jsonl").read_text().splitlines()[0])
    leaky = root / "handoff-leaky"
    shutil.copytree(good, leaky)
    with (leaky / "train.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "leak", "task": "classify", "user": item["user"], "answer": item["answer"]}) + "\n")
    verdict = referee(main, leaky, root / "verdict-sealed-leak", "--sealed", str(store))
    # scored: the sealed items built by main's prepare/build, the task in the metrics
    assert verdict["scored"] and verdict["sealed"]["classify_items"] >= len(LABELS) * 3
    assert verdict["sealed_md5"] == (main / "sealed.dvc").read_text().split("md5: ")[1].split()[0]
    assert "tuneloop_sealed_classify" in json.loads((root / "verdict-sealed-leak/metrics/eval.json").read_text())
    # the guard caught the leaked item; the verdict fails on it, naming the PR's example, not the sealed one
    assert not verdict["passed"]
    assert any(r["metric"].startswith("contamination") and not r["passed"] for r in verdict["rules"]), verdict["rules"]
    flagged = json.loads((root / "verdict-sealed-leak/metrics/contamination.json").read_text())["sets"]["sealed"]
    assert [(f["id"], f["train_id"]) for f in flagged["flagged"]] == [("(sealed: not shown)", "leak")]
    # the exam stays sealed whatever the verdict: no sealed message in anything the referee publishes
    published = "".join(
        p.read_text(errors="replace") for p in (root / "verdict-sealed-leak").rglob("*") if p.suffix in (".json", ".md")
    )
    for ticket in (json.loads(x) for x in (store / "tickets.jsonl").read_text().splitlines()):
        assert ticket["customer_message"] not in published and ticket["ticket_id"] not in published
    assert "🔒 sealed holdout" in (root / "verdict-sealed-leak/comment.md").read_text()
    general = json.loads((root / "verdict-sealed-leak/metrics/eval.json").read_text())["general"]
    # the forgetting check ran in the referee, on CPU (lm-eval's n is the limit: 200; the slice has 3 items)
    assert "skipped" not in general and general["acc_norm"]["pre"] is not None
    assert general["acc_norm"]["post"] is not None


# --- studying the exam in git: repetition, paraphrase, and a hostile id, in one training split ---------------
def test_studying_the_frozen_suite_fails_the_guard_and_a_hostile_id_stays_inert(world):
    """With the GOOD adapter, so the guard is what fails: a regression case copied 30 times (repetition
    once made it "common"), another reworded (a paraphrase), each with an id written to reach the PR page."""
    origin, main, adapters, root = world
    good = good_handoff(origin, adapters, root)
    cases = [json.loads(x) for x in (main / "evals/regression/cases.jsonl").read_text().splitlines()]
    copied, reworded = cases[0], cases[5]
    words = reworded["text"].split()
    paraphrase = " ".join(["please", *words[:3], "now", *words[3:]])  # reordered a little, words added
    hostile = "@maintainers ![x](https://evil.test/p.png) <img src=x onerror=alert(1)>"
    study = root / "handoff-study"
    shutil.copytree(good, study)
    prompt = classify_instruction(LABELS) + "\n\n"
    with (study / "train.jsonl").open("a") as fh:
        for i in range(30):
            row = {
                "id": f"{hostile} {i}",
                "task": "classify",
                "user": prompt + copied["text"],
                "answer": copied["label"],
            }
            fh.write(json.dumps(row) + "\n")
        fh.write(
            json.dumps({"id": "para", "task": "classify", "user": prompt + paraphrase, "answer": "billing"}) + "\n"
        )
    verdict = referee(main, study, root / "verdict-study", "--champion", str(good / "adapter"))
    assert verdict["scored"] and not verdict["passed"]
    failed = [r for r in verdict["rules"] if not r["passed"]]
    assert [r["metric"] for r in failed] == ["contamination"], failed  # the good adapter clears every other rule
    regression = json.loads((root / "verdict-study/metrics/contamination.json").read_text())["sets"]["regression"]
    caught = {f["id"]: f for f in regression["flagged"]}
    assert caught[copied["id"]]["exact"] and "paraphrase" in caught[reworded["id"]], caught
    comment = (root / "verdict-study/comment.md").read_text()
    outside_code = re.sub(r"`[^`]*`", "", comment)  # what GitHub would render as markdown/HTML
    assert "@maintainers" not in outside_code and "![x]" not in outside_code and "<img" not in outside_code


def test_an_adapter_config_that_changes_what_peft_builds_is_refused_before_scoring(world):
    """pissa rewrites the base weights on load: refused by name, with the bad adapter, before any model loads."""
    origin, main, adapters, root = world
    handoff = pr_branch(origin, "g-pissa", lambda wt: None, adapters["bad"], root)
    cfg = json.loads((handoff / "adapter/adapter_config.json").read_text())
    (handoff / "adapter/adapter_config.json").write_text(json.dumps(cfg | {"init_lora_weights": "pissa"}))
    verdict = referee(main, handoff, root / "verdict-g-pissa")
    rule = next(r for r in verdict["rules"] if r["metric"] == "adapter")
    assert not verdict["passed"] and not verdict["scored"] and "pissa" in rule["reason"]

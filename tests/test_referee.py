"""The harness as referee, end to end on real trained models: train -> evaluate (lm-eval) -> guard -> gate.

A champion adapter is trained on true labels, a candidate on shuffled labels (a real injected regression).
The tiny random model cannot learn the corpus's tickets in seconds, so the task here is one it can learn:
short tickets whose last word is a category keyword. Only the data is simplified; training, lm-eval,
the bootstrap, the guard and the gate are the production code paths.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import REPO, tiny_params
from helpers.checkout import without_critical

from tuneloop.data.synth import classify_instruction
from tuneloop.evals import contamination, evaluate
from tuneloop.gate import verdict as gate
from tuneloop.io import read_json
from tuneloop.train import base
from tuneloop.train import sft as train

pytestmark = pytest.mark.slow

LABELS = [
    "billing",
    "account_access",
    "shipping_delivery",
    "returns_refunds",
    "device_setup",
    "connectivity",
    "app_bug",
    "subscription",
]
KEYWORDS = {
    "billing": ["invoice", "charged", "refund"],
    "account_access": ["password", "login", "locked"],
    "shipping_delivery": ["parcel", "courier", "tracking"],
    "returns_refunds": ["return", "exchange", "label"],
    "device_setup": ["install", "wiring", "pairing"],
    "connectivity": ["wifi", "router", "offline"],
    "app_bug": ["crash", "freeze", "glitch"],
    "subscription": ["plan", "renewal", "cancel"],
}
FILLER = (
    "hello team my new thermostat from last week today please help quickly thanks again kind regards the home unit"
).split()


def keyword_tickets(n_per_label: int, seed: int, system: str, shuffle_labels: bool = False) -> list[dict]:
    rng, rows = random.Random(seed), []
    for label in LABELS:
        for i in range(n_per_label):
            text = " ".join(rng.sample(FILLER, 6) + [rng.choice(KEYWORDS[label])])
            user = classify_instruction(LABELS) + "\n\n" + text
            rows.append(
                {
                    "id": f"s{seed}-{label}-{i}",
                    "group": f"s{seed}-{label}-{i}",
                    "task": "classify",
                    "label": label,
                    "system": system,
                    "user": user,
                    "answer": label,
                    "choices": LABELS,
                    "gold": LABELS.index(label),
                }
            )
    if shuffle_labels:
        answers = [r["answer"] for r in rows]
        random.Random(seed + 100).shuffle(answers)
        for row, answer in zip(rows, answers):
            row["answer"] = answer
    for row in rows:
        row["prompt"] = [{"role": "system", "content": system}, {"role": "user", "content": row["user"]}]
        row["completion"] = [{"role": "assistant", "content": row["answer"]}]
    return rows


def _write(path: str, rows: list[dict]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def referee(tmp_path_factory):
    """A scratch repo with models/champion (true labels) and models/shuffled (shuffled labels)."""
    import os

    from helpers.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("referee")
    corpus = [" ".join(FILLER + sum(KEYWORDS.values(), []) + LABELS)] * 20 + [classify_instruction(LABELS)] * 5
    tiny = build_tiny_model(root / "tiny", corpus)
    shutil.copytree(REPO / "evals", root / "evals")
    without_critical(root)  # this scratch repo evaluates classify only: no critical probe is scored
    old = os.getcwd()
    os.chdir(root)
    try:
        params = tiny_params(tiny, "method=full", "preset.max_steps=400", "preset.learning_rate=3e-3")
        params["eval"]["layers"] = {"tasks": {"tuneloop_classify": {"max_gen_toks": 8, "limit": None}}}
        params["gate"]["rules"] = [
            r
            for r in params["gate"]["rules"]
            if r["metric"].startswith("tuneloop_classify") and "non_inferior" in r or r["metric"] == "leaks.canary"
        ]
        system = params["data"]["system_prompt"]
        _write("data/splits/val.jsonl", keyword_tickets(2, 2, system))
        _write("data/splits/test.jsonl", keyword_tickets(8, 3, system))
        base.run(params)
        for name, shuffled in (("champion", False), ("shuffled", True)):
            _write("data/splits/train.jsonl", keyword_tickets(30, 1, system, shuffle_labels=shuffled))
            train.run(params, out_dir=f"models/{name}")
        yield root, params
    finally:
        os.chdir(old)


def _judge(params: dict, candidate: str, tmp: Path) -> tuple[dict, dict]:
    table = evaluate.run(
        params,
        adapter_dir=f"models/{candidate}",
        metrics_file=tmp / "eval.json",
        samples_file=tmp / "samples.jsonl",
        flips_file=tmp / "flips.json",
    )
    contamination.run(params, report_file=tmp / "contamination.json")
    result = gate.run(
        params,
        eval_file=tmp / "eval.json",
        gate_file=tmp / "gate.json",
        report_file=tmp / "gate.md",
        contamination_file=tmp / "contamination.json",
        flips_file=tmp / "flips.json",
        chart_file=tmp / "gate.png",
    )
    return table, result


def test_unchanged_candidate_passes_and_results_repeat(referee, tmp_path, monkeypatch):
    root, params = referee
    monkeypatch.chdir(root)
    first, result = _judge(params, "champion", tmp_path / "a")
    assert first["models"] == ["base", "champion", "candidate"]
    acc = first["tuneloop_classify"]["acc"]
    assert acc["post"] >= 0.35, "the champion learned the task (chance is 0.125)"
    assert acc["vs_champion"] == 0.0 and acc["vs_champion_lower"] == 0.0
    assert result["passed"], result["rules"]
    again, _ = _judge(params, "champion", tmp_path / "b")
    assert again == first
    assert (tmp_path / "a/samples.jsonl").read_bytes() == (tmp_path / "b/samples.jsonl").read_bytes()


def test_adapter_trained_on_shuffled_labels_fails_the_gate(referee, tmp_path, monkeypatch):
    root, params = referee
    monkeypatch.chdir(root)
    table, result = _judge(params, "shuffled", tmp_path)
    acc = table["tuneloop_classify"]["acc"]
    assert acc["vs_champion_upper"] < 0, "the regression is significant, not noise"
    assert not result["passed"]
    failed = [r for r in result["rules"] if not r["passed"] and r.get("severity", "fail") == "fail"]  # blocking
    assert {r["metric"] for r in failed} >= {"tuneloop_classify.acc"} and all(
        r["kind"] == "non_inferior" for r in failed
    )
    report = (tmp_path / "gate.md").read_text()
    assert report.splitlines()[0].startswith("# ") and "FAIL" in report.splitlines()[0]
    flips = read_json(tmp_path / "flips.json")
    assert flips["reference"] == "champion" and len(flips["pass_to_fail"]) > len(flips["fail_to_pass"])
    classify_flips = [f for f in flips["pass_to_fail"] if "classify" in f["task"]]  # the routed one included
    assert classify_flips and all(f["id"].startswith("s3-") and f["input"] for f in classify_flips)


def test_a_canary_in_any_output_fails(referee, tmp_path, monkeypatch):
    root, params = referee
    monkeypatch.chdir(root)
    # Declare as "canary" a string the champion really emits: the leak path is lm-eval output -> scan -> gate.
    params = json.loads(json.dumps(params))
    params["eval"]["canaries"] = ["device_setup"]
    table, result = _judge(params, "champion", tmp_path)
    assert table["leaks"]["canary"] > 0 and table["leaks"]["canary_by_model"]["candidate"] == table["leaks"]["canary"]
    leak_rule = next(r for r in result["rules"] if r["metric"] == "leaks.canary")
    assert not leak_rule["passed"] and not result["passed"]
    assert "device_setup" not in json.dumps(read_json(tmp_path / "gate.json")), "the canary value is never written"


def test_a_contaminated_test_item_fails_with_its_id(referee, tmp_path, monkeypatch):
    root, params = referee
    monkeypatch.chdir(root)
    test_rows = [json.loads(line) for line in Path("data/splits/test.jsonl").read_text().splitlines()]
    train_rows = keyword_tickets(30, 1, params["data"]["system_prompt"]) + [test_rows[5]]
    _write(str(tmp_path / "train.jsonl"), train_rows)
    report = contamination.run(params, train_file=tmp_path / "train.jsonl", report_file=tmp_path / "c.json")
    assert not report["passed"]
    verdict = gate.contamination_verdict(read_json(tmp_path / "c.json"))
    assert not verdict["passed"] and test_rows[5]["id"] in verdict["reason"]

"""build + split: chat-format examples per task; seeded, stratified, leak-free splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneloop.data import build, index, prepare, split
from tuneloop.data.safety_mix import FAMILIES
from tuneloop.params import compose

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def built(workdir):
    params = compose(conf_dir=REPO / "conf")
    prepare.run(params)
    index.run(params)
    return params, build.run(params)


def test_each_ticket_gives_one_example_per_task_in_chat_format(built):
    params, examples = built
    tasks = {e["task"] for e in examples}
    assert tasks == set(params["data"]["tasks"])
    e = next(x for x in examples if x["task"] == "classify")
    assert [m["role"] for m in e["prompt"]] == ["system", "user"] and e["completion"][0]["role"] == "assistant"
    assert e["completion"][0]["content"] in params["data"]["labels"] and e["choices"][e["gold"]] == e["label"]


def test_split_is_deterministic_stratified_and_grouped(built, tmp_path):
    params, _ = built
    report = split.run(params)
    first = {s: Path(f"data/splits/{s}.jsonl").read_bytes() for s in split.SPLITS}
    split.run(params)
    assert first == {s: Path(f"data/splits/{s}.jsonl").read_bytes() for s in split.SPLITS}
    params2 = {**params, "seed": params["seed"] + 1}
    split.run(params2, out_dir=tmp_path / "other", report_file=tmp_path / "r.json")
    assert (tmp_path / "other/test.jsonl").read_bytes() != first["test"]
    # every label present in train and test, the out-of-scope answer too (policy.out_of_scope queries)
    labels = set(params["data"]["labels"]) | {params["data"]["out_of_scope_label"]}
    assert set(report["train"]["labels"]) == labels and set(report["test"]["labels"]) == labels
    # the policy's safety examples train only: the probes measure safety, not a test split

    assert (
        report["train"]["tasks"]["safety"]
        == len(params["policy"]["families"] or FAMILIES) * params["policy"]["examples_per_family"]
    )
    assert "safety" not in report["val"]["tasks"] and "safety" not in report["test"]["tasks"]
    # KB questions are held out too: their prompts carry retrieved passages that training prompts also carry,
    # which is no leak (the guard leaves an item's passages out); counting them emptied the KB test set
    assert report["test"]["tasks"].get("kb_qa", 0) > 0
    # a ticket's examples never straddle splits
    groups = {s: {line.split('"group": "')[1].split('"')[0] for line in first[s].decode().splitlines()} for s in first}
    assert not (groups["train"] & groups["test"]) and not (groups["train"] & groups["val"])


def test_leakage_check_catches_a_shared_ticket():
    row = {"group": "T1", "user": "u", "id": "T1:classify"}
    with pytest.raises(split.LeakageError, match="T1"):
        split.check_leakage({"train": [row], "val": [], "test": [dict(row)]})


def test_split_fractions_must_add_up(built):
    params, _ = built
    params["data"]["split"] = {"train": 0.7, "val": 0.2, "test": 0.2}
    with pytest.raises(ValueError, match="add up to 1"):
        split.run(params)


def test_the_guard_ignores_an_items_passages_but_not_a_question_hidden_in_training_passages():
    from tuneloop.data.overlap import TrainIndex

    article = "Hold the power button for ten seconds until the ring blinks blue, then pair the bulb again in the app"
    question = "my kitchen bulb stopped answering the app after the router was replaced last night what now"

    def prompt(passage, q):
        return f"Answer.\n\nHelp-center passages:\n[1] (Reset) {passage}\nEnd of passages.\n\nQuestion: {q}"

    training = TrainIndex([prompt(article, "how do I change the bulb colour")], n=5, ignore_common=None)
    assert training.overlap(prompt(article, question)) == (False, 0.0)
    hidden = TrainIndex([prompt(article + " " + question, "how do I change the bulb colour")], n=5, ignore_common=None)
    assert hidden.overlap(prompt(article, question))[1] > 0.8


def test_split_moves_what_the_contamination_guard_would_flag():
    # Two tickets whose questions share their first dozen words after redaction (`Chat with <PERSON>`):
    # MinHash on the content sees two texts, the guard's 13-gram rule sees a copy. The split must move the
    # held-out one to train, or the guard fails the run later.
    question = "Subject: Chat with <PERSON>\nHow do I cancel Lumora Plus? I don't use the energy reports at all"
    examples = [
        {"group": "A", "task": "classify", "label": "x", "user": question + " anymore. Can you help?"},
        {"group": "B", "task": "classify", "label": "x", "user": question + " now."},
        {
            "group": "C",
            "task": "classify",
            "label": "x",
            "user": "Subject: Login\nMy password reset email never arrives.",
        },
    ]
    guard = {"ngram": 5, "ignore_common": 1.0, "item_overlap": 0.8}
    assignment = {"A": "train", "B": "test", "C": "test"}
    report = split.move_guard_overlaps(assignment, examples, guard)
    assert assignment == {"A": "train", "B": "train", "C": "test"}
    assert report["moved_to_train"] == {"val": 0, "test": 1} and report["moved_groups"] == ["B"]
    with pytest.raises(split.LeakageError, match="guard would flag"):
        split.move_guard_overlaps({"A": "train", "B": "val", "C": "test"}, examples, guard, action="fail")

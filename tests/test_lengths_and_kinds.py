"""Any company's data: every kind becomes examples, long prompts are cut (never the answer), and what
cannot train stops before training with a message that names the cause."""

from __future__ import annotations

import pytest

from tuneloop.data import build
from tuneloop.data.quality import QualityConfig, score_record
from tuneloop.train.lengths import example_length, fit_rows

LABELS = [f"intent_{i:02d}" for i in range(60)]
DATA = {
    "labels": LABELS,
    "tasks": "auto",
    "system_prompt": "You are a bank's assistant.",
    "min_examples": 1,
    "max_listed_labels": 20,
    "chat_loss": "all",
}


def records():
    turns = [
        {"role": "agent", "text": "Thanks for calling Northwind Bank, how can I help?"},
        {"role": "customer", "text": "My card was declined at the supermarket twice today."},
        {"role": "agent", "text": "I see a fraud hold on it; I have lifted it, please try again."},
    ]
    return [
        {"id": "csv:1", "kind": "labelled_text", "text": "freeze my card", "label": "intent_03"},
        {"id": "csv:2", "kind": "labelled_text", "text": "what's my routing number", "label": "intent_59"},
        {
            "id": "inst:1",
            "kind": "instruction",
            "prompt": "What is the wire cut-off?",
            "completion": "3 PM ET on business days.",
        },
        {
            "id": "chat:1",
            "kind": "chat",
            "messages": [
                {"role": "user", "content": "hi, I lost my card"},
                {"role": "assistant", "content": "Sorry! I can block it now."},
                {"role": "user", "content": "yes please"},
                {"role": "assistant", "content": "Done: the card is blocked."},
            ],
        },
        {"id": "call:1", "kind": "transcript", "turns": turns, "category": "intent_07"},
        {"id": "call:2", "kind": "transcript", "turns": turns[:2], "category": None},
    ]


def test_every_kind_becomes_examples_and_the_report_says_why_not():
    examples, report = build.build(records(), DATA)
    tasks = sorted({(e["id"].split(":")[0], e["task"]) for e in examples})
    assert ("csv", "classify") in tasks and ("inst", "instruction") in tasks and ("chat", "chat") in tasks
    assert {e["task"] for e in examples if e["group"] == "call:1"} == {"classify", "reply", "summary"}
    chat = [e for e in examples if e["task"] == "chat"]
    assert [e["answer"] for e in chat] == ["Sorry! I can block it now.", "Done: the card is blocked."]
    assert [m["content"] for m in chat[1]["prompt"][1:]] == [
        "hi, I lost my card",
        "Sorry! I can block it now.",
        "yes please",
    ]
    call2 = report["kinds"]["transcript"]["not_built"]
    assert call2 == {"classify: no_category": 1, "reply: no_agent_reply": 1}
    assert report["kinds"]["labelled_text"] == {
        "records": 2,
        "with_examples": 2,
        "examples": {"classify": 2},
        "tasks": ["classify"],
        "not_built": {},
    }


def test_chat_loss_last_learns_only_the_final_answer():
    examples, _ = build.build(records(), {**DATA, "chat_loss": "last"})
    assert [e["answer"] for e in examples if e["task"] == "chat"] == ["Done: the card is blocked."]


def test_classify_prompt_does_not_grow_with_77_labels():
    many = [f"label_{i}" for i in range(77)]
    examples, report = build.build(
        [{"id": "r", "kind": "labelled_text", "text": "where is my card", "label": "label_5"}], {**DATA, "labels": many}
    )
    assert report["prompt_words"]["classify"]["max"] < 30 and "label_70" not in examples[0]["user"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"labels": ["only"], "tasks": ["classify"]}, "one label"),
        ({"tasks": ["reply", "frobnicate"]}, "unknown task 'frobnicate'"),
    ],
)
def test_configurations_that_cannot_train_stop_with_a_reason(data, message):
    with pytest.raises(build.BuildError, match=message):
        build.build(records(), {**DATA, **data})


def test_a_task_named_but_never_made_and_too_few_examples_stop_before_training():
    only_classify = [r for r in records() if r["kind"] == "labelled_text"]
    examples, report = build.build(only_classify, {**DATA, "tasks": ["classify", "reply"]})
    with pytest.raises(build.BuildError, match=r"asks for 'reply'.*ticket or transcript.*\['labelled_text'\]"):
        build.check_trainable(examples, report, {**DATA, "tasks": ["classify", "reply"]})
    unlabelled = [{**r, "label": None} for r in only_classify]
    examples, report = build.build(unlabelled, {**DATA, "tasks": ["classify"]})
    with pytest.raises(build.BuildError, match="asks for 'classify'"):
        build.check_trainable(examples, report, {**DATA, "tasks": ["classify"]})
    examples, report = build.build(only_classify, DATA)
    with pytest.raises(build.BuildError, match="only 2 usable training examples"):
        build.check_trainable(examples, report, {**DATA, "min_examples": 10})


def test_records_of_a_kind_without_a_selected_task_are_counted_and_warned():
    examples, report = build.build(records(), {**DATA, "tasks": ["classify"]})
    assert report["kinds"]["instruction"]["not_built"] == {"no task selected for this kind (data.tasks)": 1}
    warnings = build.check_trainable(examples, report, {**DATA, "tasks": ["classify"]})
    assert any("instruction records made no example" in w for w in warnings)


def test_a_short_customer_message_is_a_valid_classification_example():
    cfg = QualityConfig()
    assert score_record({"id": "a", "kind": "labelled_text", "text": "freeze my card", "label": "x"}, cfg).keep
    short_thread = {"id": "t", "kind": "ticket", "customer_message": "card broke", "agent_reply": "ok"}
    assert "too_short" in score_record(short_thread, cfg).reasons[0]


def test_long_prompts_are_cut_never_the_completion(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    answer = [{"role": "assistant", "content": "intent_03"}]
    long_text = "my card was declined again at the store " * 60
    rows = [
        {
            "task": "classify",
            "completion": answer,
            "prompt": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "Classify this.\n\n" + long_text},
            ],
        },
        {
            "task": "chat",
            "completion": answer,
            "prompt": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": long_text},
                {"role": "assistant", "content": long_text},
                {"role": "user", "content": "and now?"},
            ],
        },
        {
            "task": "reply",
            "prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}],
            "completion": [{"role": "assistant", "content": long_text}],
        },
    ]
    fitted, stats = fit_rows(rows, tok, 64)
    assert stats["prompt_cut"] == 2 and stats["dropped_completion_too_long"] == 1
    for row in fitted:
        total, completion = example_length(tok, row["prompt"], row["completion"])
        assert total <= 64 and row["completion"] == answer and completion > 0
    assert fitted[0]["prompt"][1]["content"].startswith("Classify this.\n\nmy card")  # instruction and start kept
    assert [m["content"] for m in fitted[1]["prompt"][1:]] == ["and now?"]  # oldest chat turns go first


def test_train_stops_with_a_named_cause_when_nothing_fits_or_nothing_is_there(tiny_model_dir, tmp_path):
    from conftest import tiny_params

    from tuneloop.io import write_jsonl
    from tuneloop.train import sft

    params = tiny_params(tiny_model_dir, "preset.max_length=24")
    long_answer = "please restart the router and wait ten minutes before you try again " * 4
    row = {
        "id": "a",
        "task": "reply",
        "prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}],
        "completion": [{"role": "assistant", "content": long_answer}],
    }
    split = tmp_path / "splits"
    write_jsonl(split / "train.jsonl", [row])
    write_jsonl(split / "val.jsonl", [])
    kwargs = dict(
        base_dir=tiny_model_dir,
        split_dir=split,
        out_dir=tmp_path / "adapter",
        metrics_file=tmp_path / "train.json",
        loss_plot=tmp_path / "loss.json",
    )
    with pytest.raises(sft.TrainError, match=r"no training example fits preset.max_length=24.*max_length=48"):
        sft.run(params, **kwargs)
    # a task whose every example is too long, beside one that fits: refused by name, not trained without it
    short = {**row, "id": "b", "task": "classify", "completion": [{"role": "assistant", "content": "ok"}]}
    write_jsonl(split / "train.jsonl", [row, short])
    with pytest.raises(sft.TrainError, match=r"every example of `reply` \(1\) is longer than preset.max_length=64"):
        sft.run(tiny_params(tiny_model_dir, "preset.max_length=64"), **kwargs)
    write_jsonl(split / "train.jsonl", [])
    with pytest.raises(sft.TrainError, match="has no examples"):
        sft.run(params, **kwargs)


def test_build_report_counts_prompt_tokens_not_encoding_keys(tiny_model_dir):
    """transformers 5's apply_chat_template(tokenize=True) returns a BatchEncoding (not a dict): its
    length is its number of keys (2), which the report once gave as every prompt's token count."""
    from transformers import AutoTokenizer

    examples, _ = build.build(records()[:2], DATA)
    tokens = build.token_lengths(examples, tiny_model_dir)["prompt"]["classify"]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    expected = example_length(tok, examples[0]["prompt"], examples[0]["completion"])
    assert tokens["median"] > 10 and tokens["max"] <= expected[0]

"""A returning customer's earlier tickets in build and split (issue 26): only earlier tickets, the newest
first; the customer's tickets one split group; the facts a follow-up's answer takes from its history."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import datasets

from tuneloop.data import build, split
from tuneloop.data.history import CustomerHistory, contains
from tuneloop.evals import history_items
from tuneloop.prompts import HISTORY_HEAD, Contract, source_text, ticket_text, without_history

REPO = Path(__file__).resolve().parents[1]

DATA = {
    "system_prompt": "You are a support agent.",
    "labels": ["connectivity", "billing"],
    "tasks": ["classify", "reply"],
}
RETRIEVAL = {"enabled": False, "history": {"max_tickets": 2, "words": 40}}
EARLIER_ANSWER = "Sorry about that. Please hold the pairing button on the hub for ten seconds until it blinks blue."


def ticket(tid: str, day: int, customer: str | None, message: str, reply: str, category: str = "connectivity") -> dict:
    return {
        "id": tid,
        "kind": "ticket",
        "subject": f"Hub {tid}",
        "customer_message": message,
        "agent_reply": reply,
        "category": category,
        "created_at": f"2025-05-{day:02d}T10:00:00Z",
        "customer_id": customer,
        "meta": {},
    }


def records() -> list[dict]:
    return [
        ticket("LUM-1", 3, "CUS-9", "My hub keeps dropping off the Wi-Fi.", EARLIER_ANSWER),
        ticket(
            "LUM-2",
            12,
            "CUS-9",
            "I wrote last week about my hub; what you suggested did not help.",
            "I can see your ticket LUM-1 from May 3, where we had you hold the pairing button on the hub for ten "
            "seconds; since that did not fix it, please send us the hub's serial number.",
        ),
        ticket("LUM-3", 20, "CUS-9", "Charged twice for Plus.", "Sorry about that. Refunded.", "billing"),
        ticket("LUM-4", 5, "CUS-1", "Bulb will not pair.", "Sorry about that. Reset the bulb."),
        ticket("LUM-5", 6, None, "Bulb will not pair either.", "Sorry about that. Reset the bulb."),
    ]


def test_only_earlier_tickets_newest_first_and_the_facts_the_answer_takes_from_them():
    examples, report = build.build(records(), DATA, retrieval=RETRIEVAL)
    replies = {e["id"].split(":")[0]: e for e in examples if e["task"] == "reply"}
    assert "history" not in replies["LUM-1"] and HISTORY_HEAD not in replies["LUM-1"]["user"]  # nothing earlier
    follow_up = replies["LUM-2"]
    assert follow_up["history"] == ["LUM-1"] and HISTORY_HEAD in follow_up["user"]
    assert "LUM-3" not in follow_up["user"] and "Charged twice" not in follow_up["user"]  # never a later ticket
    # its facts: the earlier ticket's number and the step already tried, both only in the history
    assert follow_up["history_facts"][0] == "LUM-1"
    step = follow_up["history_facts"][1]
    assert contains(EARLIER_ANSWER, step) and contains(follow_up["answer"], step) and "sorry" not in step
    assert replies["LUM-3"]["history"] == ["LUM-2", "LUM-1"] and replies["LUM-3"]["history_facts"] == []
    # the prompt is the contract's, with the ticket itself what the checks compare
    contract = Contract.from_config(DATA, RETRIEVAL)
    shown = CustomerHistory(records()).earlier(records()[1])
    assert follow_up["user"] == contract.reply(ticket_text(records()[1]), None, shown)
    assert source_text(follow_up["user"]) == ticket_text(records()[1])
    assert "CUS-9" not in " ".join(e["user"] for e in examples)  # the customer id is never in a prompt
    assert report["history"] == {
        "returning_customers": 1,
        "their_tickets": 3,
        "reply_examples_with_history": 2,
        "of_which_use_a_history_fact": 1,
        "max_tickets": 2,
    }
    assert "Returning customers: 1" in build.render_markdown({**report, "warnings": [], "safety_mix": None})


def test_a_returning_customers_tickets_are_one_split_group():
    examples, _ = build.build(records(), DATA, retrieval=RETRIEVAL)
    groups = {e["id"]: e["group"] for e in examples}
    assert {groups[f"LUM-{n}:reply"] for n in (1, 2, 3)} == {"customer:CUS-9"}
    assert groups["LUM-4:reply"] == "LUM-4" and groups["LUM-5:reply"] == "LUM-5"  # one ticket: its own group
    assert {e["record"] for e in examples if e["id"].startswith("LUM-2:")} == {"LUM-2"}  # classify and reply
    assert not any("record" in e for e in examples if e["group"] == "LUM-4")
    # the customer's tickets span two categories and still land in one split, whatever the seed
    for seed in range(20):
        assignment = split.assign_groups(examples, {"train": 0.5, "val": 0.25, "test": 0.25}, seed)
        assert set(assignment) == {"customer:CUS-9", "LUM-4", "LUM-5"}


def test_history_switched_off_or_undated_tickets_show_none():
    off = {**RETRIEVAL, "history": {"max_tickets": 0}}
    examples, _ = build.build(records(), DATA, retrieval=off)
    assert not any(HISTORY_HEAD in e["user"] or e.get("history") for e in examples)
    undated = [{**r, "created_at": None} for r in records()]
    examples, _ = build.build(undated, DATA, retrieval=RETRIEVAL)
    assert not any(e.get("history") for e in examples)


def test_the_history_eval_scores_the_replies_that_need_the_earlier_ticket_with_and_without_it(monkeypatch):
    examples, _ = build.build(records(), DATA, retrieval=RETRIEVAL)
    spec = importlib.util.spec_from_file_location("tuneloop_task_utils", REPO / "evals" / "tasks" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    monkeypatch.setenv("TUNELOOP_SUITE_SOURCES", "[]")
    rows = [{k: e.get(k) for k in ("id", "task", "user", "answer", "history_facts")} for e in examples]
    dataset = datasets.Dataset.from_list(rows)
    (doc,) = utils.reply_history_docs(dataset)  # LUM-3 has history but its answer uses none of it
    (blind,) = utils.reply_history_blind_docs(dataset)
    assert doc["id"] == blind["id"] == "LUM-2:reply" and blind["user"] == without_history(doc["user"])
    assert HISTORY_HEAD in doc["user"] and HISTORY_HEAD not in blind["user"]
    said = utils.reply_history_results(doc, ["Per ticket lum-1, please send the serial number."])
    assert said["history_fact"] == 1.0
    step = utils.reply_history_results(doc, ["We asked you to hold the pairing button on the hub already."])
    assert step["history_fact"] == 1.0 and utils.reply_history_results(doc, ["Please reset it."])["history_fact"] == 0.0
    # evaluate runs the pair only with items, and says so when they are few
    run = {t: {"layer": "tasks"} for t in history_items.TASKS}
    skipped: dict = {}
    history_items.plan(run, skipped, examples, set())
    assert run["tuneloop_reply_history"]["note"].startswith("only 1 test items") and not skipped
    run = {t: {"layer": "tasks"} for t in history_items.TASKS}
    history_items.plan(run, skipped, examples, {"LUM-2:reply"})
    assert not run and set(skipped) == set(history_items.TASKS)


def test_a_preset_caps_returning_customers_replies_apart_from_the_other_replies(tmp_path):
    from tuneloop.io import write_jsonl
    from tuneloop.train.sft import load_split

    rows = [{"id": f"r{i}", "task": "reply"} for i in range(20)]
    rows += [{"id": f"h{i}", "task": "reply", "history_facts": ["LUM-1"]} for i in range(10)]
    rows += [{"id": f"c{i}", "task": "classify"} for i in range(5)]
    write_jsonl(tmp_path / "train.jsonl", rows)
    picked = load_split(tmp_path / "train.jsonl", {"reply": 4, "reply_history": 6, "classify": None}, seed=1)
    ids = [r["id"] for r in picked]
    assert sum(i.startswith("h") for i in ids) == 6 and sum(i.startswith("r") for i in ids) == 4
    assert sum(i.startswith("c") for i in ids) == 5
    # without a reply_history cap they are replies like the others
    plain = load_split(tmp_path / "train.jsonl", {"reply": 4}, seed=1)
    assert sum(r["task"] == "reply" for r in plain) == 4
    assert picked == load_split(tmp_path / "train.jsonl", {"reply": 4, "reply_history": 6, "classify": None}, seed=1)

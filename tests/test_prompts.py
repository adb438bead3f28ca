"""One prompt contract: each task rendered through each consumer is one string.

Consumers: build (the training examples), lm-eval's hooks (evals/tasks/utils.py, the frozen suite), the
router (tuneloop.route, the harness's routed tasks), the server (its encoder and the support service),
and the drift monitor (its scorer, and reading a logged prompt back)."""

from __future__ import annotations

import importlib.util
import json
import shutil

import datasets
import pytest
from conftest import REPO, tiny_params

from tuneloop.data import build, index, prepare
from tuneloop.io import read_jsonl
from tuneloop.monitor.sources import strip_prompt
from tuneloop.prompts import (
    ENV,
    HISTORY_END,
    HISTORY_HEAD,
    PASSAGES_END,
    PASSAGES_HEAD,
    Contract,
    EarlierTicket,
    Passage,
    source_text,
    ticket_text,
    without_history,
)
from tuneloop.retrieval import Index
from tuneloop.route import chat_ids


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus_dir, tiny_model_dir):
    import os

    root = tmp_path_factory.mktemp("prompts")
    shutil.copytree(corpus_dir, root / "data" / "raw")
    old = os.getcwd()
    os.chdir(root)
    try:
        params = tiny_params(tiny_model_dir)
        for stage in (prepare, index, build):
            stage.run(params)
        yield root, params, read_jsonl(root / "data" / "examples.jsonl"), Index.load(root / "data" / "index")
    finally:
        os.chdir(old)


def _utils(monkeypatch, contract, index_dir):
    spec = importlib.util.spec_from_file_location("tuneloop_task_utils", REPO / "evals" / "tasks" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    monkeypatch.setenv(ENV, contract.to_json())
    monkeypatch.setenv("TUNELOOP_INDEX_DIR", str(index_dir))
    return utils


def test_classify_is_one_string_for_build_lm_eval_the_router_the_server_and_the_monitor(
    built, monkeypatch, tiny_model_dir
):
    from transformers import AutoTokenizer

    from tuneloop.serve.engine import Engine

    root, params, examples, _ = built
    contract = Contract.from_params(params)
    example = next(e for e in examples if e["task"] == "classify" and e["label"] in contract.labels)
    text = source_text(example["user"])
    assert example["user"] == contract.classify(text)  # build
    subject, _, message = text.partition("\n\n") if text.startswith("Subject: ") else ("", "", text)
    case = {"id": "c1", "kind": "classify", "subject": subject.removeprefix("Subject: "), "text": message}
    case["label"] = example["label"]
    utils = _utils(monkeypatch, contract, root / "data" / "index")
    doc = utils.regression_classify_docs(datasets.Dataset.from_list([case]))[0]
    assert doc["user"] == example["user"] and doc["choices"] == contract.choices  # lm-eval's hooks
    # the router, the server's encoder and the monitor's scorer: one token sequence for one chat
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    chat = contract.messages(example["user"])
    engine = Engine(tiny_model_dir, system_prompt=params["data"]["system_prompt"])
    assert engine.encode([{"role": "user", "content": example["user"]}]) == chat_ids(tokenizer, chat)
    from tuneloop.monitor.score import Scorer

    scorer = Scorer(tiny_model_dir, contract)
    assert scorer.prompts([text], list(contract.labels)) == [
        tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    ]
    # the drift monitor reads a logged prompt back to the customer's words, for every task the contract renders
    assert strip_prompt(example["user"], contract) == (message.strip(), True)
    assert strip_prompt(example["user"], list(contract.labels)) == (message.strip(), True)


def test_grounded_prompts_are_one_string_for_build_lm_eval_and_the_support_service(built, monkeypatch):
    from tuneloop.serve.support import SupportService

    root, params, examples, idx = built
    contract = Contract.from_params(params)
    assert contract.grounded("reply") and contract.grounded("kb_qa") and contract.k == params["retrieval"]["k"]
    qa = [e for e in examples if e["task"] == "kb_qa"]
    replies = [e for e in examples if e["task"] == "reply"]
    assert qa and replies
    utils = _utils(monkeypatch, contract, root / "data" / "index")
    cases = [{"id": f"q{i}", "kind": "qa", "question": e["question"], "facts": e["facts"]} for i, e in enumerate(qa)]
    docs = utils.regression_qa_docs(datasets.Dataset.from_list(cases))
    for e, doc in zip(qa, docs):
        passages = idx.search(e["question"], contract.k)
        assert e["user"] == contract.kb_answer(e["question"], passages) == doc["user"]  # build = lm-eval
        title = next(c["title"] for c in idx.chunks if c["id"] == e["gold"])
        assert e["passages"] == [p.id for p in passages] and e["answer"].endswith("\nSource: " + title)  # it cites
        # the passages open the content, the question closes it: the last thing read before the answer
        assert e["user"].split("\n\n", 1)[1].startswith(PASSAGES_HEAD) and PASSAGES_END in e["user"]
        assert e["user"].endswith("Question: " + e["question"])
        assert source_text(e["user"]) == "Question: " + e["question"]  # the guard compares the question only
    service = SupportService(None, params, idx)  # the prompt side of the service needs no model
    records = {r["id"]: r for r in read_jsonl(root / "data" / "prepared" / "records.jsonl")}
    with_history = [e for e in replies if e.get("history")]
    assert with_history  # the example corpus has returning customers
    for e in replies[:20] + with_history[:5]:
        ticket = source_text(e["user"])
        history = [EarlierTicket.from_ticket(records[t]) for t in e.get("history", [])]
        prompt, passages = service.reply_prompt(ticket, history)
        assert prompt == e["user"] and [p.id for p in passages] == e["passages"]
        assert strip_prompt(prompt, contract) == (ticket.split("\n\n", 1)[-1].strip(), False)


def test_a_prompt_cut_to_fit_loses_passages_before_the_question(built, tiny_model_dir):
    from transformers import AutoTokenizer

    from tuneloop.train.lengths import fit_example

    _, params, examples, _ = built
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    e = max((e for e in examples if e["task"] == "kb_qa"), key=lambda e: len(e["user"]))
    total = len(chat_ids(tokenizer, e["prompt"])) + 40
    cut = fit_example(tokenizer, e["prompt"], e["completion"], total - 60)
    assert cut is not None and e["question"] in cut[-1]["content"] and len(cut[-1]["content"]) < len(e["user"])


def test_the_contract_travels_as_one_json_value():
    contract = Contract(system="s", labels=("a", "b"), out_of_scope="oos", grounded_tasks=("reply",), k=2)
    assert Contract.from_json(contract.to_json()) == contract
    assert json.loads(contract.to_json())["labels"] == ["a", "b"]
    assert contract.choices == ["a", "b", "oos"] and Contract(system="s").choices == []
    # a retrieval that finds nothing says so in the prompt, never an empty block
    assert "(none found)" in contract.reply(ticket_text({"customer_message": "hi"}), [])


def test_a_returning_customers_earlier_tickets_sit_between_passages_and_ticket_and_strip_off():
    contract = Contract.from_config(
        {"system_prompt": "s"}, {"tasks": ["reply"], "passage_words": 5, "history": {"max_tickets": 2, "words": 6}}
    )
    earlier = [
        EarlierTicket("LUM-1", "2025-05-01T09:00:00Z", "Hub offline", "My hub went offline after the storm.", "Ok."),
        EarlierTicket("LUM-7", "2025-05-20T09:00:00Z", "Still offline", "It is offline " * 5, "Reset the hub.", "wifi"),
        EarlierTicket("LUM-4", "2025-05-10T09:00:00Z", "Offline", "Offline again.", ""),
    ]
    ticket = ticket_text({"subject": "Again", "customer_message": "Same problem as before."})
    passage = Passage("kb#1", "Wi-Fi", "Reconnect", "Open the app and pick the network.")
    user = contract.reply(ticket, [passage], earlier)
    content = user.split("\n\n", 1)[1]
    assert content.startswith(PASSAGES_HEAD) and user.endswith(ticket)
    block = content.split(PASSAGES_END + "\n\n", 1)[1].split("\n\n" + ticket)[0]
    # the newest max_tickets, newest first; a cut text says so; an unanswered ticket says so
    assert block == (
        f"{HISTORY_HEAD}\n"
        "[1] 2025-05-20, ticket LUM-7, wifi: Still offline\nCustomer: It is offline It is offline [...]\n"
        "Agent: Reset the hub.\n"
        "[2] 2025-05-10, ticket LUM-4: Offline\nCustomer: Offline again.\nAgent: (no answer yet)\n"
        f"{HISTORY_END}"
    )
    # the checks compare the ticket itself; without the block the prompt is a first-time customer's
    assert source_text(user) == ticket and source_text(contract.reply(ticket, None, earlier)) == ticket
    assert without_history(user) == contract.reply(ticket, [passage])
    assert without_history(contract.reply(ticket, None, earlier)) == contract.reply(ticket)
    assert contract.reply(ticket, None, []) == contract.reply(ticket)  # no history: no block
    assert Contract.from_json(contract.to_json()) == contract and contract.history_tickets == 2
    # a prepared ticket shows the helpdesk's own number and no customer id
    record = {"id": "zendesk:9", "meta": {"external_id": "9"}, "customer_id": "zendesk:501", "created_at": "2025-01-02"}
    shown = EarlierTicket.from_ticket({**record, "customer_message": "hi", "agent_reply": "hello"})
    assert shown.ticket_id == "9" and "501" not in contract.reply(ticket, None, [shown])

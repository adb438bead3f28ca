"""lm-eval hooks for tuneloop's tasks: choose each task's docs, score an item. The scoring itself lives
in the tuneloop package (tuneloop.evals.metrics, tuneloop.evals.probes) so tests and the gate use the same code."""

from __future__ import annotations

import json
import os
import re

from tuneloop.data.thread_facts import fact_coverage, thread_facts
from tuneloop.evals.metrics import (  # noqa: F401 (macro_f1, in_scope_acc, oos_recall: YAML)
    fact_match,
    history_fact_used,
    in_scope_acc,
    keyword_coverage,
    label_correct,
    macro_f1,
    oos_recall,
    parse_label,
    rouge_l,
)
from tuneloop.evals.probes import check
from tuneloop.prompts import Contract, source_text, ticket_text, without_history


def _task(name):
    # The held-out items the frozen regression suite was drawn from (`source` of its cases) are left out of
    # the task eval: the two layers measure disjoint items (evaluate sets TUNELOOP_SUITE_SOURCES).
    in_suite = frozenset(json.loads(os.environ.get("TUNELOOP_SUITE_SOURCES") or "[]"))
    return lambda dataset: dataset.filter(lambda doc: doc["task"] == name and doc["id"] not in in_suite)


classify_docs, reply_docs, summary_docs, kbqa_docs = (_task(t) for t in ("classify", "reply", "summary", "kb_qa"))


def sealed_docs(dataset):
    """The sealed holdout's classify items, all of them (the regression suite never draws from it)."""
    return dataset.filter(lambda doc: doc["task"] == "classify")


def classify_results(doc, results):
    pred, gold = parse_label(results[0], doc["choices"]), int(doc["gold"])
    oos = doc.get("oos")  # the out-of-scope answer's index (data.out_of_scope_label), else absent
    unit = (gold, pred, -1 if oos is None else int(oos))
    return {"acc": float(label_correct(pred, gold)), "macro_f1": (gold, pred), "in_scope_acc": unit, "oos_recall": unit}


def regression_classify_results(doc, results):
    """The frozen suite's cases are all in scope: accuracy and macro-F1 only."""
    out = classify_results(doc, results)
    return {"acc": out["acc"], "macro_f1": out["macro_f1"]}


def reply_results(doc, results):
    return {
        "rougeL": rouge_l(doc["answer"], results[0]),
        "keyword_coverage": keyword_coverage(doc["answer"], results[0]),
    }


def reply_history_docs(dataset):
    """The replies that need the customer's earlier ticket: those whose answer uses a fact only it gives."""
    return reply_docs(dataset).filter(lambda doc: bool(doc.get("history_facts")))


def reply_history_blind_docs(dataset):
    """The same items with the earlier tickets taken out of the prompt: the difference is what the history adds."""
    return reply_history_docs(dataset).map(lambda doc: {"user": without_history(doc["user"])})


def reply_history_results(doc, results):
    return {
        "history_fact": history_fact_used(doc["history_facts"], results[0]),
        "rougeL": rouge_l(doc["answer"], results[0]),
    }


def summary_results(doc, results):
    """ROUGE-L against the reference, and the thread's facts (references, products, steps tried) kept."""
    facts = thread_facts(source_text(doc["user"]))
    return {"rougeL": rouge_l(doc["answer"], results[0]), "fact_coverage": fact_coverage(facts, results[0])}


def kbqa_results(doc, results):
    return {"fact_match": fact_match(doc["facts"], results[0])}


# --- frozen regression suite (evals/regression/cases.jsonl) ---------------------------------------
def _contract(dataset) -> Contract:
    # The prompt contract of this repo's config (tuneloop evaluate exports it as one JSON variable), so
    # the prompt is the one the adapter was trained with; run outside tuneloop, the repo's params.yaml.
    contract = Contract.from_env()
    if contract is None:
        import yaml

        contract = Contract.from_params(yaml.safe_load(open("params.yaml", encoding="utf-8")))
    return contract


def regression_classify_docs(dataset):
    contract = _contract(dataset)
    labels = list(contract.labels)
    unknown = sorted({(c["id"], c["label"]) for c in dataset if c["kind"] == "classify" and c["label"] not in labels})
    if unknown:  # a gold label the model was never asked about would make every answer look wrong (or right)
        raise ValueError(
            f"evals/regression/cases.jsonl: {len(unknown)} case(s) with a label outside data.labels, "
            f"e.g. {unknown[:3]}; fix the cases (and re-freeze) or data.labels"
        )

    choices = contract.choices  # the adapter may answer out of scope: that is a wrong answer here

    def to_doc(case):
        text = ticket_text({"subject": case.get("subject"), "customer_message": case["text"]})
        return {
            "user": contract.classify(text),
            "answer": case["label"],
            "choices": choices,
            "gold": labels.index(case["label"]),
        }

    return dataset.filter(lambda case: case["kind"] == "classify").map(to_doc)


def regression_qa_docs(dataset):
    """The frozen questions, asked as the server asks them: with the help-center index's passages when
    retrieval grounds kb_qa (the same index and k as build and the server), else closed book."""
    contract = _contract(dataset)
    retrieve = _retriever(contract, "kb_qa")

    def to_doc(case):
        user = (
            case["question"] if retrieve is None else contract.kb_answer(case["question"], retrieve(case["question"]))
        )
        return {"user": user, "answer": "; ".join(case["facts"])}

    return dataset.filter(lambda case: case["kind"] == "qa").map(to_doc)


def _retriever(contract, task):
    if not contract.grounded(task):
        return None
    from tuneloop.retrieval import load_or_empty

    index = load_or_empty(os.environ.get("TUNELOOP_INDEX_DIR") or "data/index")
    k = contract.k
    return (lambda q: index.search(q, k)) if index is not None else (lambda q: [])


def fact_results(doc, results):
    return {"fact_match": fact_match(doc["facts"], results[0])}


# --- behavioural probes (evals/probes/<family>.jsonl) ---------------------------------------------
def helpful_docs(dataset):
    """Ordinary questions asked as the support endpoint asks them: the grounded reply prompt (passages from
    the help-center index when retrieval grounds replies), the passages allowed as sources of contacts."""
    contract = _contract(dataset)
    retrieve = _retriever(contract, "reply")

    def to_doc(item):
        ticket = ticket_text({"customer_message": item["prompt"]})
        if retrieve is None:
            return {"prompt": contract.reply(ticket)}
        passages = retrieve(ticket)
        check = {**item["check"], "allowed": [p.text for p in passages]}
        return {"prompt": contract.reply(ticket, passages), "check": check}

    return dataset.map(to_doc)


def probe_results(doc, results):
    canaries = tuple(json.loads(os.environ.get("TUNELOOP_CANARIES", "[]")))
    return {"pass": float(check(doc["check"], results[0], canaries))}


# --- forgetting budget (data/general/hellaswag.jsonl, lm-eval's hellaswag preprocessing) ----------
def _hellaswag_text(text):
    text = text.strip().replace(" [title]", ". ")
    return re.sub("\\[.*?\\]", "", text).replace("  ", " ")


def hellaswag_docs(dataset):
    def to_doc(doc):
        ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
        return {
            "query": _hellaswag_text(doc["activity_label"] + ": " + ctx),
            "choices": [_hellaswag_text(e) for e in doc["endings"]],
            "gold": int(doc["label"]),
        }

    return dataset.map(to_doc)

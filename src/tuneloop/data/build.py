"""Stage `build`: prepared records -> training examples in chat (prompt/completion) format.

    tuneloop build       # data/prepared/records.jsonl -> data/examples.jsonl

Tasks (data.tasks), one example per ticket each:
  classify  the ticket's category, answered with the label only (scored by log-likelihood over labels)
  reply     the agent's reply to the customer's message (scored by ROUGE-L)
  priority  the ticket's priority (low/normal/high/urgent), only for tickets that have one
  summary   a reference summary of the thread made from the ticket's own fields (synth.ticket_summary)
and per knowledge-base chunk (kind "kb"; a whole article is split by headings): kb_summarize,
kb_facts, kb_rephrase, kb_qa (templates in synth.py; docs/data-cleaning.md shows one of each).
Each example keeps `group` (the ticket id, or the KB document id) so that `split` never separates
a ticket's or a document's examples; `label` is the category for ticket tasks and "kb" for KB tasks.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop.data import synth
from tuneloop.data.synth import classify_instruction, ticket_text
from tuneloop.io import read_jsonl, write_jsonl

log = logging.getLogger(__name__)

IN_FILE = Path("data/prepared/records.jsonl")
OUT_FILE = Path("data/examples.jsonl")
TICKET_TASKS = ("classify", "reply", "priority", "summary")
KB_TASKS = ("kb_summarize", "kb_facts", "kb_rephrase", "kb_qa")


def build_examples(records: list[dict], data: dict[str, Any]) -> list[dict]:
    labels, system = list(data["labels"]), data["system_prompt"]
    max_listed = int(data.get("max_listed_labels", synth.MAX_LISTED_LABELS))
    unknown = [t for t in data["tasks"] if t not in TICKET_TASKS + KB_TASKS]
    if unknown:
        raise ValueError(f"data.tasks: unknown task {unknown[0]!r} (known: {', '.join(TICKET_TASKS + KB_TASKS)})")
    examples = []
    for ticket in (r for r in records if r["kind"] == "ticket"):
        for task in data["tasks"]:
            if task == "classify":
                if ticket.get("category") not in labels:
                    continue  # a ticket without a (known) category has nothing to classify
                user = classify_instruction(labels, max_listed) + "\n\n" + ticket_text(ticket)
                answer, extra = ticket["category"], {"choices": labels, "gold": labels.index(ticket["category"])}
            elif task == "reply":
                if not (ticket.get("agent_reply") or "").strip():
                    continue
                user = ("Write the support agent's reply to this customer ticket.\n\n" + ticket_text(ticket))
                answer, extra = ticket["agent_reply"], {}
            elif task == "priority":
                if ticket.get("priority") not in synth.PRIORITIES:
                    continue
                user = synth.priority_instruction() + synth.SEPARATOR + ticket_text(ticket)
                answer = ticket["priority"]
                extra = {"choices": list(synth.PRIORITIES), "gold": synth.PRIORITIES.index(answer)}
            elif task == "summary":
                user = synth.summary_instruction() + synth.SEPARATOR + synth.thread_text(ticket)
                answer, extra = synth.ticket_summary(ticket), {}
            else:
                continue  # a KB task
            examples.append(_example(f"{ticket['id']}:{task}", ticket["id"], task, ticket.get("category") or "uncategorized",
                                     system, user, answer, extra))
    kb_tasks = [t for t in data["tasks"] if t in KB_TASKS]
    if kb_tasks:
        for record in (r for r in records if r["kind"] == "kb"):
            for chunk in synth.split_article(record):
                examples += kb_examples(chunk, kb_tasks, system)
    return examples


def _example(example_id: str, group: str, task: str, label: str, system: str, user: str, answer: str,
             extra: dict) -> dict:
    return {
        "id": example_id, "group": group, "task": task, "label": label,
        "system": system, "user": user, "answer": answer,
        "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "completion": [{"role": "assistant", "content": answer}],
        **extra,
    }


def kb_examples(chunk: dict, tasks: list[str], system: str) -> list[dict]:
    """The KB tasks' examples for one chunk (a task is skipped where the chunk gives it nothing)."""
    title, section, text = chunk["title"], chunk["section"], chunk["text"]
    heading = section.split(" > ")[-1]
    content = f"Article: {title}\nSection: {section}" + synth.SEPARATOR + text
    facts = synth.facts_of(text)
    out = []
    for task in tasks:
        extra: dict = {}
        if task == "kb_summarize":
            user = "Summarize this help-center section in one or two sentences." + synth.SEPARATOR + content
            answer = synth.kb_summary(text)
        elif task == "kb_facts":
            user = "List the key facts and steps of this help-center section, one per line." + synth.SEPARATOR + content
            answer = synth.kb_facts_answer(text)
        elif task == "kb_rephrase":
            user = ("Using this help-center section, write a short, friendly answer for a customer who asks about "
                    f"{synth.lower_first(heading, text)}." + synth.SEPARATOR + content)
            answer = synth.kb_rephrase_answer(heading, text)
        else:  # kb_qa: closed book, the question alone
            if not facts:
                continue
            user = synth.heading_question(heading, title, text)
            answer, extra = synth.kb_qa_answer(text, facts), {"facts": facts}
        if answer.strip():
            out.append(_example(f"{chunk['id']}:{task}", chunk["doc_id"], task, "kb", system, user, answer, extra))
    return out


def run(params: dict[str, Any], in_file: str | Path = IN_FILE, out_file: str | Path = OUT_FILE) -> list[dict]:
    examples = build_examples(read_jsonl(in_file), params["data"])
    write_jsonl(out_file, examples)
    log.info("build: %d examples %s", len(examples), dict(Counter(e["task"] for e in examples)))
    return examples

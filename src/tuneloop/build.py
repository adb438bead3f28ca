"""Stage `build`: prepared records -> training examples in chat (prompt/completion) format.

    tuneloop build       # data/prepared/records.jsonl -> data/examples.jsonl

Tasks (data.tasks), one example per ticket each:
  classify  the ticket's category, answered with the label only (scored by log-likelihood over labels)
  reply     the agent's reply to the customer's message (scored by ROUGE-L)
Each example keeps `group` (the ticket id) so that `split` never separates a ticket's examples.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from tuneloop.io import read_jsonl, write_jsonl

log = logging.getLogger(__name__)

IN_FILE = Path("data/prepared/records.jsonl")
OUT_FILE = Path("data/examples.jsonl")


def classify_instruction(labels: list[str]) -> str:
    return ("Classify the support ticket below into exactly one category: " + ", ".join(labels)
            + ".\nAnswer with the category name only.")


def ticket_text(ticket: dict) -> str:
    subject = (ticket.get("subject") or "").strip()
    return (f"Subject: {subject}\n\n" if subject else "") + ticket["customer_message"]


def build_examples(records: list[dict], data: dict[str, Any]) -> list[dict]:
    labels, system = list(data["labels"]), data["system_prompt"]
    examples = []
    for ticket in (r for r in records if r["kind"] == "ticket"):
        for task in data["tasks"]:
            if task == "classify":
                user = classify_instruction(labels) + "\n\n" + ticket_text(ticket)
                answer, extra = ticket["category"], {"choices": labels, "gold": labels.index(ticket["category"])}
            elif task == "reply":
                user = ("Write the support agent's reply to this customer ticket.\n\n" + ticket_text(ticket))
                answer, extra = ticket["agent_reply"], {}
            else:
                raise ValueError(f"data.tasks: unknown task {task!r} (known: classify, reply)")
            examples.append({
                "id": f"{ticket['id']}:{task}", "group": ticket["id"], "task": task, "label": ticket["category"],
                "system": system, "user": user, "answer": answer,
                "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                "completion": [{"role": "assistant", "content": answer}],
                **extra,
            })
    return examples


def run(params: dict[str, Any], in_file: str | Path = IN_FILE, out_file: str | Path = OUT_FILE) -> list[dict]:
    examples = build_examples(read_jsonl(in_file), params["data"])
    write_jsonl(out_file, examples)
    log.info("build: %d examples %s", len(examples), dict(Counter(e["task"] for e in examples)))
    return examples

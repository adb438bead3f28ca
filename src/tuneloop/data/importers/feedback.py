"""Reviewed production feedback: the candidates file `tuneloop monitor feedback` writes, after a person
reviewed it (docs/loop.md).

One candidate per JSONL line:

    {"id": "fb-chatcmpl-...", "request_id": "chatcmpl-...", "created_at": "2025-06-02T10:04:11Z",
     "origin": "agent_edit" | "thumbs_up", "customer_message": "...", "model_output": "...",
     "reply": "the answer to learn (the agent's edit, or the output a customer liked)",
     "category": "billing" | null, "approved": true | false | null, "reviewer": "dana", "note": ""}

Only what a reviewer set `approved: true` trains: any other candidate (not reviewed yet, or rejected) is
held back by this reader itself, whatever the quality filters say, as `not_approved` (counted, with its
line, in reports/data/prepare.md and data/prepared/quarantine.jsonl). A candidate with a reply is a
ticket (reply task, and classify when it has a category); one with only a category is a labelled text
(classify). The texts went through the server's redactor already; `prepare` redacts them again, like any
other source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, bad, good, iter_json_records, provenance
from tuneloop.data.importers.fields import has_words, ticket_record


def read(path: Path, mapping: dict) -> Iterator[Item]:
    for locator, raw, record, error in iter_json_records(path, mapping, list_keys=("candidates",)):
        if error is None:
            converted, error = _convert(path, locator, record)
            if error is None:
                yield good(locator, converted, raw)
                continue
        yield bad(locator, error, raw)


def _text(record: dict, field: str) -> tuple[str | None, str | None]:
    value = record.get(field)
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, f"not_text: field {field!r} is {type(value).__name__}"
    return value.strip(), None


def _convert(path: Path, locator, record: dict) -> tuple[dict | None, str | None]:
    message, error = _text(record, "customer_message")
    if error:
        return None, error
    if not has_words(message):
        return None, "no_text: field 'customer_message' is empty or has no words"
    reply, error = _text(record, "reply")
    category, error2 = _text(record, "category")
    if error or error2:
        return None, error or error2
    if record.get("approved") is not True:  # not reviewed yet (null) or rejected (false): never trains
        return None, f"not_approved: approved is {json.dumps(record.get('approved'))}; a reviewer sets it to true"
    approved = True
    rid = record.get("id")
    rid = str(rid) if isinstance(rid, str) and rid else f"{path.name}:{locator}"
    meta = {k: record.get(k) for k in ("request_id", "origin", "reviewer") if record.get(k) is not None}
    if reply and has_words(reply):
        return ticket_record(
            path,
            locator,
            "feedback_jsonl",
            rid,
            subject="",
            turns=[{"role": "customer", "text": message}, {"role": "agent", "text": reply}],
            category=category,
            priority=None,
            status=None,
            satisfaction=None,
            created_at=record.get("created_at") if isinstance(record.get("created_at"), str) else None,
            channel=None,
            tags=["feedback", record.get("origin")],
            approved=approved,
            meta=meta,
        )
    if category:
        return {
            **provenance(path, locator, "feedback_jsonl", rid, "labelled_text"),
            "text": message,
            "label": category,
            "approved": approved,
            "meta": meta,
        }, None
    return None, "no_text: a feedback candidate needs a reply or a category to learn"

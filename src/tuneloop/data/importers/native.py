"""tuneloop's own ticket format: one ticket per JSONL line or CSV row (the data/raw/tickets.jsonl shape).

Fields: customer_message, agent_reply, category (required); ticket_id, subject, created_at, channel,
priority, status, satisfaction, tags, approved, customer_id (optional). Values pass through unchanged, so the
example corpus keeps exactly the tickets it always kept. Without customer_id, a `customer_email` field
becomes its hash ("email:<16 hex>", fields.customer_key); the address itself is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, bad, good, iter_json_records, provenance
from tuneloop.data.importers.fields import customer_key, has_words
from tuneloop.data.importers.tabular import iter_csv_rows

REQUIRED = ("customer_message", "agent_reply", "category")


def read_jsonl(path: Path, mapping: dict) -> Iterator[Item]:
    for locator, raw, record, error in iter_json_records(path, mapping, list_keys=("tickets",)):
        yield _item(path, locator, raw, record, error, "tuneloop_jsonl")


def read_csv(path: Path, mapping: dict) -> Iterator[Item]:
    for locator, raw, row, error in iter_csv_rows(path, mapping, required=REQUIRED):
        yield _item(path, locator, raw, row, error, "tuneloop_csv")


def _item(path: Path, locator, raw: str, record: dict | None, error: str | None, source_format: str) -> Item:
    if error is not None:
        return bad(locator, error, raw)
    error = _check(record)
    if error is not None:
        return bad(locator, error, raw)
    return good(locator, to_ticket(record, path, locator, source_format), raw)


def _check(record: dict) -> str | None:
    for field in REQUIRED:
        if field not in record or record[field] is None:
            return f"missing_field: {field!r}"
        if not isinstance(record[field], str):
            return f"not_text: field {field!r} is {type(record[field]).__name__}"
    for field in ("customer_message", "agent_reply"):
        if not has_words(record[field]):
            return f"no_text: field {field!r} is empty or has no words"
    return None


def to_ticket(record: dict, path: Path, locator, source_format: str) -> dict:
    customer, reply = record["customer_message"].strip(), record["agent_reply"].strip()
    tags = record.get("tags")
    approved = record.get("approved")
    return {
        **provenance(path, locator, source_format, str(record.get("ticket_id") or f"{path.name}:{locator}"), "ticket"),
        "subject": (record.get("subject") or "").strip()
        if isinstance(record.get("subject") or "", str)
        else str(record["subject"]),
        "customer_message": customer,
        "agent_reply": reply,
        "turns": [{"role": "customer", "text": customer}, {"role": "agent", "text": reply}],
        "category": record["category"],
        **{k: record.get(k) or None for k in ("priority", "status", "created_at", "channel")},
        "satisfaction": _satisfaction(record.get("satisfaction")),
        "tags": sorted(str(t) for t in tags) if isinstance(tags, list) else [],
        "approved": approved if isinstance(approved, bool) else None,
        "customer_id": _customer(record),
        "meta": {},
    }


def _customer(record: dict) -> str | None:
    """The file's own customer_id as written (it is this format's id space), else the email's hash."""
    given = record.get("customer_id")
    if given not in (None, "") and not isinstance(given, (bool, dict, list)):
        return str(given).strip()
    return customer_key("tuneloop", None, record.get("customer_email"))


def _satisfaction(value) -> int | None:
    """1-5 as an int (a CSV gives "4"); anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None

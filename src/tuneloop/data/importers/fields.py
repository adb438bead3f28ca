"""Field mapping shared by the readers: dotted lookups, labels and categories, priorities, timestamps,
thread turns and the ticket record every helpdesk reader builds."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuneloop.data.importers.base import PRIORITIES, provenance


def lookup(record: Any, dotted: str) -> Any:
    """record["a"]["b"] for "a.b"; a list of {"id": .., "value": ..} (Zendesk custom_fields) is
    indexed by id, so "custom_fields.360001" finds that field's value."""
    value = record
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            match = next((v for v in value if str(v.get("id")) == part), None)
            value = match.get("value") if match else None
        else:
            return None
    return value


def norm_label(value: Any) -> str:
    return re.sub(r"[\s\-/]+", "_", str(value).strip().lower())


def map_category(record: dict, mapping: dict, default_field: str | None) -> tuple[str | None, bool]:
    """(category, explicit): the category read through mapping.category_field / category_map.

    With the field given explicitly in the mapping, a value that maps to nothing is passed on (and
    `prepare` quarantines it as unknown_category, naming it); with only the format's default field,
    such a value yields None: the ticket is kept without a category.
    A list field (tags) yields its first element that maps to a label.
    """
    field = mapping.get("category_field") or default_field
    explicit = bool(mapping.get("category_field"))
    if not field:
        return None, explicit
    value = lookup(record, field)
    if field == "tags" and isinstance(value, dict):  # Intercom: {"type": "tag.list", "tags": [...]}
        value = value.get("tags")
    category_map = {str(k): v for k, v in (mapping.get("category_map") or {}).items()}
    labels = set(mapping.get("labels") or ())
    values = value if isinstance(value, list) else [value]
    values = [v.get("name") if isinstance(v, dict) else v for v in values]
    for raw in values:
        if raw is None or raw == "":
            continue
        if str(raw) in category_map:
            return category_map[str(raw)], explicit
        if norm_label(raw) in labels:
            return norm_label(raw), explicit
        if explicit and not isinstance(value, list):
            return str(raw), explicit
    return None, explicit


def priority_of(value: Any, table: dict, mapping: dict) -> str | None:
    if value is None or value == "":
        return None
    custom = {str(k).lower(): v for k, v in (mapping.get("priority_map") or {}).items()}
    key = str(value).strip().lower()
    result = custom.get(key, table.get(key))
    return result if result in PRIORITIES else None


def iso_time(value: Any) -> str | None:
    """ISO 8601 UTC ("2025-03-04T15:22:10Z") from an ISO string, a Salesforce timestamp or Unix seconds."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(float(value), tz=UTC)
        else:
            text = str(value).strip().replace("Z", "+00:00")
            text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0000 -> +00:00 (Salesforce)
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                moment = next(m for m in (_try_strptime(text, f) for f in _REPORT_FORMATS) if m)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    except (ValueError, OverflowError, OSError, StopIteration):
        return None


_REPORT_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y")  # Salesforce report exports (US)


def _try_strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def customer_key(source_format: str, customer: Any = None, email: Any = None) -> str | None:
    """The ticket's customer as a stable key: "<format>:<id>" from the helpdesk's requester/contact id, else
    "email:<16 hex>" (sha256 of the lowercased address) when an email address is the only identity, else None.

    Readers call this on the raw export, before `prepare` redacts: the address itself never reaches a
    record, and the same address gives the same key in every source. The key groups a customer's tickets
    (history in the reply prompt, split groups); it is never shown in a prompt."""
    if customer not in (None, "") and not isinstance(customer, (bool, dict, list)):
        return f"{source_format}:{str(customer).strip()}"
    if isinstance(email, str) and "@" in email:
        return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
    return None


def has_words(text: Any) -> bool:
    return isinstance(text, str) and re.search(r"[^\W\d_]{2,}", text) is not None


def merge_turns(turns: list[dict]) -> list[dict]:
    """Join consecutive turns of the same role (a customer who writes twice in a row is one turn)."""
    merged: list[dict] = []
    for turn in turns:
        text = (turn.get("text") or "").strip()
        if not text:
            continue
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1]["text"] += "\n\n" + text
        else:
            merged.append({**turn, "text": text})
    return merged


def thread_fields(turns: list[dict]) -> tuple[str, str]:
    """(customer_message, agent_reply): the first customer turn and the first agent turn after it."""
    first = next((i for i, t in enumerate(turns) if t["role"] == "customer"), None)
    if first is None:
        return "", ""
    reply = next((t["text"] for t in turns[first + 1 :] if t["role"] == "agent"), "")
    return turns[first]["text"], reply


def ticket_record(
    path: Path,
    locator: int | str,
    source_format: str,
    record_id: str,
    *,
    subject: Any,
    turns: list[dict],
    category: str | None,
    priority: str | None,
    status: Any,
    satisfaction: int | None,
    created_at: str | None,
    channel: Any,
    tags: list,
    approved: bool | None = None,
    meta: dict | None = None,
    customer_id: str | None = None,
) -> tuple[dict | None, str | None]:
    """A kind "ticket" record from a threaded conversation, or the reason it is unusable."""
    turns = merge_turns(turns)
    customer, reply = thread_fields(turns)
    if not has_words(customer):
        return None, "no_text: the thread has no customer message with words"
    return {
        **provenance(path, locator, source_format, record_id, "ticket"),
        "subject": str(subject).strip() if subject else "",
        "customer_message": customer,
        "agent_reply": reply,
        "turns": turns,
        "category": category,
        "priority": priority,
        "status": str(status).strip().lower() if status not in (None, "") else None,
        "satisfaction": satisfaction,
        "created_at": created_at,
        "channel": str(channel).strip().lower() if channel not in (None, "") else None,
        "tags": sorted({str(t) for t in tags if t not in (None, "")}),
        "approved": approved,
        "customer_id": customer_id,
        "meta": meta or {},
    }, None


def approved_of(tags: list, mapping: dict) -> bool | None:
    """mapping.approved_tag: tickets carrying that tag are marked approved (others False); unset: None."""
    tag = mapping.get("approved_tag")
    return None if not tag else tag in {str(t) for t in tags}


def slug(text: str, fallback: str = "section") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or fallback

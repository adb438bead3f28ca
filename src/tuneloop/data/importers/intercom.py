"""Intercom conversations (REST API conversation objects): a .json list / {"conversations": [...]} or NDJSON.

Conversation: id, created_at (Unix seconds), title, state, priority, tags {tags: [{name}]},
custom_attributes, conversation_rating {rating 1-5}, source {type, subject, body (HTML), author {type}},
conversation_parts {conversation_parts: [{part_type, body, author {type}}]}.
Threading: author type user, lead or contact is the customer; admin (or team) is an agent. Dropped
(meta.dropped_turns): parts by bots (author type bot, or from_ai_agent / is_ai_answer), notes
(part_type note), and parts without a body (assignments, open/close events).
Customer: the first of contacts.contacts[].id, else the source author's id ("intercom:<id>"), else the
source author's email (hashed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, read_json_objects
from tuneloop.data.importers.fields import approved_of, customer_key, iso_time, map_category, priority_of, ticket_record
from tuneloop.data.importers.html import html_to_text

CUSTOMER_TYPES = {"user", "lead", "contact"}
AGENT_TYPES = {"admin", "team"}
PRIORITY = {
    "priority": "high",
    "not_priority": "normal",
    "low": "low",
    "medium": "normal",
    "high": "high",
    "urgent": "urgent",
}
CHANNEL = {"conversation": "chat"}  # Messenger conversations


def read(path: Path, mapping: dict) -> Iterator[Item]:
    return read_json_objects(path, mapping, ("conversations", "data"), to_ticket, "conversation")


def _role(part: dict) -> str | None:
    author = part.get("author") if isinstance(part.get("author"), dict) else {}
    if author.get("from_ai_agent") or author.get("is_ai_answer") or part.get("part_type") == "note":
        return None
    kind = author.get("type")
    return "customer" if kind in CUSTOMER_TYPES else "agent" if kind in AGENT_TYPES else None


def to_ticket(conv: dict, path: Path, mapping: dict) -> tuple[dict | None, str | None]:
    if conv.get("id") in (None, ""):
        return None, "missing_field: 'id' (not an Intercom conversation object)"
    source = conv.get("source") if isinstance(conv.get("source"), dict) else {}
    parts_obj = conv.get("conversation_parts")
    parts = parts_obj.get("conversation_parts") if isinstance(parts_obj, dict) else parts_obj
    turns, dropped = [], 0
    for part in [source, *(parts if isinstance(parts, list) else [])]:
        if not isinstance(part, dict):
            continue
        text = html_to_text(part.get("body") or "")
        role = _role(part)
        if role is None or not text:
            dropped += 1 if text else 0
            continue
        turns.append({"role": role, "text": text})
    category, _ = map_category(conv, mapping, default_field="tags")
    tag_list = (conv.get("tags") or {}).get("tags") if isinstance(conv.get("tags"), dict) else conv.get("tags")
    tags = [t.get("name") if isinstance(t, dict) else t for t in (tag_list if isinstance(tag_list, list) else [])]
    rating = conv.get("conversation_rating") if isinstance(conv.get("conversation_rating"), dict) else {}
    score = rating.get("rating")
    channel = source.get("type")
    return ticket_record(
        path,
        f"conversation {conv['id']}",
        "intercom",
        f"intercom:{conv['id']}",
        subject=conv.get("title") or html_to_text(source.get("subject") or ""),
        turns=turns,
        category=category,
        priority=priority_of(conv.get("priority"), PRIORITY, mapping),
        status=conv.get("state"),
        satisfaction=score if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5 else None,
        created_at=iso_time(conv.get("created_at")),
        channel=CHANNEL.get(channel, channel) if isinstance(channel, str) else None,
        tags=tags,
        approved=approved_of(tags, mapping),
        meta={"external_id": str(conv["id"]), "delivered_as": source.get("delivered_as"), "dropped_turns": dropped},
        customer_id=_contact(conv, source),
    )


def _contact(conv: dict, source: dict) -> str | None:
    contacts = conv.get("contacts")
    listed = contacts.get("contacts") if isinstance(contacts, dict) else contacts
    first = next((c for c in listed if isinstance(c, dict) and c.get("id")), None) if isinstance(listed, list) else None
    author = source.get("author") if isinstance(source.get("author"), dict) else {}
    customer = author if author.get("type") in CUSTOMER_TYPES else {}
    return customer_key("intercom", (first or {}).get("id") or customer.get("id"), customer.get("email"))

"""Freshdesk tickets (API v2 ticket objects, `include=conversations`): a .json list or NDJSON.

Ticket: id, subject, description_text (or description, HTML), priority 1-4, status 2-5, source
(channel code), type, tags, custom_fields {cf_...}, created_at, conversations [{body_text, body,
incoming, private, created_at}]. The description is the customer's first turn; a conversation with
incoming=true is a customer turn, otherwise an agent turn. Private notes are dropped (meta.dropped_turns).
Customer: requester_id ("freshdesk:<id>"), else the ticket's `email` (hashed).
Satisfaction, when the export carries it (satisfaction_rating.ratings.default_question, Freshdesk's
-103..103 scale), is mapped to 1-5.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, read_json_objects
from tuneloop.data.importers.fields import approved_of, customer_key, iso_time, map_category, priority_of, ticket_record
from tuneloop.data.importers.html import html_to_text

PRIORITY = {
    "1": "low",
    "2": "normal",
    "3": "high",
    "4": "urgent",
    "low": "low",
    "medium": "normal",
    "high": "high",
    "urgent": "urgent",
}
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
SOURCE = {1: "email", 2: "portal", 3: "phone", 7: "chat", 9: "feedback_widget", 10: "outbound_email"}
RATING = {103: 5, 102: 5, 101: 4, 100: 3, -101: 2, -102: 1, -103: 1}


def read(path: Path, mapping: dict) -> Iterator[Item]:
    return read_json_objects(path, mapping, ("tickets", "results"), to_ticket, "ticket")


def to_ticket(ticket: dict, path: Path, mapping: dict) -> tuple[dict | None, str | None]:
    if ticket.get("id") in (None, ""):
        return None, "missing_field: 'id' (not a Freshdesk ticket object)"
    turns = [
        {"role": "customer", "text": ticket.get("description_text") or html_to_text(ticket.get("description") or "")}
    ]
    dropped = 0
    conversations = ticket.get("conversations") if isinstance(ticket.get("conversations"), list) else []
    for conv in conversations:
        if not isinstance(conv, dict) or conv.get("private") is True:
            dropped += 1
            continue
        text = conv.get("body_text") or html_to_text(conv.get("body") or "")
        turns.append(
            {
                "role": "customer" if conv.get("incoming") is True else "agent",
                "text": text if isinstance(text, str) else "",
            }
        )
    category, _ = map_category(ticket, mapping, default_field="type")
    tags = ticket.get("tags") if isinstance(ticket.get("tags"), list) else []
    status, source = ticket.get("status"), ticket.get("source")
    return ticket_record(
        path,
        f"ticket {ticket['id']}",
        "freshdesk",
        f"freshdesk:{ticket['id']}",
        subject=ticket.get("subject"),
        turns=turns,
        category=category,
        priority=priority_of(ticket.get("priority"), PRIORITY, mapping),
        status=STATUS.get(status, f"status_{status}" if status is not None else None),
        satisfaction=_satisfaction(ticket.get("satisfaction_rating")),
        created_at=iso_time(ticket.get("created_at")),
        channel=SOURCE.get(source, f"source_{source}" if source is not None else None),
        tags=tags,
        approved=approved_of(tags, mapping),
        meta={"external_id": str(ticket["id"]), "type": ticket.get("type"), "dropped_turns": dropped},
        customer_id=customer_key("freshdesk", ticket.get("requester_id"), ticket.get("email")),
    )


def _satisfaction(rating) -> int | None:
    if not isinstance(rating, dict):
        return None
    value = (rating.get("ratings") or {}).get("default_question") if isinstance(rating.get("ratings"), dict) else None
    return RATING.get(value) if isinstance(value, int) else None

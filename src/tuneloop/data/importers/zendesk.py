"""Zendesk Support tickets: the JSON export (NDJSON, one ticket per line) or a .json list of tickets.

Each ticket is the API's ticket object (id, subject, description, status, priority, via.channel, tags,
custom_fields [{id, value}], satisfaction_rating {score}, requester_id, created_at) with its comments
under `comments` (the Ticket Comments API objects: author_id, public, plain_body/body, via, created_at).
Threading: a comment by the requester is a customer turn, any other public comment an agent turn.
Dropped (counted in meta.dropped_turns): private comments (internal notes) and comments made by
triggers, automations or bots (via.channel rule, system, automation, answer_bot...).
A `users` list in the export (id, role) marks other end-users (CCs) as customers too.
Customer: requester_id ("zendesk:<id>"), else the email of `requester` or via.source.from (hashed).
Satisfaction: "good" -> 5, "bad" -> 1 (Zendesk's binary CSAT), a 1-5 number as is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import Item, read_json_objects
from tuneloop.data.importers.fields import approved_of, customer_key, iso_time, map_category, priority_of, ticket_record
from tuneloop.data.importers.html import html_to_text

PRIORITY = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}
MACHINE_CHANNELS = ("rule", "system", "automation", "answer_bot", "bot")


def read(path: Path, mapping: dict) -> Iterator[Item]:
    return read_json_objects(path, mapping, ("tickets", "results"), to_ticket, "ticket")


def to_ticket(ticket: dict, path: Path, mapping: dict) -> tuple[dict | None, str | None]:
    if ticket.get("id") in (None, ""):
        return None, "missing_field: 'id' (not a Zendesk ticket object)"
    requester = str(ticket.get("requester_id"))
    users = ticket.get("users") if isinstance(ticket.get("users"), list) else []
    end_users = {str(u.get("id")) for u in users if isinstance(u, dict) and u.get("role") == "end-user"}
    comments = ticket.get("comments")
    if not isinstance(comments, list) or not comments:
        comments = [{"author_id": ticket.get("requester_id"), "public": True, "body": ticket.get("description") or ""}]
    turns, dropped = [], 0
    for comment in comments:
        if not isinstance(comment, dict):
            dropped += 1
            continue
        channel = str((comment.get("via") or {}).get("channel") or "") if isinstance(comment.get("via"), dict) else ""
        if comment.get("public") is False or any(m in channel for m in MACHINE_CHANNELS):
            dropped += 1
            continue
        text = comment.get("plain_body") or comment.get("body") or html_to_text(comment.get("html_body") or "")
        author = str(comment.get("author_id"))
        role = "customer" if author == requester or author in end_users else "agent"
        turns.append({"role": role, "text": text if isinstance(text, str) else ""})
    category, _ = map_category(ticket, mapping, default_field="tags")
    tags = ticket.get("tags") if isinstance(ticket.get("tags"), list) else []
    via = ticket.get("via") if isinstance(ticket.get("via"), dict) else {}
    return ticket_record(
        path,
        f"ticket {ticket['id']}",
        "zendesk",
        f"zendesk:{ticket['id']}",
        subject=ticket.get("subject") or ticket.get("raw_subject"),
        turns=turns,
        category=category,
        priority=priority_of(ticket.get("priority"), PRIORITY, mapping),
        status=ticket.get("status"),
        satisfaction=_satisfaction(ticket.get("satisfaction_rating")),
        created_at=iso_time(ticket.get("created_at")),
        channel=via.get("channel"),
        tags=tags,
        approved=approved_of(tags, mapping),
        meta={"external_id": str(ticket["id"]), "type": ticket.get("type"), "dropped_turns": dropped},
        customer_id=customer_key("zendesk", ticket.get("requester_id"), _requester_email(ticket, via)),
    )


def _requester_email(ticket: dict, via: dict) -> str | None:
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
    source = via.get("source") if isinstance(via.get("source"), dict) else {}
    sender = source.get("from") if isinstance(source.get("from"), dict) else {}
    return requester.get("email") or sender.get("address")


def _satisfaction(rating) -> int | None:
    score = rating.get("score") if isinstance(rating, dict) else rating
    if isinstance(score, bool) or score is None:
        return None
    if isinstance(score, int) and 1 <= score <= 5:
        return score
    text = str(score).lower()
    return 5 if text.startswith("good") else 1 if text.startswith("bad") else None

"""The `history` of a /v1/support/respond request: a returning customer's earlier tickets, as the helpdesk
integration has them, checked and redacted before they reach the reply prompt (issue 26).

    "history": [{"ticket_id": "LUM-100123", "created_at": "2025-05-03T10:00:00Z", "subject": "Hub offline",
                 "text": "the customer's message", "reply": "the agent's answer", "category": "connectivity"}]

ticket_id, created_at (ISO 8601) and text are required; subject, reply and category optional. Training
showed the history of prepared tickets, whose texts `prepare` redacted, so the texts here go through the
request log's redactor (conf/redact) before the prompt contract renders them: the block the model reads
is the one build renders for the same tickets (tests/test_serve.py). The contract shows the newest
`retrieval.history.max_tickets`; the response says how many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tuneloop.data.importers.fields import iso_time
from tuneloop.prompts import EarlierTicket
from tuneloop.serve.guard import ApiError

MAX_HISTORY = 50  # earlier tickets one request may send (the prompt shows a few; the rest are ignored)
MAX_FIELD_CHARS = {"ticket_id": 100, "subject": 500, "category": 100, "text": 20000, "reply": 20000}
REQUIRED = ("ticket_id", "created_at", "text")


def _bad(message: str, param: str) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


def parse_history(value: Any, redact: Callable[[str], str]) -> list[EarlierTicket]:
    """The request's earlier tickets, redacted; ApiError (400, naming the item and field) on a bad one."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_HISTORY:
        raise _bad(f"`history` must be a list of at most {MAX_HISTORY} earlier tickets.", "history")
    out = []
    for i, item in enumerate(value):
        where = f"history[{i}]"
        if not isinstance(item, dict):
            raise _bad(f"{where} must be an object with {', '.join(REQUIRED)} (subject, reply optional).", where)
        for key, limit in MAX_FIELD_CHARS.items():
            text, required = item.get(key), key in REQUIRED
            if text is None and not required:
                continue
            if not isinstance(text, str) or (required and not text.strip()) or len(text) > limit:
                what = "a non-empty string" if required else "a string"
                raise _bad(f"{where}.{key} must be {what} of at most {limit} characters.", f"{where}.{key}")
        created = iso_time(item.get("created_at")) if isinstance(item.get("created_at"), str) else None
        if created is None:
            raise _bad(
                f"{where}.created_at must be an ISO 8601 time such as 2025-05-03T10:00:00Z.", f"{where}.created_at"
            )
        out.append(
            EarlierTicket(
                ticket_id=item["ticket_id"].strip(),
                created_at=created,
                subject=redact((item.get("subject") or "").strip()),
                message=redact(item["text"]),
                reply=redact(item.get("reply") or ""),
                category=(item.get("category") or "").strip(),
            )
        )
    return out

"""Which fields of a prepared record hold free text (and so are redacted), by record kind."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Text fields per record kind (the shared schema of data/prepared/records.jsonl).
RECORD_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket": ("subject", "customer_message", "agent_reply", "turns[].text"),
    "transcript": ("turns[].text",),
    "kb": ("title", "section", "text"),
    "instruction": ("prompt", "completion"),
    "chat": ("messages[].content",),
    "labelled_text": ("text",),
}
_METADATA_KEYS = frozenset(
    {
        "id",
        "kind",
        "source",
        "locator",
        "source_format",
        "line",
        "category",
        "priority",
        "status",
        "created_at",
        "channel",
        "label",
        "doc_id",
        "ticket_id",
        "approved",
        "customer_id",  # an id or an email's hash (importers.fields.customer_key): no text to redact
    }
)


def fields_for(record: Mapping[str, Any]) -> list[str]:
    kind = record.get("kind")
    if kind in RECORD_TEXT_FIELDS:
        return list(RECORD_TEXT_FIELDS[kind])
    # Unknown kind (e.g. a raw export row): every top-level string that is not schema metadata.
    return sorted(k for k, v in record.items() if isinstance(v, str) and k not in _METADATA_KEYS)


def locate(record: dict[str, Any], path: str) -> list[tuple[str, Any, Any]]:
    """(field name as reported, container, key) for a path like "subject" or "turns[].text"."""
    if "[]." not in path:
        return [(path, record, path)] if path in record else []
    head, tail = path.split("[].", 1)
    items = record.get(head)
    if not isinstance(items, list):
        return []
    return [
        (f"{head}[{i}].{tail}", item, tail) for i, item in enumerate(items) if isinstance(item, dict) and tail in item
    ]


# A speaker label that names a role or a diarisation slot, not a person ("Agent", "SPEAKER_01", "Caller 2").
ROLE_SPEAKER = re.compile(
    r"(?i)^\W*(?:agent|customer|caller|client|support|rep|representative|operator|advisor|adviser|consultant"
    r"|speaker|spk|voice|participant|host|guest|user|system|bot|ivr|assistant|unknown|interviewer|moderator"
    r"|a|b|c)?[\s_#-]*(?:\d{1,3}|[a-d])?\W*$"
)


def speaker_names(record: Mapping[str, Any]) -> list[str]:
    """The names in a transcript's turns[].speaker (role labels such as "Agent" or "SPEAKER_01" are no names)."""
    turns = record.get("turns")
    if not isinstance(turns, list):
        return []
    names = {t["speaker"].strip() for t in turns if isinstance(t, dict) and isinstance(t.get("speaker"), str)}
    return sorted(n for n in names if n and not ROLE_SPEAKER.match(n))


def redact_speakers(record: dict[str, Any], rid: str, names: list[str], replacement: str) -> list[dict[str, Any]]:
    """Replace each named speaker by the placeholder, in place; report entries as for text fields."""
    entries = []
    for i, turn in enumerate(record.get("turns") or []):
        if isinstance(turn, dict) and isinstance(turn.get("speaker"), str) and turn["speaker"].strip() in names:
            entries.append(
                {"id": rid, "field": f"turns[{i}].speaker", "type": "PERSON", "start": 0, "end": len(turn["speaker"])}
            )
            turn["speaker"] = replacement
    return entries


def name_spans(text: str, names: list[str]) -> list[Any]:
    """PERSON spans where a known name, or one of its words of 3+ letters, occurs in text (any case)."""
    from tuneloop.data.pii.spans import Span

    words = {w for n in names for w in [n, *n.split()] if len(w) >= 3 and not w.isdigit()}
    if not words or not text:
        return []
    pattern = re.compile(
        r"(?<![\w])(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w])",
        re.IGNORECASE,
    )
    return [Span("PERSON", m.start(), m.end()) for m in pattern.finditer(text)]

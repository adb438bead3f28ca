"""PII redaction for support text: emails, phone numbers and payment card numbers (Luhn-checked).

The rules are deliberately few and conservative here; each match is replaced by a typed placeholder
(`<EMAIL>`, `<PHONE>`, `<CARD>`) and counted by type, never logged with its value.
"""

from __future__ import annotations

import re
from collections import Counter

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# 13-19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5, ...).
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# North American and international numbers: +1 415-555-0199, (415) 555 0199, 415.555.0199, +44 20 7946 0958
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?!\w)")


def luhn_valid(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def redact(text: str, counts: Counter | None = None) -> str:
    """Return text with PII replaced; add per-type counts to `counts` if given."""
    if not text:
        return text
    counts = counts if counts is not None else Counter()

    def card(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            counts["CARD"] += 1
            return "<CARD>"
        return match.group()

    def typed(kind: str):
        def sub(match: re.Match) -> str:
            counts[kind] += 1
            return f"<{kind}>"
        return sub

    text = EMAIL.sub(typed("EMAIL"), text)
    text = CARD.sub(card, text)  # cards before phones: a card's digit groups look like phone parts
    return PHONE.sub(typed("PHONE"), text)

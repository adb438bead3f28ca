"""What the corpus is made of and in which proportions: the fixed kinds the code branches on, with their weights.

The words live in the data files (content.py); what stays here is tied to the code: a category, channel, tone or
PII kind that the builders test by name, and the numbers that shape the file.
"""

from __future__ import annotations

from datetime import UTC, datetime

CATEGORIES: tuple[str, ...] = (
    "billing",
    "account_access",
    "shipping_delivery",
    "returns_refunds",
    "device_setup",
    "connectivity",
    "app_bug",
    "subscription",
)
CATEGORY_WEIGHTS = (0.13, 0.12, 0.14, 0.12, 0.13, 0.13, 0.11, 0.12)
# Categories only the drifting stream draws (drift.py: a policy launched later); never the example corpus.
DRIFT_CATEGORIES: tuple[str, ...] = ("trade_in",)
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
# A situation's usual priority (situations/*.yaml) -> weights over PRIORITIES for one ticket.
PRIORITY_WEIGHTS = {
    "low": (6, 4, 1, 0),
    "normal": (2, 7, 2, 0),
    "high": (0, 3, 6, 2),
    "urgent": (0, 1, 4, 6),
}

CHANNELS = ("email", "chat", "web_form", "phone")
CHANNEL_WEIGHTS = (40, 30, 20, 10)
TONES = ("neutral", "polite", "angry", "terse")
TONE_WEIGHTS = (50, 25, 15, 10)
STATUSES = ("solved", "closed", "pending")
STATUS_WEIGHTS = (60, 30, 10)

# Valid JSON lines that a cleaning step must drop (see tickets.unusable).
UNUSABLE_KINDS = ("empty_message", "emoji_message", "null_reply", "unknown_category", "missing_category")

# Planted personal data: canaries are fixed values a redaction test can search for in any output.
CANARY_EMAIL, CANARY_PHONE, CANARY_CARD = "canary.k7q2@lumora-canary.test", "+1 415-555-0199", "4111 1111 1111 1111"
CANARIES: tuple[str, ...] = (CANARY_EMAIL, CANARY_PHONE, CANARY_CARD)
# (value, kind, categories whose tickets plausibly carry it)
CANARY_PLAN = (
    (CANARY_EMAIL, "email", ("account_access", "subscription")),
    (CANARY_PHONE, "phone", ("connectivity", "device_setup")),
    (CANARY_CARD, "card", ("billing",)),
)
PII_TYPES = ("email", "phone", "card", "address", "name")
PII_TYPE_WEIGHTS = {  # email, phone, card, address, name
    "billing": (3, 3, 5, 0, 1),
    "account_access": (6, 3, 0, 0, 1),
    "shipping_delivery": (3, 3, 0, 3, 1),
    "returns_refunds": (3, 3, 2, 1, 1),
    "device_setup": (4, 5, 0, 1, 0),
    "connectivity": (4, 5, 0, 0, 1),
    "app_bug": (6, 4, 0, 0, 0),
    "subscription": (5, 3, 3, 0, 1),
}
PII_SHARE = 0.145  # of all lines; duplicates of a ticket with PII add a little on top

# Creation times: 14 weeks from a Monday, US daytime heavy.
START = datetime(2025, 1, 6, tzinfo=UTC)
SPAN_DAYS = 98
HOUR_WEIGHTS = (5, 3, 2, 1, 1, 1, 1, 1, 1, 1, 2, 3, 6, 8, 9, 9, 9, 9, 9, 8, 8, 7, 7, 6)  # UTC, US daytime peak

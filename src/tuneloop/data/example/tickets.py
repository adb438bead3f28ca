"""One ticket record at a time: a regular ticket, a near-duplicate of one, or an unusable line.

The draws from rng are part of the corpus: keep their order, including draws whose result is not used.
"""

from __future__ import annotations

import functools
import random
import re
from datetime import datetime

from tuneloop.data.example.content import category as category_texts
from tuneloop.data.example.content import pii_templates, templates, vocab
from tuneloop.data.example.fakes import pii_value
from tuneloop.data.example.messages import agent_reply, customer_message, lower_first
from tuneloop.data.example.mix import (
    CHANNEL_WEIGHTS,
    CHANNELS,
    PRIORITIES,
    PRIORITY_WEIGHTS,
    STATUS_WEIGHTS,
    STATUSES,
    TONE_WEIGHTS,
    TONES,
)
from tuneloop.data.example.slots import fill, make_slots, weighted


def _subject(rng: random.Random, sit: dict, slots: dict, tone: str, channel: str) -> str:
    subject = fill(rng.choice(sit["subjects"]), slots)
    if channel == "chat" and rng.random() < 0.35:
        return f"Chat with {slots['cust_first']}"
    if channel == "phone":
        return f"Inbound call: {subject[:1].lower()}{subject[1:]}"
    if tone == "angry" and rng.random() < 0.4:
        return rng.choice(("URGENT: ", "Still waiting: ", "")) + subject + rng.choice(("", "!!", "!"))
    if tone == "terse":
        return subject.lower()
    return subject


def _priority(rng: random.Random, sit: dict, tone: str) -> str:
    level = PRIORITIES.index(weighted(rng, PRIORITIES, PRIORITY_WEIGHTS[sit["priority"]]))
    if tone == "angry" and rng.random() < 0.35:  # angry customers get escalated a notch
        level = min(level + 1, len(PRIORITIES) - 1)
    return PRIORITIES[level]


def _status_and_satisfaction(rng: random.Random, tone: str) -> tuple[str, int | None]:
    status = weighted(rng, STATUSES, STATUS_WEIGHTS)
    if status == "pending" and rng.random() < 0.7 or rng.random() < 0.04:  # no survey answer (yet)
        return status, None
    weights = (14, 12, 16, 30, 28) if tone == "angry" else (3, 4, 9, 30, 54)
    return status, weighted(rng, (1, 2, 3, 4, 5), weights)


def _pii_sentence(rng: random.Random, kind: str, value: str, slots: dict) -> str:
    expiry = f"{rng.randint(1, 12):02d}/{rng.randint(26, 30)}"  # drawn for every kind, used by card sentences
    return fill(rng.choice(pii_templates().sentences[kind]), {**slots, "pii": value, "exp": expiry})


def build_ticket(
    rng: random.Random, category: str, created: datetime, pii_kind: str | None = None, pii_planted: str | None = None
) -> tuple[dict, dict]:
    """One realistic ticket plus the private generation state (for near-duplicates). pii_kind plants personal
    data of that kind: pii_planted if given (a canary), else a fresh value. ticket_id and created_at are left
    empty for the caller."""
    sit = rng.choice(category_texts(category).situations)
    slots = make_slots(rng, created)
    channel = weighted(rng, CHANNELS, CHANNEL_WEIGHTS)
    tone = weighted(rng, TONES, TONE_WEIGHTS)
    pii = None
    pii_sentence = None
    if pii_kind:
        pii = (pii_kind, pii_planted or pii_value(rng, pii_kind, slots["cust_first"]))
        pii_sentence = _pii_sentence(rng, pii_kind, pii[1], slots)
    message, signed = customer_message(rng, category, sit, slots, tone, channel, pii_sentence)
    subject = _subject(rng, sit, slots, tone, channel)
    named = signed or subject.startswith("Chat with")  # the agent knows the customer's first name
    status, satisfaction = _status_and_satisfaction(rng, tone)
    record = {
        "ticket_id": "",
        "created_at": "",
        "channel": channel,
        "subject": subject,
        "customer_message": message,
        "agent_reply": agent_reply(rng, category, sit, slots, tone, channel, named, pii),
        "category": category,
        "priority": _priority(rng, sit, tone),
        "status": status,
        "satisfaction": satisfaction,
    }
    meta = {"sit": sit, "slots": slots, "tone": tone, "named": named, "pii": pii}
    return record, meta


@functools.cache
def _plain_greetings() -> tuple[str, ...]:
    """Greetings without a {slot}, longest first so that "Hi there," is found before "Hi"."""
    greetings = templates().greetings
    return tuple(sorted({g for gs in greetings.values() for g in gs if "{" not in g}, key=lambda g: (-len(g), g)))


def _edited_message(rng: random.Random, msg: str) -> str:
    """A resubmission: another greeting, an added one, one phrase reworded, or a short line added."""
    lines = templates()
    current = next((g for g in _plain_greetings() if msg.startswith(g)), None)
    edits = [(old, new) for old, new in lines.near_duplicate_edits if old in msg]
    if current and rng.random() < 0.5:
        words = re.sub(r"\W", "", current.lower())
        others = [g for g in lines.greetings["email"] if re.sub(r"\W", "", g.lower()) != words]
        msg = rng.choice(others) + msg[len(current) :]
    elif not current and rng.random() < 0.5:
        sep = "\n\n" if "\n" in msg else " "
        msg = rng.choice(("Hi again,", "Hello again,", "Hi,")) + sep + (lower_first(msg) if sep == " " else msg)
    elif edits:
        old, new = rng.choice(edits)
        msg = msg.replace(old, new, 1)
    elif "\n\n" in msg:  # email: add a short line before the sign-off
        msg = msg.replace("\n\n", " Any update?\n\n", 1) if not current else msg.replace("\n\n", "\n\nAny update? ", 1)
    else:
        end = "" if msg.rstrip()[-1:] in ("!", "?") else "."
        msg = msg.rstrip(". ") + end + " " + rng.choice(("Any update?", "Thanks again."))
    if rng.random() < 0.6:
        msg = msg.replace(". ", rng.choice(("! ", "... ", ".  ")), 1)
    return msg


def near_duplicate(rng: random.Random, source: dict, meta: dict) -> dict:
    """The same message resubmitted with a small word-level edit, answered by another agent."""
    msg = _edited_message(rng, source["customer_message"])
    slots = dict(meta["slots"], agent=rng.choice(vocab().agents))
    record = dict(source, customer_message=msg)
    record["subject"] = rng.choice(("", "", "Re: ", "Fwd: ")) + source["subject"]
    record["agent_reply"] = agent_reply(
        rng, source["category"], meta["sit"], slots, meta["tone"], source["channel"], meta["named"], meta["pii"]
    )
    record["status"], record["satisfaction"] = _status_and_satisfaction(rng, meta["tone"])
    return record


def unusable(rng: random.Random, kind: str, category: str, created: datetime) -> dict:
    """A valid JSON line that cannot train anything (mix.UNUSABLE_KINDS): built as a ticket, then spoiled."""
    lines = templates()
    record, _ = build_ticket(rng, category, created)
    if kind == "empty_message":
        record.update(
            customer_message="",
            subject=rng.choice(("(no subject)", record["subject"])),
            agent_reply=lines.empty_message_reply,
        )
    elif kind == "emoji_message":
        record.update(customer_message=rng.choice(lines.emoji_messages), agent_reply=lines.emoji_message_reply)
    elif kind == "null_reply":
        record.update(agent_reply=None, status="pending", satisfaction=None)
    elif kind == "unknown_category":
        record["category"] = rng.choice(lines.bad_categories)
    else:
        del record["category"]
    return record

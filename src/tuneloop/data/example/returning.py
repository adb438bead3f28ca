"""Returning customers: every ticket gets a customer_id, and a share of tickets become follow-ups by a
customer whose earlier ticket (same category, RETURN_DAYS earlier) was not fixed.

The follow-up's message says only that the customer wrote before and the advice did not help; the
agent's reply names what only the earlier ticket holds (its number, its date and the step already
tried: the first sentence of the earlier answer's core), so a model answers it well only when the reply
prompt carries the customer's history (issue 26; tuneloop_reply_history scores it).

Draws come from their own rng (the caller seeds it apart from the corpus rng), so every other line of
the corpus stays as it was. Follow-ups are chosen among regular tickets with no planted PII and no
planted duplicate after them, so the planted problems and their counts do not change.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tuneloop.data.example.content import returning_texts
from tuneloop.data.example.messages import SENTENCE_END, lower_first
from tuneloop.data.example.slots import fill

FOLLOW_UP_SHARE = 0.15  # of the regular tickets
RETURN_DAYS = (2, 30)  # a follow-up comes this many days after the earlier ticket
# `prepare` drops tickets rated below clean.quality.min_satisfaction (4 by default): an earlier ticket
# rated lower would not reach the history, so earlier tickets are drawn among those rated 4, 5 or unrated,
# and follow-ups are rated so too (their own rating draw comes from this module's rng)
KEPT_RATINGS = (None, 4, 5)


def customer_ids(rng: random.Random, n: int) -> list[str]:
    """n distinct customer ids, CUS-<5 digits>."""
    return [f"CUS-{number}" for number in rng.sample(range(10000, 100000), n)]


def _step(earlier: dict, meta: dict) -> str | None:
    """The first sentence of the situation's answer as the earlier reply gave it (the step already tried)."""
    for core in meta["sit"]["replies"]:
        text = fill(core, meta["slots"])
        if text in (earlier.get("agent_reply") or ""):
            match = SENTENCE_END.search(text)
            return text[: match.start()] if match else text
    return None


def follow_up(rng: random.Random, earlier: dict, meta: dict, agent: str, gap_days: int) -> dict | None:
    """The follow-up's fields (texts, channel, rating), or None when the earlier answer's step is unknown."""
    step = _step(earlier, meta)
    if step is None:
        return None
    t = returning_texts()
    slots = dict(meta["slots"])
    subject = fill(meta["sit"]["subjects"][0], slots)  # the situation's plain subject (no "URGENT:", no channel)
    created = datetime.strptime(earlier["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    body = fill(rng.choice(meta["sit"]["bodies"]), slots)
    message = fill(
        rng.choice(t.messages),
        {
            "topic": lower_first(subject),
            "when": rng.choice(t.whens["days" if gap_days < 7 else "week" if gap_days < 14 else "weeks"]),
            "body": body,
            "body_lower": lower_first(body),
            "still": rng.choice(t.stills),
        },
    )
    ask = rng.choice(t.asks)
    message += f" {ask}" if ask else ""
    next_step = rng.choice(t.next_steps)
    reply = fill(
        rng.choice(t.replies),
        {
            "earlier_id": earlier["ticket_id"],
            "earlier_date": f"{created:%B} {created.day}",
            "step": step,
            "next": next_step,
            "next_upper": next_step[:1].upper() + next_step[1:],
        },
    )
    signature = fill(rng.choice(t.signatures), {"agent": agent})
    first = slots["cust_first"]
    return {
        "channel": "email",
        "subject": fill(rng.choice(t.subjects), {"subject": subject}),
        "customer_message": f"Hi,\n\n{message}\n\nThanks,\n{first}",
        "agent_reply": f"Hi {first},\n\n{reply}\n\n{signature}",
        "satisfaction": rng.choice(KEPT_RATINGS),
    }


def plan_follow_ups(
    rng: random.Random, lines: list[tuple[str, str | None]], stamps: list[datetime], free: set[int], rated: set[int]
) -> dict[int, int]:
    """follow-up line -> its earlier line: FOLLOW_UP_SHARE of the regular tickets, each earlier ticket used once,
    same category, RETURN_DAYS apart. `free` are the lines that may become follow-ups, `rated` those that may
    be an earlier ticket (rated KEPT_RATINGS)."""
    regular = [i for i, (kind, _) in enumerate(lines) if kind == "ticket"]
    wanted = round(len(regular) * FOLLOW_UP_SHARE)
    candidates = sorted(free)
    rng.shuffle(candidates)
    low, high = (timedelta(days=d) for d in RETURN_DAYS)
    plan: dict[int, int] = {}
    used: set[int] = set()
    for i in candidates:
        if len(plan) >= wanted:
            break
        if i in used:
            continue
        earlier = [
            j
            for j in regular
            if j in rated
            and j not in used
            and j not in plan
            and lines[j][1] == lines[i][1]
            and low <= stamps[i] - stamps[j] <= high
        ]
        if earlier:
            j = rng.choice(earlier)
            plan[i] = j
            used |= {i, j}
    return plan

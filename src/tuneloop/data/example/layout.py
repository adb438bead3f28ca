"""The plan of tickets.jsonl before any text is written: what each line is, when it was created, its id and PII.

The draws from rng are part of the corpus: keep their order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tuneloop.data.example.mix import (
    CANARY_PLAN,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    HOUR_WEIGHTS,
    PII_SHARE,
    PII_TYPE_WEIGHTS,
    PII_TYPES,
    SPAN_DAYS,
    START,
    UNUSABLE_KINDS,
)
from tuneloop.data.example.slots import weighted

Line = tuple[str, str | None]  # (kind, category for a ticket / unusable kind / None)


def allocate(total: int, weights, minimum: int) -> list[int]:
    """Largest-remainder split of total by weights, then top up to `minimum` from the largest."""
    raw = [w * total / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: total - sum(counts)]:
        counts[i] += 1
    for i in range(len(counts)):
        while counts[i] < minimum:
            counts[max(range(len(counts)), key=lambda j: (counts[j], -j))] -= 1
            counts[i] += 1
    return counts


def plan_lines(rng: random.Random, n: int) -> list[Line]:
    """Decide the kind of every line: ("ticket", category), ("exact"/"near", None) right after the ticket they
    copy, ("unusable", kind) and one ("malformed", None) in the middle of the file."""
    n_malformed = 1 if n >= 3 else 0
    n_unusable = max(1, round(n * 0.01)) if n >= 20 else 0
    n_exact = n_near = round(n * 0.02)
    n_tickets = n - n_malformed - n_unusable - n_exact - n_near
    counts = allocate(n_tickets, CATEGORY_WEIGHTS, min(8, n_tickets // len(CATEGORIES)))
    lines: list[Line] = [("ticket", c) for c, k in zip(CATEGORIES, counts) for _ in range(k)]
    kinds = list(UNUSABLE_KINDS)
    rng.shuffle(kinds)
    lines += [("unusable", kinds[i % len(kinds)]) for i in range(n_unusable)]
    rng.shuffle(lines)
    for dup in ["exact"] * n_exact + ["near"] * n_near:
        # a duplicate follows a regular ticket that is not already followed by one
        sources = [
            i
            for i, (k, _) in enumerate(lines)
            if k == "ticket" and (i + 1 == len(lines) or lines[i + 1][0] not in ("exact", "near"))
        ]
        lines.insert(rng.choice(sources) + 1, (dup, None))
    if n_malformed:
        middle = [
            i
            for i in range(len(lines) * 2 // 5, max(len(lines) * 3 // 5, len(lines) * 2 // 5 + 1))
            if lines[i][0] not in ("exact", "near")
        ]
        lines.insert(rng.choice(middle), ("malformed", None))
    return lines


def timestamps(rng: random.Random, lines: list[Line]) -> list[datetime]:
    """Sorted creation times over SPAN_DAYS, US-daytime heavy; a duplicate follows its source by minutes."""
    stamps = sorted(
        START
        + timedelta(
            days=rng.randrange(SPAN_DAYS),
            hours=weighted(rng, range(24), HOUR_WEIGHTS),
            minutes=rng.randrange(60),
            seconds=rng.randrange(60),
        )
        for _ in lines
    )
    for i, (kind, _) in enumerate(lines):
        if kind in ("exact", "near") and i > 0:
            upper = stamps[i + 1] if i + 1 < len(stamps) else stamps[i - 1] + timedelta(hours=3)
            gap = (upper - stamps[i - 1]).total_seconds()
            if gap >= 2:
                stamps[i] = stamps[i - 1] + timedelta(
                    seconds=min(rng.randint(40, 2400 if kind == "exact" else 14400), int(gap) - 1)
                )
    return stamps


def ticket_ids(rng: random.Random, n: int) -> list[str]:
    ids, current = [], 100001
    for _ in range(n):
        ids.append(f"LUM-{current}")
        current += 1 + (rng.randint(1, 3) if rng.random() < 0.06 else 0)  # merged/deleted tickets leave gaps
    return ids


def pii_plan(rng: random.Random, lines: list[Line]) -> dict[int, tuple[str, str | None]]:
    """Line index -> (pii kind, value or None for a fresh one): each canary once in a ticket of a fitting
    category, then random PII in other tickets up to PII_SHARE of the file."""
    planted: dict[int, tuple[str, str | None]] = {}
    tickets = [i for i, (k, _) in enumerate(lines) if k == "ticket"]
    for value, kind, categories in CANARY_PLAN:
        free = [i for i in tickets if i not in planted]
        fitting = [i for i in free if lines[i][1] in categories] or free
        if fitting:
            planted[rng.choice(fitting)] = (kind, value)
    free = [i for i in tickets if i not in planted]
    for i in sorted(rng.sample(free, min(len(free), max(0, round(len(lines) * PII_SHARE) - len(planted))))):
        planted[i] = (weighted(rng, PII_TYPES, PII_TYPE_WEIGHTS[lines[i][1]]), None)
    return planted

"""The drifting stream: Lumora's inbox week by week while its products, plans and policies change.

    tuneloop data example --out data/fresh --weeks 17-20 --per-week 75    # a drifted snapshot
    from tuneloop.data.example.stream import week_tickets                     # the monitor's simulation

Week 0 is the week after the example corpus ends (it spans 14 weeks from 2025-01-06); negative weeks are
the history before it, drawn like the corpus. The events (drift.yaml) start in their week and stay:

    week  6  new product: the Lumora Cam. A growing share of device_setup, connectivity and app_bug
             tickets are about it (thermostat words become camera words, a camera sentence joins the
             message), and those categories grow
    week 10  renamed plan: Lumora Plus is Lumora Premium in every text, tickets and KB alike
    week 14  new policy: the Trade-In program, whose tickets are a new label, trade_in (8% of the inbox
             in its first week, 24% from its fourth)

Tickets are written by the corpus's own builders (same situations, tones, channels and PII, about 15%
carry some), without the corpus's planted duplicates and broken lines. The same weeks, size and seed
give the same bytes.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tuneloop.data.example.content import drift_events, facts, kb_articles
from tuneloop.data.example.mix import (
    CATEGORIES,
    CATEGORY_WEIGHTS,
    HOUR_WEIGHTS,
    PII_SHARE,
    PII_TYPE_WEIGHTS,
    PII_TYPES,
    SPAN_DAYS,
    START,
)
from tuneloop.data.example.returning import KEPT_RATINGS, customer_ids, follow_up, plan_follow_ups
from tuneloop.data.example.slots import weighted
from tuneloop.data.example.tickets import build_ticket

WEEK0 = START + timedelta(days=SPAN_DAYS)  # the Monday after the corpus's last week
TEXT_FIELDS = ("subject", "customer_message", "agent_reply")


def _ramp(shares, weeks_since: int) -> float:
    return float(shares[min(weeks_since, len(shares) - 1)])


def events_by(week: int) -> list[str]:
    """The events in force in `week`: e.g. ['new_product', 'renamed_plan']."""
    return [name for name, ev in drift_events().items() if week >= int(ev["week"])]


def category_weights(week: int) -> dict[str, float]:
    """Each label's share of the week's tickets (sums to 1)."""
    ev = drift_events()
    weights = dict(zip(CATEGORIES, CATEGORY_WEIGHTS))
    if week >= ev["new_product"]["week"]:
        for name, factor in ev["new_product"]["boost"].items():
            weights[name] *= float(factor)
    total = sum(weights.values())
    shares = {c: w / total for c, w in weights.items()}
    policy = ev["new_policy"]
    if week >= policy["week"]:
        new = _ramp(policy["share"], week - int(policy["week"]))
        shares = {c: s * (1 - new) for c, s in shares.items()}
        shares[policy["category"]] = new
    return shares


def _replacer(mapping: dict[str, str]):
    keys = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b", re.IGNORECASE)
    lower = {k.lower(): v for k, v in mapping.items()}

    def sub(text: str) -> str:
        def one(m: re.Match) -> str:
            new = lower[m.group(0).lower()]
            return new[:1].upper() + new[1:] if m.group(0)[:1].isupper() else new

        return pattern.sub(one, text)

    return sub


def rename_plan(text: str, week: int) -> str:
    plan = drift_events()["renamed_plan"]
    return re.sub(rf"\b{re.escape(plan['from'])}\b", plan["to"], text) if week >= plan["week"] else text


def _add_line(message: str, line: str) -> str:
    """The camera sentence joins the message's body (before an email's sign-off)."""
    paragraphs = message.split("\n\n")
    i = 1 if len(paragraphs) >= 3 else 0
    paragraphs[i] = paragraphs[i].rstrip() + " " + line
    return "\n\n".join(paragraphs)


def _drift(rng: random.Random, record: dict, category: str, week: int) -> dict:
    product = drift_events()["new_product"]
    # drawn for every ticket, used only where the new product is out: a week's draws do not depend on it
    about_cam, line = rng.random(), rng.choice(product["lines"])
    if (
        week >= product["week"]
        and category in product["categories"]
        and about_cam < _ramp(product["share"], week - int(product["week"]))
    ):
        sub = _replacer(product["replace"])
        record.update({f: sub(record[f]) for f in TEXT_FIELDS})
        record["customer_message"] = _add_line(record["customer_message"], line)
    record.update({f: rename_plan(record[f], week) for f in TEXT_FIELDS})
    return record


def week_tickets(week: int, n: int, seed: int = 0, prefix: str = "STR") -> list[dict]:
    """n tickets created in `week`, sorted by time, in tuneloop's ticket format."""
    rng = random.Random(f"tuneloop-stream:{seed}:{week}")
    shares = category_weights(week)
    labels = list(shares)
    start = WEEK0 + timedelta(weeks=week)
    stamps = sorted(
        start
        + timedelta(
            days=rng.randrange(7),
            hours=weighted(rng, range(24), HOUR_WEIGHTS),
            minutes=rng.randrange(60),
            seconds=rng.randrange(60),
        )
        for _ in range(n)
    )
    out, metas, planted = [], {}, set()
    for i, created in enumerate(stamps):
        category = weighted(rng, labels, [shares[c] for c in labels])
        pii = None
        if rng.random() < PII_SHARE:
            pii = (weighted(rng, PII_TYPES, PII_TYPE_WEIGHTS.get(category, (3, 3, 1, 1, 1))), None)
            planted.add(i)
        record, metas[i] = build_ticket(rng, category, created, *(pii or (None, None)))
        record = _drift(rng, record, category, week)
        record["ticket_id"] = f"{prefix}-{week:+03d}-{i + 1:04d}"
        record["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(record)
    _returning_customers(out, metas, stamps, planted, random.Random(f"tuneloop-stream-returning:{seed}:{week}"))
    return out


def _returning_customers(
    records: list[dict], metas: dict[int, dict], stamps: list[datetime], planted: set[int], rng: random.Random
) -> None:
    """Customer ids, and follow-ups of an earlier ticket of the week as the corpus has them (returning.py): a
    stream without them would differ from the training data in that alone. Own rng: the other draws stay."""
    for record, customer in zip(records, customer_ids(rng, len(records))):
        record["customer_id"] = customer
    lines = [("ticket", r["category"]) for r in records]
    rated = {i for i, r in enumerate(records) if r["satisfaction"] in KEPT_RATINGS}
    free = set(range(len(records))) - planted
    for i, j in sorted(plan_follow_ups(rng, lines, stamps, free, rated).items()):
        texts = follow_up(rng, records[j], metas[j], metas[i]["slots"]["agent"], (stamps[i] - stamps[j]).days)
        if texts is not None:
            records[i].update(texts, customer_id=records[j]["customer_id"])


def kb_texts(week: int) -> dict[str, str]:
    """The knowledge base as of `week`: the plan renamed, the Trade-In article once the policy exists."""
    texts = {slug: rename_plan(t.strip().format(**facts()) + "\n", week) for slug, t in kb_articles().items()}
    policy = drift_events()["new_policy"]
    if week >= policy["week"]:
        texts[policy["kb_slug"]] = policy["kb"].strip() + "\n"
    return dict(sorted(texts.items()))


def snapshot(out_dir: str | Path, first_week: int, last_week: int, per_week: int = 75, seed: int = 0) -> dict[str, Any]:
    """Write out_dir/tickets.jsonl (weeks first..last, per_week each) and out_dir/kb/ as of last_week."""
    if last_week < first_week or per_week < 1:
        raise ValueError(f"weeks {first_week}..{last_week} with {per_week} per week: nothing to write")
    out = Path(out_dir)
    (out / "kb").mkdir(parents=True, exist_ok=True)
    rows = [t for week in range(first_week, last_week + 1) for t in week_tickets(week, per_week, seed)]
    with (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))
    for slug, text in kb_texts(last_week).items():
        (out / "kb" / f"{slug}.md").write_text(text, encoding="utf-8", newline="\n")
    per_category: dict[str, int] = {}
    for r in rows:
        per_category[r["category"]] = per_category.get(r["category"], 0) + 1
    return {
        "out_dir": str(out),
        "weeks": [first_week, last_week],
        "seed": seed,
        "tickets_written": len(rows),
        "per_category": dict(sorted(per_category.items())),
        "events": events_by(last_week),
        "first_day": f"{WEEK0 + timedelta(weeks=first_week):%Y-%m-%d}",
        "kb_articles": len(kb_texts(last_week)),
    }


def parse_weeks(text: str) -> tuple[int, int]:
    """'17-20' -> (17, 20); '20' -> (20, 20); '-4--1' -> (-4, -1)."""
    m = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+))?\s*", text)
    if not m:
        raise ValueError(f"--weeks {text!r}: expected FIRST-LAST, e.g. 17-20")
    first = int(m.group(1))
    return first, int(m.group(2)) if m.group(2) is not None else first


def started(week: int) -> datetime:
    return WEEK0 + timedelta(weeks=week)


# The example's sealed drop: tickets of the undrifted weeks just before week 0, drawn with their own seed
# and ids, so they are none of data/raw's, data/fresh's or the simulation's tickets (docs/sealed.md).
SEALED_WEEKS, SEALED_PER_WEEK, SEALED_SEED, SEALED_PREFIX = (-2, -1), 80, 7, "SEAL"


def sealed_drop(out_dir: str | Path) -> dict[str, Any]:
    """Write out_dir/tickets.jsonl: the drop `tuneloop data seal --share 1` turns into the example's sealed set."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first, last = SEALED_WEEKS
    rows = [t for w in range(first, last + 1) for t in week_tickets(w, SEALED_PER_WEEK, SEALED_SEED, SEALED_PREFIX)]
    with (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))
    return {"out_dir": str(out), "weeks": list(SEALED_WEEKS), "seed": SEALED_SEED, "tickets_written": len(rows)}

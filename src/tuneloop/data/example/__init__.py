"""Deterministic synthetic support corpus for Lumora, a fictional smart-home company.

Lumora sells the Thermo 2 and Thermo Mini smart thermostats, Glow smart bulbs and light strips, a Room
Sensor and the Lumora Hub, all run from the Lumora Home app, plus a paid "Lumora Plus" subscription.
This package writes what a helpdesk export and a small knowledge base of such a company look like, so
the whole pipeline can run end to end without any real customer data:

    PYTHONPATH=src python -m tuneloop.data.example --out data/raw
    PYTHONPATH=src python -m tuneloop.data.example --out /tmp/corpus --n-tickets 80 --seed 7

Output (byte-identical for the same n_tickets and seed, stdlib and PyYAML only, no network):

    out/tickets.jsonl   one ticket per line: ticket_id, created_at, channel, subject, customer_message,
                        agent_reply, category, priority, status, satisfaction, customer_id
    out/kb/*.md         13 knowledge-base articles; the policy facts they state (return window, refund
                        timing, prices, error codes...) are the ones agents quote in their replies

Like a real export, the ticket file has data-quality problems planted on purpose, and the summary that
`generate` returns counts each of them:

    exact_duplicates   same ticket submitted twice (identical content, new ticket_id and created_at)
    near_duplicates    the same message resubmitted with a small edit (greeting, an extra word, punctuation)
    with_pii           tickets whose customer message holds an email, phone, card number, address or full
                       name (about 15%), including the three CANARIES, each planted at least once
    unusable           valid JSON lines that cannot be used: empty or emoji-only message, null agent_reply,
                       a category outside CATEGORIES, or no category key at all
    malformed_lines    exactly one line cut off mid-write (not valid JSON), in the middle of the file

Returning customers (returning.py): every line has a customer_id (a planted duplicate its source's), and
`follow_ups` tickets (about 15% of the regular ones) are by a customer whose earlier ticket of the same
category did not fix the problem: the reply names the earlier ticket's number, date and step, which only
that ticket holds (the reply prompt's history block, tuneloop_reply_history). Their draws come from a
separate rng, so the rest of the corpus and the planted problems are as they were.

`per_category` counts the well-formed lines whose category is one of CATEGORIES (duplicates included).
n_tickets is the number of lines in tickets.jsonl, problems included.

The texts are data files next to this module (package data): facts.yaml (policy numbers), vocab.yaml and
people.yaml (words and names to draw from), situations/<category>.yaml (what customers write and agents
answer), templates.yaml and pii.yaml (how messages are dressed), kb/*.md (the articles). The code draws
from them by position, so editing a list changes the corpus: regenerate data/raw and update data.dvc.
Modules: layout (which line is what), tickets, messages, slots and fakes (the texts), content (loading),
mix (kinds and proportions), returning (follow-ups). May import: nothing from tuneloop (stdlib and PyYAML only).
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime
from pathlib import Path

from tuneloop.data.example.content import facts, kb_articles
from tuneloop.data.example.layout import pii_plan, plan_lines, ticket_ids, timestamps
from tuneloop.data.example.mix import CANARIES, CATEGORIES, PRIORITIES
from tuneloop.data.example.returning import KEPT_RATINGS, customer_ids, follow_up, plan_follow_ups
from tuneloop.data.example.tickets import build_ticket, near_duplicate, unusable

__all__ = ["CATEGORIES", "PRIORITIES", "CANARIES", "generate", "main"]

PROBLEM_COUNTS = ("exact_duplicates", "near_duplicates", "with_pii", "unusable", "malformed_lines")
RETURNING_SEED = 26  # the returning customers' rng is seeded seed + this, apart from the corpus rng


def _add_returning_customers(
    rng: random.Random,
    records: list[dict],
    lines: list,
    stamps: list[datetime],
    metas: dict[int, dict],
    copies: dict[int, int],
    planted: dict,
    seen: set[str],
) -> dict:
    """Give every line a customer_id (a planted duplicate its source's) and turn a share of regular tickets
    into follow-ups of an earlier ticket by the same customer (returning.py); in place. Returns the counts."""
    customers = customer_ids(rng, len(records))
    for i, record in enumerate(records):
        record["customer_id"] = customers[copies.get(i, i)]
    duplicated = set(copies.values())
    free = {i for i in metas if i not in planted and i not in duplicated}
    rated = {i for i in metas if records[i]["satisfaction"] in KEPT_RATINGS}
    made = 0
    for i, j in sorted(plan_follow_ups(rng, lines, stamps, free, rated).items()):
        agent, gap = metas[i]["slots"]["agent"], (stamps[i] - stamps[j]).days
        texts = next(
            (
                t
                for t in (follow_up(rng, records[j], metas[j], agent, gap) for _ in range(20))
                if t is None or t["customer_message"] not in seen
            ),
            None,
        )
        if texts is None:
            continue
        seen.add(texts["customer_message"])
        records[i].update(texts, customer_id=records[j]["customer_id"])
        made += 1
    return {"follow_ups": made}


def _fresh_ticket(
    rng: random.Random, category: str, created: datetime, pii: tuple[str, str | None] | None, seen: set[str]
) -> tuple[dict, dict]:
    """A regular ticket whose message is new to the file: only planted duplicates may repeat one."""
    pii_kind, pii_value = pii or (None, None)
    for _ in range(20):
        record, meta = build_ticket(rng, category, created, pii_kind, pii_value)
        if record["customer_message"] not in seen:
            break
    return record, meta


def _write_kb(kb_dir: Path) -> int:
    kb_dir.mkdir(parents=True, exist_ok=True)
    articles = kb_articles()
    for slug, template in articles.items():
        text = template.strip().format(**facts()) + "\n"
        (kb_dir / f"{slug}.md").write_text(text, encoding="utf-8", newline="\n")
    return len(articles)


def generate(out_dir: str | Path, n_tickets: int = 720, seed: int = 1234) -> dict:
    """Write out_dir/tickets.jsonl (n_tickets lines) and out_dir/kb/*.md; return a summary of what was planted."""
    if n_tickets < 1:
        raise ValueError(f"n_tickets must be at least 1, got {n_tickets}")
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = plan_lines(rng, n_tickets)
    stamps = timestamps(rng, lines)
    ids = ticket_ids(rng, len(lines))
    planted = pii_plan(rng, lines)

    records: list[dict] = []
    cuts: dict[int, float] = {}  # malformed line -> the share of it that was written
    metas: dict[int, dict] = {}  # regular ticket line -> its generation state
    copies: dict[int, int] = {}  # planted duplicate line -> the line it copies
    per_category = dict.fromkeys(CATEGORIES, 0)
    counts = dict.fromkeys(PROBLEM_COUNTS, 0)
    prev: tuple[dict, dict, bool, int] | None = None  # last regular ticket: record, meta, has_pii, line
    seen: set[str] = set()  # customer messages so far
    for i, (kind, arg) in enumerate(lines):
        created = stamps[i]
        has_pii = False
        if kind == "ticket":
            record, meta = _fresh_ticket(rng, arg, created, planted.get(i), seen)
            has_pii = i in planted
            prev, metas[i] = (record, meta, has_pii, i), meta
        elif kind in ("exact", "near"):
            source, meta, has_pii, copies[i] = prev
            record = dict(source) if kind == "exact" else near_duplicate(rng, source, meta)
            while record["customer_message"] in seen and kind == "near":
                record = near_duplicate(rng, source, meta)
            counts["exact_duplicates" if kind == "exact" else "near_duplicates"] += 1
        elif kind == "unusable":
            record = unusable(rng, arg, rng.choice(CATEGORIES), created)
            counts["unusable"] += 1
        else:  # malformed: a regular ticket, cut off below
            record, _ = build_ticket(rng, rng.choice(CATEGORIES), created)
        record["ticket_id"], record["created_at"] = ids[i], created.strftime("%Y-%m-%dT%H:%M:%SZ")
        if kind == "malformed":
            cuts[i] = rng.uniform(0.35, 0.75)
            counts["malformed_lines"] += 1
        elif record.get("category") in per_category:
            per_category[record["category"]] += 1
        counts["with_pii"] += has_pii
        seen.add(record.get("customer_message") or "")
        records.append(record)

    returning = _add_returning_customers(
        random.Random(seed + RETURNING_SEED), records, lines, stamps, metas, copies, planted, seen
    )
    rows = []
    for i, record in enumerate(records):
        line = json.dumps(record, ensure_ascii=False, sort_keys=True)
        rows.append(line[: int(len(line) * cuts[i])] if i in cuts else line)
    with (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(row + "\n" for row in rows))
    kb_count = _write_kb(out / "kb")
    return {
        "out_dir": str(out),
        "seed": seed,
        "tickets_written": len(rows),
        "per_category": per_category,
        **counts,
        **returning,
        "kb_articles": kb_count,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tuneloop.data.example", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/raw", help="output folder (default: data/raw)")
    parser.add_argument("--n-tickets", type=int, default=720, help="lines in tickets.jsonl (default: 720)")
    parser.add_argument("--seed", type=int, default=1234, help="random seed (default: 1234)")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out, args.n_tickets, args.seed), indent=2, ensure_ascii=False))
    return 0

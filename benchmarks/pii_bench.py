"""PII redaction on this machine: throughput on 10k synthetic tickets, and precision/recall on
labelled data nobody on this project wrote.

    PYTHONPATH=src .venv/bin/python benchmarks/pii_bench.py                 # 10k tickets, seed 7
    PYTHONPATH=src .venv/bin/python benchmarks/pii_bench.py --n-tickets 2000 --engine rules

1. Throughput: example_corpus writes N tickets (about 15% carry planted PII); every text field of
   every well-formed line goes through Redactor.redact_record, timed after one warm-up pass.
   Prints records/s, chars/s and the spans found per type.
2. Accuracy: tuneloop.data.pii.scoring on tests/data/pii_labelled.jsonl (ours) and, when present, on
   ../shared/data/pii/presidio_synth_v2_dev.json (presidio-research, MIT; read in place, never
   copied into the repo; skipped cleanly when absent).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from tuneloop.data import example as example_corpus
from tuneloop.data.pii import Redactor, make_redactor, summarize
from tuneloop.data.pii.scoring import DEFAULT_DATA, evaluate, format_table, load_labelled, load_presidio

PRESIDIO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pii" / "presidio_synth_v2_dev.json"


def machine() -> str:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def tickets(n: int, seed: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        example_corpus.generate(tmp, n_tickets=n, seed=seed)
        rows = []
        for i, line in enumerate(Path(tmp, "tickets.jsonl").read_text(encoding="utf-8").splitlines()):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the corpus plants one cut-off line on purpose
            if isinstance(row, dict):
                rows.append(
                    {
                        "id": str(row.get("ticket_id", i)),
                        "kind": "ticket",
                        **{k: row.get(k) for k in ("subject", "customer_message", "agent_reply")},
                    }
                )
        return rows


def throughput(records: list[dict], redactor: Redactor) -> dict:
    chars = sum(
        len(r[k] or "")
        for r in records
        for k in ("subject", "customer_message", "agent_reply")
        if isinstance(r[k], str)
    )
    redactor.redact_records(records[:200])  # warm-up: imports, regex caches
    start, cpu = time.perf_counter(), time.process_time()
    # as prepare does: 256 records a call (the presidio engine batches its NER over them)
    entries = [
        e for i in range(0, len(records), 256) for _, es in redactor.redact_records(records[i : i + 256]) for e in es
    ]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "records": len(records),
        "chars": chars,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "records_per_cpu_s": round(len(records) / cpu),
        "records_per_s": round(len(records) / seconds),
        "chars_per_s": round(chars / seconds),
        "found": summarize(entries)["by_type"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tickets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default="presidio", choices=["presidio", "rules"], help="redact.engine")
    args = parser.parse_args(argv)

    redactor = make_redactor({"engine": args.engine})
    print(f"machine: {machine()}")
    records = tickets(args.n_tickets, args.seed)
    t = throughput(records, redactor)
    print(f"\n## Throughput: {t['records']} tickets, {t['chars']:,} chars (subject + customer_message + agent_reply)\n")
    print(f"{t['seconds']:.2f} s  ->  {t['records_per_s']:,} records/s, {t['chars_per_s']:,} chars/s")
    print(f"CPU time of this process: {t['cpu_seconds']:.2f} s  ->  {t['records_per_cpu_s']:,} records per CPU-second")
    print(f"spans found by type: {t['found']}")

    print()
    print(format_table(evaluate(redactor, load_labelled(DEFAULT_DATA)), f"## Ours: {DEFAULT_DATA.name}"))
    if PRESIDIO.exists():
        print()
        print(format_table(evaluate(redactor, load_presidio(PRESIDIO)), f"## External: {PRESIDIO.name}"))
    else:
        print(f"\n{PRESIDIO}: absent, external accuracy skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

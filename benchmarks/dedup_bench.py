"""Dedup benchmark: speed, peak memory and near-duplicate precision/recall on synthetic tickets.

    PYTHONPATH=src python benchmarks/dedup_bench.py                  # 10k and 100k, char shingles
    PYTHONPATH=src python benchmarks/dedup_bench.py --sizes 10000 --shingles char word

Each base ticket is a templated support sentence (product, error code, order number) plus two
sentences of random words, so unrelated tickets stay unrelated. About 10% of the records are planted
near duplicates of a base ticket, each made with one or two realistic edits: a changed or added
greeting, a typo (two letters swapped), an appended signature or mobile footer, an inserted word, a
changed punctuation mark. A detected pair is right when both records come from the same base.
Each size runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

PRODUCTS = ["Thermo 2", "Thermo Mini", "Glow bulb", "Glow strip", "Lumora Hub", "Room Sensor", "the app"]
TEMPLATES = [
    "My {p} shows error {e} since {d} days and I already restarted it.",
    "I was charged twice for order {o}, can you refund the second charge?",
    "The {p} keeps going offline every night, is there a fix?",
    "Order {o} says delivered but nothing arrived at my door.",
    "How do I reset the {p}? The light blinks {c} and nothing happens.",
    "I want to return the {p} from order {o}, it stopped working after {d} days.",
]
GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hello Lumora Support,", "Hey,", "Good morning,"]
SIGNATURES = ["\n\nThanks,\nMaria", "\n\nSent from my iPhone", "\n\nBest regards,\nTom Becker", "\n\nCheers,\nAna"]
WORDS = None


def _words(rng: random.Random) -> list[str]:
    global WORDS
    if WORDS is None:
        letters = "abcdefghijklmnopqrstuvwxyz"
        WORDS = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(6000)})
    return WORDS


def base_message(rng: random.Random) -> str:
    words = _words(rng)
    template = rng.choice(TEMPLATES).format(
        p=rng.choice(PRODUCTS),
        e=f"E{rng.randint(10, 99)}",
        d=rng.randint(2, 30),
        o=f"LM-{rng.randint(10000, 99999)}",
        c=rng.choice(["red", "blue", "orange"]),
    )
    filler = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 12))).capitalize() + "." for _ in range(2)]
    return " ".join([template] + filler)


def edit(rng: random.Random, msg: str) -> tuple[str, list[str]]:
    kinds = rng.sample(["greeting", "typo", "signature", "insert", "punctuation"], rng.choice([1, 1, 2]))
    for kind in kinds:
        if kind == "greeting":
            msg = rng.choice(GREETINGS) + "\n\n" + msg
        elif kind == "typo":
            words = msg.split(" ")
            i = rng.choice([k for k, w in enumerate(words) if len(w) > 3] or [0])
            w = words[i]
            j = rng.randrange(len(w) - 1) if len(w) > 1 else 0
            words[i] = w[:j] + w[j + 1 : j + 2] + w[j : j + 1] + w[j + 2 :]
            msg = " ".join(words)
        elif kind == "signature":
            msg = msg + rng.choice(SIGNATURES)
        elif kind == "insert":
            words = msg.split(" ")
            words.insert(rng.randrange(1, len(words)), rng.choice(["honestly", "really", "again", "please"]))
            msg = " ".join(words)
        else:
            msg = msg.replace(". ", rng.choice(["! ", "... ", "; "]), 1)
    return msg, sorted(kinds)


def corpus(n: int, seed: int = 0, dup_share: float = 0.1) -> tuple[list[dict], dict[str, str], dict[str, list[str]]]:
    """n ticket records; family[id] = base id; edits[dup id] = edit kinds."""
    rng = random.Random(seed)
    records, family, edits = [], {}, {}
    n_dups = int(n * dup_share)
    for i in range(n - n_dups):
        rid = f"T{i:06d}"
        records.append(
            {
                "id": rid,
                "kind": "ticket",
                "customer_message": base_message(rng),
                "created_at": f"2025-01-01T00:{i % 60:02d}:00Z",
            }
        )
        family[rid] = rid
    bases = rng.sample(range(len(records)), n_dups)
    for k, b in enumerate(bases):
        rid = f"D{k:06d}"
        msg, kinds = edit(rng, records[b]["customer_message"])
        records.append({"id": rid, "kind": "ticket", "customer_message": msg, "created_at": "2025-02-01T00:00:00Z"})
        family[rid], edits[rid] = records[b]["id"], kinds
    rng.shuffle(records)
    return records, family, edits


def measure(n: int, shingle: str) -> dict:
    from tuneloop.data.dedup import DedupConfig, find_duplicates

    records, family, edits = corpus(n)
    rss_before = _rss_kib()
    start = time.perf_counter()
    result = find_duplicates(records, DedupConfig(shingle=shingle))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    detected = {(d["duplicate_of"], d["id"]) for d in result.dropped}
    correct = sum(family[a] == family[b] for a, b in detected)
    planted = {(family[d], d) for d in edits}
    found_dup = {d for d in edits if any(family[a] == family[b] == family[d] for a, b in detected if d in (a, b))}
    by_edit: dict[str, list[int]] = {}
    for d, kinds in edits.items():
        for kind in kinds:
            by_edit.setdefault(kind, []).append(d in found_dup)
    return {
        "records": n,
        "shingle": shingle,
        "seconds": round(seconds, 2),
        "records_per_s": round(n / seconds),
        "peak_rss_mib": round(peak / 1024),
        "peak_rss_increase_mib": round((peak - rss_before) / 1024),
        "planted_pairs": len(planted),
        "detected_pairs": len(detected),
        "precision": round(correct / len(detected), 4) if detected else None,
        "recall": round(len(found_dup) / len(planted), 4),
        "recall_by_edit": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_edit.items())},
        "lsh_candidates": result.candidate_pairs,
    }


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--shingles", nargs="+", default=["char"], choices=["char", "word"])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child process: one measurement
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.sizes[0], args.shingles[0])))
        return
    for shingle in args.shingles:
        for n in args.sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", "--sizes", str(n), "--shingles", shingle],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            print(out.strip(), flush=True)


if __name__ == "__main__":
    main()

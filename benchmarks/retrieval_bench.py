"""The help-center index's recall, side by side: BM25 (bm25s, the index stage) against TF-IDF cosine.

    PATH=.venv/bin:$PATH python benchmarks/retrieval_bench.py          # after `dvc repro build`

Queries: the kb_qa questions of data/examples.jsonl (each made from one chunk's heading: that chunk is
the gold passage), asked as build writes them ("<article title>: how do I ...?") and with the article
title cut off (how a customer asks: no title to match). Corpus: the KB chunks of
data/prepared/records.jsonl, cut as build cuts them. For each retriever and query form: recall@1/3/5
and the mean query time. Prints a Markdown table; figures go to docs/retrieval.md with the machine.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from tuneloop.io import read_jsonl
    from tuneloop.retrieval import Index, kb_chunks, recall_at_k

    examples_file, records_file = ROOT / "data/examples.jsonl", ROOT / "data/prepared/records.jsonl"
    if not examples_file.exists() or not records_file.exists():
        print("skipped: run `dvc repro build` first (data/examples.jsonl, data/prepared/records.jsonl)")
        return 0
    chunks = kb_chunks(read_jsonl(records_file))
    qa = [e for e in read_jsonl(examples_file) if e["task"] == "kb_qa" and e.get("gold")]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(chunks)} chunks, {len(qa)} kb_qa questions",
        flush=True,
    )
    gold = [e["gold"] for e in qa]
    forms = {
        "as built (title: question)": [e["question"] for e in qa],
        "title cut off": [e["question"].split(": ", 1)[-1] for e in qa],
    }

    bm25 = Index.build(chunks)

    def bm25_search(q: str) -> list[str]:
        return [p.id for p in bm25.search(q, 5)]

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vec.fit_transform([f"{c['section']}\n{c['text']}" for c in chunks])

    def tfidf_search(q: str) -> list[str]:
        scores = linear_kernel(vec.transform([q]), matrix)[0]
        order = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))[:5]
        return [chunks[i]["id"] for i in order if scores[i] > 0]

    print()
    print("| retriever | questions | recall@1 | recall@3 | recall@5 | ms / query |")
    print("|---|---|---:|---:|---:|---:|")
    out = {}
    for name, search in (("BM25 (bm25s, k1 1.5, b 0.75)", bm25_search), ("TF-IDF cosine (sklearn)", tfidf_search)):
        for form, queries in forms.items():
            t0 = time.perf_counter()
            hits = [search(q) for q in queries]
            ms = (time.perf_counter() - t0) * 1000 / max(len(queries), 1)
            r = [recall_at_k(hits, gold, k) for k in (1, 3, 5)]
            out[f"{name} / {form}"] = r
            print(f"| {name} | {form} | {r[0]:.3f} | {r[1]:.3f} | {r[2]:.3f} | {ms:.2f} |")
    print()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The help-center index: BM25 (bm25s) over the knowledge-base chunks, built by the `index` stage.

    tuneloop index                       # data/prepared/records.jsonl -> data/index (tuneloop.data.index)
    index = Index.load("data/index"); index.search("my bulb will not pair", k=3)

The facts belong in retrieval at inference time, not in a 135M model's weights: `build` puts the top-k
passages into the prompts of the grounded tasks (retrieval.tasks: reply, kb_qa), lm-eval's hooks
retrieve for the frozen suite's questions with the same index, and the server retrieves for every
/v1/support request, so the model is trained, judged and served on the same passages.

Chunks are the knowledge base's records (kind `kb`: Markdown articles, HTML/PDF/DOCX documents) cut at
their headings exactly as `build` cuts them (synth.split_article). A chunk is indexed as its section
path and its text. Ties are broken by chunk order, so a query always gets the same passages.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tuneloop.io import read_jsonl
from tuneloop.prompts import Passage

log = logging.getLogger(__name__)

CHUNKS = "chunks.jsonl"
META = "index.json"
BM25_DIR = "bm25"


def kb_chunks(records: list[dict]) -> list[dict]:
    """The knowledge base's chunks, in record order (kind `kb` records, cut at their headings)."""
    from tuneloop.data.synth import split_article

    out = []
    for record in records:
        if record.get("kind") == "kb":
            out += split_article(record)
    return out


def _tokens(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, lower=True, stopwords="en", return_ids=False, show_progress=False)


class Index:
    def __init__(self, chunks: list[dict], retriever, params: dict[str, Any]):
        self.chunks, self.retriever, self.params = chunks, retriever, params

    @classmethod
    def build(cls, chunks: list[dict], k1: float = 1.5, b: float = 0.75) -> Index:
        import bm25s

        if not chunks:
            raise ValueError("the knowledge base has no chunks to index (no records of kind kb)")
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index(_tokens([f"{c['section']}\n{c['text']}" for c in chunks]), show_progress=False)
        return cls(chunks, retriever, {"k1": k1, "b": b, "method": "lucene", "stopwords": "en"})

    def save(self, out_dir: str | Path) -> dict[str, Any]:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(out_dir / BM25_DIR), show_progress=False)
        with (out_dir / CHUNKS).open("w", encoding="utf-8") as fh:
            for c in self.chunks:
                keep = {k: c[k] for k in ("id", "doc_id", "title", "section", "text")}
                fh.write(json.dumps(keep, ensure_ascii=False, sort_keys=True) + "\n")
        meta = {
            "chunks": len(self.chunks),
            "documents": len({c["doc_id"] for c in self.chunks}),
            "library": "bm25s",
            **self.params,
        }
        (out_dir / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return meta

    @classmethod
    def load(cls, index_dir: str | Path) -> Index:
        import bm25s

        index_dir = Path(index_dir)
        if not (index_dir / META).is_file():
            raise FileNotFoundError(f"{index_dir}: no help-center index here (run `dvc repro index`)")
        retriever = bm25s.BM25.load(str(index_dir / BM25_DIR), load_corpus=False, show_progress=False)
        meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
        return cls(list(read_jsonl(index_dir / CHUNKS)), retriever, meta)

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The k best chunks for a query (score > 0 only), best first, ties in chunk order."""
        import numpy as np

        tokens = [t for t in _tokens([query])[0] if t in self.retriever.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(self.retriever.get_scores(tokens), dtype=np.float64)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return [
            Passage(c["id"], c["title"], c["section"], c["text"], round(float(scores[i]), 4))
            for i in order
            if scores[i] > 0
            for c in [self.chunks[int(i)]]
        ]


def recall_at_k(hits: list[list[str]], gold: list[str], k: int) -> float | None:
    """Share of queries whose gold chunk id is among their first k passages."""
    if not gold:
        return None
    return round(sum(g in h[:k] for h, g in zip(hits, gold)) / len(gold), 4)


def load_or_empty(index_dir: str | Path) -> Index | None:
    """The index, or None where the KB had no chunks (its index.json says chunks: 0); a missing index is an
    error that says which stage makes it."""
    meta = Path(index_dir) / META
    if not meta.is_file():
        raise FileNotFoundError(
            f"{index_dir}: no help-center index (retrieval.tasks read their passages from it): "
            "run `tuneloop index` (dvc repro index), or set retrieval.enabled false"
        )
    if meta.is_file() and json.loads(meta.read_text(encoding="utf-8")).get("chunks", 0) == 0:
        return None
    return Index.load(index_dir)

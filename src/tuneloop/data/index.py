"""Stage `index`: the help-center index, BM25 over the knowledge base's chunks (tuneloop.retrieval).

    tuneloop index       # data/prepared/records.jsonl -> data/index, reports/data/index.json

An empty knowledge base writes an empty index (chunks: 0) and says so: grounded prompts then carry
"(none found)" instead of passages, and the build report counts them.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import read_jsonl
from tuneloop.retrieval import CHUNKS, META, Index, kb_chunks

log = logging.getLogger(__name__)


def run(
    params: dict[str, Any],
    records_file: str | Path = paths.RECORDS_FILE,
    out_dir: str | Path = paths.INDEX_DIR,
    report: str | Path = paths.DATA_REPORTS / "index.json",
) -> dict:
    """The `index` stage: index the prepared records' KB chunks; an empty KB writes an empty index."""
    config = params.get("retrieval") or {}
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    chunks = kb_chunks(list(read_jsonl(records_file)))
    if not chunks:
        out_dir.mkdir(parents=True)
        meta = {"chunks": 0, "documents": 0, "library": "bm25s", "note": "no knowledge-base records: nothing to index"}
        (out_dir / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (out_dir / CHUNKS).write_text("", encoding="utf-8")
        log.warning("index: the prepared records hold no knowledge-base chunk; grounded prompts get no passages")
    else:
        meta = Index.build(chunks, float(config.get("k1", 1.5)), float(config.get("b", 0.75))).save(out_dir)
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    Path(report).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return meta

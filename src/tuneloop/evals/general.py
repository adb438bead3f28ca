"""The forgetting check's input: a HellaSwag slice as a versioned local file, read offline.

    tuneloop data general-slice [--limit 200] [--seed 42]     # ONCE, online: data/general/hellaswag.jsonl
    dvc add data/general/hellaswag.jsonl && dvc push      # version it in the DVC remote, commit the .dvc file
    dvc pull data/general/hellaswag.jsonl.dvc             # every later runner: offline from then on

`evaluate` sets HF_DATASETS_OFFLINE before it scores anything, so lm-eval's own `hellaswag` task (which
downloads Rowan/hellaswag) could never load on a fresh runner. The slice is therefore fetched once (a
seeded sample of the validation split, the fields lm-eval's task reads) and scored by
evals/tasks/tuneloop_general_hellaswag.yaml from the local file, with lm-eval's preprocessing
(evals/tasks/utils.py `hellaswag_docs`). `available()` says why the check cannot run, naming these steps.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from tuneloop import paths
from tuneloop.io import write_text_atomic

DATA_FILE = paths.GENERAL_SLICE
SOURCE = ("Rowan/hellaswag", "validation")
FIELDS = ("ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings", "source_id", "split", "split_type", "label")


def available(cfg: dict[str, Any]) -> str | None:
    """None when the slice can be scored, else why not and what to do (the gate shows it)."""
    path = DATA_FILE  # where evals/tasks/tuneloop_general_hellaswag.yaml reads it (relative to the repo root)
    if path.exists():
        return None
    return (
        f"{path.as_posix()} is missing: fetch the slice once where the hub is reachable (`tuneloop data general-slice "
        f"--limit {cfg.get('limit', 200)}`), then `dvc add {path.as_posix()} && dvc push` and commit "
        f"{path.as_posix()}.dvc; runners then `dvc pull` it and score it offline"
    )


def fetch(out: str | Path = DATA_FILE, limit: int = 200, seed: int = 42, loader=None) -> Path:
    """Download HellaSwag's validation split (needs the hub), keep a seeded sample of `limit` items in
    their original order, write them as JSONL. `loader(name, split)` replaces datasets.load_dataset in tests."""
    if loader is None:
        from datasets import load_dataset

        loader = lambda name, split: load_dataset(name, split=split)  # noqa: E731
    rows = [dict(r) for r in loader(*SOURCE)]
    if not rows:
        raise ValueError(f"{SOURCE[0]} ({SOURCE[1]}) came back empty")
    missing = [f for f in ("activity_label", "ctx_a", "ctx_b", "endings", "label") if f not in rows[0]]
    if missing:
        raise ValueError(f"{SOURCE[0]} rows lack {missing}: not the HellaSwag format lm-eval's task reads")
    keep = sorted(random.Random(seed).sample(range(len(rows)), min(limit, len(rows))))
    text = "".join(json.dumps({k: rows[i][k] for k in FIELDS if k in rows[i]}, ensure_ascii=False) + "\n" for i in keep)
    return write_text_atomic(out, text)

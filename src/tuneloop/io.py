"""Small I/O helpers: atomic writes (an interrupted stage leaves no half file), JSONL, hashing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tuneloop import paths


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows]
    return write_text_atomic(path, "".join(line + "\n" for line in lines))


TIMING_FILE = paths.TIMING_FILE


def record_timing(stage: str, timing_file: str | Path = TIMING_FILE, **values: Any) -> Path:
    """Merge one stage's wall time (and context) into reports/timing.json.

    Timings live outside metrics/ on purpose: they differ on every run, and metrics files (and so
    dvc.lock) must be byte-identical when `dvc repro` replays a run with the same inputs and seed.
    """
    path = Path(timing_file)
    timings = read_json(path) if path.exists() else {}
    timings[stage] = values
    return write_json(path, timings)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_json(path: str | Path) -> Any:
    with Path(path).open(encoding="utf-8") as fh:
        return json.load(fh)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(root: str | Path) -> str:
    """One hash over a folder's relative paths and contents (stable across machines)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def save_png(fig: Any, path: str | Path) -> Path:
    """Save a matplotlib figure as a deterministic PNG, atomically, and close it.

    No "Software" stamp (it carries matplotlib's version): the same data gives the same bytes, so a
    chart that DVC tracks changes only when its data does. Written to a temp file, then renamed.
    """
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)
    return path

"""Where the train stage keeps its checkpoints, so that a re-run after a kill resumes instead of restarting.

    .cache/checkpoints/<key>/checkpoint-<step>/    (git-ignored; not a DVC output)

Not under models/: DVC deletes a stage's outputs before it runs the stage again, so checkpoints kept
there would be gone exactly when they are needed. The folder is named by a hash of everything the run
depends on (the stage's params, the training and validation splits, the base model, the train code,
the library versions and the device), so a re-run with other inputs never resumes a foreign run: it
starts its own folder. A finished run deletes its folder (the adapter is the output; the next run with
the same inputs is DVC's cache's business, not a resume). Folders untouched for STALE_DAYS are pruned.

A checkpoint counts only when complete: Trainer writes trainer_state.json last, so a kill in the middle
of a save leaves a folder without it (or with a truncated one), which is skipped and removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from tuneloop.io import sha256_file, sha256_tree

log = logging.getLogger(__name__)

ROOT = Path(".cache/checkpoints")
STALE_DAYS = 7
PREFIX = "checkpoint-"


def run_key(
    params: dict[str, Any], split_files: list[Path], base_dir: Path, code_files: list[Path], device: str
) -> tuple[str, dict]:
    """(short hash, what it hashes) of one training run's inputs."""
    import peft
    import torch
    import transformers
    import trl

    inputs = {
        "params": params,
        "splits": {p.name: sha256_file(p) if p.exists() else None for p in split_files},
        "base": sha256_tree(base_dir),
        "code": {p.name: sha256_file(p) for p in code_files if p.exists()},
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
            "peft": peft.__version__,
        },
        "device": device,
    }
    blob = json.dumps(inputs, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16], inputs


def run_dir(key: str, root: Path = ROOT) -> Path:
    return root / key


def complete(checkpoint: Path) -> bool:
    """A checkpoint folder whose trainer_state.json (written last) parses and names its own step."""
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    return int(state.get("global_step", -1)) == _step(checkpoint)


def _step(path: Path) -> int:
    try:
        return int(path.name.removeprefix(PREFIX))
    except ValueError:
        return -1


def last_checkpoint(directory: Path, clean: bool = True) -> Path | None:
    """The complete checkpoint with the highest step; incomplete ones (a kill during a save) are removed
    (by one process: `clean` is False on the other ranks of a distributed run)."""
    if not directory.is_dir():
        return None
    found = sorted(
        (p for p in directory.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and _step(p) >= 0), key=_step
    )
    good = [p for p in found if complete(p)]
    for p in found:
        if clean and p not in good:
            log.warning("train: removing incomplete checkpoint %s (interrupted while saving)", p)
            shutil.rmtree(p, ignore_errors=True)
    return good[-1] if good else None


def prepare(key: str, inputs: dict, root: Path = ROOT) -> Path:
    """The run's checkpoint folder (created, with run.json saying what it belongs to); prunes stale ones."""
    prune(root, keep=key)
    directory = run_dir(key, root)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(json.dumps(inputs, indent=2, sort_keys=True, default=str) + "\n")
    return directory


def prune(root: Path = ROOT, keep: str | None = None, max_age_days: float = STALE_DAYS) -> list[Path]:
    """Remove run folders not modified for max_age_days (abandoned runs with other inputs)."""
    removed = []
    if not root.is_dir():
        return removed
    cutoff = time.time() - max_age_days * 86400
    for d in root.iterdir():
        if d.is_dir() and d.name != keep and _newest_mtime(d) < cutoff:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    if removed:
        log.info(
            "train: pruned %d stale checkpoint folder(s) older than %d days in %s", len(removed), max_age_days, root
        )
    return removed


def _newest_mtime(d: Path) -> float:
    times = [p.stat().st_mtime for p in d.rglob("*")]
    return max(times, default=d.stat().st_mtime)


def finish(directory: Path) -> None:
    """The run finished and its output is written: its checkpoints have done their job."""
    shutil.rmtree(directory, ignore_errors=True)
    parent = directory.parent
    if parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()

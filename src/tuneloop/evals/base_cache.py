"""Base-model scores cached by (base hash, suite hash, eval config hash): an unchanged base is scored once.

    key, inputs = cache_key(params, base_dir, tasks, task_dir, test_file)
    hit = load(key)                        # {"scores", "samples", "seconds"} or None
    save(key, inputs, scores, samples, seconds)

A pull request changes the adapter, not the base, yet `evaluate` scored the base again every time (about
90 of the 283 s of a three-model evaluate on 2 cores). The key covers everything the base's scores depend
on: the base folder's files (sha256 of the tree), the suite (every file under the task folder and the
frozen regression/probe files, plus the test split the task evals read), the eval config (the planned
tasks with their limits and generation lengths, batch size, chat template, seed, system prompt, labels,
out-of-scope answer, canaries), the scoring code, the library versions and the device and precision.
Any change is a miss; a hit returns the stored scores and per-item samples, so metrics/eval.json is the
same byte for byte. The cache is a folder of JSON files, `.cache/tuneloop/eval` under the repo root
(git-ignored), or TUNELOOP_EVAL_CACHE; `off` disables it.

Trust: a cache entry is as trustworthy as whoever wrote it. The referee's checkout starts empty; to keep
the saving across pull requests, point TUNELOOP_EVAL_CACHE at a folder only the referee writes (never
one a job running the pull request's code can write, such as an actions/cache entry in the PR's scope).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from tuneloop import hardware, paths
from tuneloop.evals import suite
from tuneloop.io import sha256_file, sha256_tree, write_text_atomic

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(".cache/tuneloop/eval")
PACKAGE = Path(__file__).resolve().parents[1]
# the code that turns the base's answers into scores
CODE = (
    "evals/evaluate.py",
    "evals/metrics.py",
    "evals/probes.py",
    "evals/degeneration.py",
    "evals/grounding.py",
    "data/synth.py",
)
LIBRARIES = ("lm_eval", "transformers", "torch", "peft", "datasets", "vllm")


def cache_dir() -> Path | None:
    value = os.environ.get("TUNELOOP_EVAL_CACHE", "")
    if value.lower() in ("off", "0", "false", "none"):
        return None
    return Path(value) if value else DEFAULT_DIR


def _version(name: str) -> str | None:
    try:
        return metadata.version(name.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return None


def cache_key(
    params: dict[str, Any], base_dir: Path, tasks: dict[str, dict], task_dir: Path, test_file: Path
) -> tuple[str, dict]:
    """(sha256 key, the inputs it was made from) for the base's scores on these tasks."""
    ev, data = params["eval"], params["data"]
    suite_files = {
        p.as_posix(): sha256_file(p)
        for p in sorted(Path(task_dir).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    suite_files |= suite.current_hashes()
    for held_out in (Path(test_file), paths.SEALED_SPLIT):  # the sealed set: in the referee's workspace only
        if held_out.exists():
            suite_files[held_out.as_posix()] = sha256_file(held_out)
    hw = hardware.detect()
    inputs = {
        "base": sha256_tree(base_dir),
        "suite": hashlib.sha256(json.dumps(suite_files, sort_keys=True).encode()).hexdigest(),
        "eval_config": {
            "tasks": tasks,
            "batch_size": ev["batch_size"],
            "backend": ev.get("backend"),
            "apply_chat_template": ev["apply_chat_template"],
            "seed": params["seed"],
            "canaries": ev.get("canaries") or [],
            "system_prompt": data["system_prompt"],
            "labels": data["labels"],
            "max_listed_labels": data.get("max_listed_labels"),
            "out_of_scope_label": data.get("out_of_scope_label"),
        },
        "code": {c: sha256_file(PACKAGE / c) for c in CODE} | {"data/pii": sha256_tree(PACKAGE / "data" / "pii")},
        "libraries": {lib: _version(lib) for lib in LIBRARIES},
        "device": [hw.device, hw.precision],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest(), inputs


def load(key: str, folder: Path | None = None) -> dict | None:
    folder = folder if folder is not None else cache_dir()
    path = folder / f"{key}.json" if folder is not None else None
    if path is None or not path.exists():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError) as exc:
        log.warning("evaluate: base-score cache entry %s unreadable (%s): scoring the base again", path, exc)
        return None
    if entry.get("key") != key or not {"scores", "samples", "seconds"} <= set(entry):
        log.warning("evaluate: base-score cache entry %s does not match its key: scoring the base again", path)
        return None
    return entry


def save(
    key: str, inputs: dict, scores: dict, samples: list[dict], seconds: dict, folder: Path | None = None
) -> Path | None:
    folder = folder if folder is not None else cache_dir()
    if folder is None:
        return None
    entry = {"key": key, "inputs": inputs, "scores": scores, "samples": samples, "seconds": seconds}
    return write_text_atomic(folder / f"{key}.json", json.dumps(entry, sort_keys=True) + "\n")

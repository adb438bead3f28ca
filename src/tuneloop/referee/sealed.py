"""The sealed holdout in the referee: check the set it was given is the versioned one, then build its items.

sealed.dvc (at the root of the base commit) versions data/sealed in its own DVC remote, whose key only the
referee's environment holds (docs/sealed.md). The referee is handed the pulled folder (`--sealed DIR`):
  - sealed.dvc exists and no folder, or a folder whose DVC md5 is not sealed.dvc's: the check fails (closed);
  - no sealed.dvc: the check is skipped, said so in the comment (this repository has not sealed a holdout);
  - otherwise the folder is read by the base's own `prepare` and `build` (same redaction, cleaning and prompt as
    the company's data), in a scratch copy laid out like the repository with the folder as data/raw, and every
    classify item becomes data/splits/sealed.jsonl of the workspace: the tuneloop_sealed_classify task, gated
    by absolute floors in conf/gate, and a set the contamination guard checks the PR's split against.
Nothing of the sealed set leaves the workspace but its scores and counts (its samples stay behind).
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from tuneloop import paths
from tuneloop.dvc_hash import dir_md5
from tuneloop.io import read_jsonl, write_jsonl
from tuneloop.params import write_params

BUILD_STAGES = ("prepare", "index", "build")  # index: build grounds its prompts in the help-center index


class SealedError(RuntimeError):
    """The sealed set cannot be scored as versioned: the reason becomes a failed referee check."""


def declared(repo: Path) -> dict | None:
    """sealed.dvc's output ({"md5", "path", "remote", ...}) or None when the repository seals nothing."""
    dvc_file = repo / paths.SEALED_DVC
    if not dvc_file.exists():
        return None
    outs = (yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}).get("outs") or []
    if len(outs) != 1 or not str(outs[0].get("md5", "")).endswith(".dir"):
        raise SealedError(f"{dvc_file}: expected one folder output (a `dvc add data/sealed --file sealed.dvc`)")
    return outs[0]


def verify(repo: Path, given: Path | None) -> tuple[dict | None, str | None]:
    """(sealed.dvc's output, problem): the folder given must be exactly the one sealed.dvc versions."""
    try:
        out = declared(repo)
    except SealedError as exc:
        return None, str(exc)
    if out is None:
        return None, None
    if given is None or not given.is_dir() or given.is_symlink():
        return out, (
            f"sealed.dvc versions a sealed holdout ({out['md5']}) but the referee was not given it "
            "(`dvc pull sealed.dvc` with the sealed store's key, then --sealed data/sealed): the referee fails closed"
        )
    md5 = dir_md5(given)
    if md5 != out["md5"]:
        return out, f"the sealed set given ({md5}) is not the one sealed.dvc versions ({out['md5']})"
    return out, None


def sealed_params(params: dict[str, Any], raw: Path) -> dict[str, Any]:
    """The company's data config, read from the sealed copy: only the sources present there, classify only,
    no policy examples (they are training material, not held-out data)."""
    p = copy.deepcopy(params)
    data = p["data"]

    def present(path: str) -> bool:
        return (raw.parent.parent / path).exists()

    data["tickets"] = [t for t in data.get("tickets") or [] if present(str(t))]
    data["sources"] = [s for s in data.get("sources") or [] if isinstance(s, dict) and present(str(s.get("path")))]
    if data.get("kb_dir") and not present(str(data["kb_dir"])):
        data["kb_dir"] = None
    data["tasks"] = ["classify"]
    data["safety"] = False
    return p


def build_items(ws: Path, params: dict[str, Any], sealed_dir: Path, base_dir: Path, run_stages) -> dict:
    """Build the sealed set's classify items into ws/data/splits/sealed.jsonl with this checkout's stages.
    Returns counts for the verdict; raises SealedError when the set makes no scorable item."""
    build = ws / "sealed-build"
    shutil.rmtree(build, ignore_errors=True)
    raw = build / paths.RAW_DIR
    raw.parent.mkdir(parents=True)
    shutil.copytree(sealed_dir, raw, symlinks=False)
    (build / "models").mkdir()
    os.symlink(base_dir.resolve(), build / paths.BASE_DIR)
    sp = sealed_params(params, raw)
    if not sp["data"]["tickets"] and not sp["data"]["sources"]:
        raise SealedError("the sealed set holds none of conf/data's record files (tickets or sources)")
    write_params(sp, build / "params.yaml")
    try:
        run_stages(build, BUILD_STAGES, quiet=True)
    except RuntimeError as exc:
        raise SealedError(f"the base's prepare/build could not read the sealed set: {exc}") from exc
    items = [e for e in read_jsonl(build / paths.EXAMPLES_FILE) if e["task"] == "classify"]
    if not items:
        raise SealedError("the sealed set makes no classify item (its records have no label of conf/data)")
    write_jsonl(ws / paths.SEALED_SPLIT, items)
    counts = {"records_kept": sum(1 for _ in read_jsonl(build / paths.RECORDS_FILE)), "classify_items": len(items)}
    shutil.rmtree(build)
    return counts

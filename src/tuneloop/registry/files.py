"""An adapter version's files: DVC's md5 of a folder, and a version materialised into a local store.

A registered version names its adapter by the md5 DVC recorded in dvc.lock (`<md5>.dir`). The server
needs the files: `materialize` returns `<store>/<md5>/` and fills it, in this order, from
  1. the store itself (already there),
  2. the repo's DVC cache (`.dvc/cache/files/md5/<ab>/<cdef...>.dir` lists the files by md5; no network),
  3. `dvc get <repo> models/adapter --rev <tag>` (the repo's DVC remote).
Every copy is checked: the folder's DVC md5 must equal the version's, or nothing is kept.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tuneloop.dvc_hash import dir_md5 as dvc_dir_md5


def _dvc() -> str:
    """The dvc beside this interpreter (a venv's bin/, not always on PATH), else the one on PATH."""
    beside = Path(sys.executable).parent / "dvc"
    return str(beside) if beside.exists() else "dvc"


def _cache_dir(repo: Path) -> Path:
    done = subprocess.run([_dvc(), "cache", "dir"], cwd=repo, capture_output=True, text=True)
    path = Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else repo / ".dvc" / "cache"
    return path / "files" / "md5" if (path / "files" / "md5").exists() else path


def _from_cache(repo: Path, md5: str, out: Path) -> bool:
    cache = _cache_dir(repo)
    bare = md5.removesuffix(".dir")
    manifest = cache / bare[:2] / (bare[2:] + ".dir")
    if not manifest.exists():
        return False
    for entry in json.loads(manifest.read_text(encoding="utf-8")):
        src = cache / entry["md5"][:2] / entry["md5"][2:]
        if not src.exists():
            return False
        (out / entry["relpath"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / entry["relpath"])
    return True


def _from_remote(repo: Path, rev: str, path: str, out: Path) -> bool:
    done = subprocess.run(
        [_dvc(), "get", str(repo), path, "--rev", rev, "-o", str(out / "x")], capture_output=True, text=True
    )
    if done.returncode:
        return False
    for item in (out / "x").iterdir():
        item.rename(out / item.name)
    (out / "x").rmdir()
    return True


def materialize(
    md5: str, store: str | Path, repo: str | Path = ".", rev: str | None = None, path: str = "models/adapter"
) -> Path:
    """The folder holding the adapter whose DVC md5 is `md5` (see the module docstring for where from)."""
    store, repo = Path(store), Path(repo).resolve()
    want = md5 if md5.endswith(".dir") else md5 + ".dir"
    final = store / want.removesuffix(".dir")
    if final.exists():
        return final
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store, prefix=".partial-") as tmp:
        out = Path(tmp) / "adapter"
        out.mkdir()
        ok = _from_cache(repo, want, out) or (rev is not None and _from_remote(repo, rev, path, out))
        if not ok:
            raise FileNotFoundError(
                f"adapter md5 {want} is neither in {store}, nor in the DVC cache of {repo}, "
                f"nor fetchable with `dvc get {repo} {path} --rev {rev}`; "
                f"run `dvc pull {path}` at that version first"
            )
        got = dvc_dir_md5(out)
        if got != want:
            raise ValueError(f"adapter files for {want} hash to {got}: refusing a mismatched copy")
        out.rename(final)
    return final

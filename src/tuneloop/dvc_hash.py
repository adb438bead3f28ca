"""DVC 3's content addresses, computed without DVC: a file's md5 and a folder's `<md5>.dir`.

    from tuneloop.dvc_hash import file_md5, dir_md5
    dir_md5("models/adapter")   # == the md5 dvc.lock records for the folder

The one copy of the folder hash: the referee (what it judged), promote.yml (what it may tag champion),
the registry (what it materialises) and the server (what it loads) must all agree on it. Standard library
only: promote.yml runs `python -m tuneloop.referee.champion` with a bare interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def file_md5(path: str | Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - DVC's content address, not a security hash
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dir_md5(root: str | Path) -> str:
    """md5 of the sorted JSON list of {md5, relpath} of the folder's regular files, plus `.dir`.

    Symbolic links are never followed nor hashed (the referee refuses them anyway): a link to /dev/zero
    must not hang the hash, and a link cannot make two folders with different bytes hash the same."""
    root = Path(root)
    files = [Path(d, f) for d, _, names in os.walk(root, followlinks=False) for f in names]
    entries = sorted(
        (
            {"md5": file_md5(p), "relpath": p.relative_to(root).as_posix()}
            for p in files
            if p.is_file() and not p.is_symlink()
        ),
        key=lambda e: e["relpath"],
    )
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir"  # noqa: S324

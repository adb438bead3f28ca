#!/usr/bin/env python3
"""After the merge: which adapter may be named champion. Standard library only (promote.yml runs it with a bare Python: PYTHONPATH=src).

    PYTHONPATH=src python -m tuneloop.referee.champion verify --verdict V/verdict.json --adapter V/adapter --merge-sha SHA
        # -> md5=<the md5 the referee passed>; exit 1 (with the reason) when it may not be promoted
    PYTHONPATH=src python -m tuneloop.referee.champion in-remote --dvc-file promote/adapter.dvc   # exit 1 unless pushed
    PYTHONPATH=src python -m tuneloop.referee.champion champion   # md5 of the newest adapter@v<N>.0.0 tag (for the referee job)

Promotion tags exactly the md5 the referee passed, and only when (1) the verdict is for this merge
commit (the merge queue's commit that became main: `judged_sha`), (2) it passed, (3) the adapter
handed over hashes to that md5 (DVC's folder md5), and (4) that md5 is in the DVC remote. A forged
dvc.lock or committed metrics play no part: neither is read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tuneloop.dvc_hash import dir_md5

MD5 = re.compile(r"[0-9a-f]{32}\.dir")
TAG = re.compile(r"adapter@v(\d+)\.0\.0")  # GTO registration tags (tuneloop.ci.version_tag)
SUBJECT_MD5 = re.compile(r"md5 ([0-9a-f]{32}\.dir)")


class PromotionRefused(RuntimeError):
    pass


def promotable_md5(verdict: dict, merge_sha: str, adapter_md5: str, in_remote: Callable[[str], bool]) -> str:
    """The md5 to tag, or PromotionRefused naming the first condition that does not hold."""
    md5 = verdict.get("candidate_md5")
    if verdict.get("judged_sha") != merge_sha:
        raise PromotionRefused(
            f"the verdict judged {verdict.get('judged_sha')!r}, not the merge commit {merge_sha!r} "
            "(merge through the merge queue so the commit on main is the one judged)"
        )
    if verdict.get("passed") is not True:
        raise PromotionRefused(f"the referee's verdict for {merge_sha} did not pass")
    if not isinstance(md5, str) or not MD5.fullmatch(md5):
        raise PromotionRefused(f"the verdict names no adapter md5 (got {md5!r})")
    if adapter_md5 != md5:
        raise PromotionRefused(f"the adapter handed over hashes to {adapter_md5}, the verdict passed {md5}")
    if not in_remote(md5):
        raise PromotionRefused(f"adapter {md5} is not in the DVC remote (push it first)")
    return md5


def dvc_file_text(md5: str, path: str) -> str:
    """A .dvc file that names a folder by md5: `dvc pull`/`dvc status -c` on it address that object."""
    return f"outs:\n- md5: {md5}\n  path: {path}\n  hash: md5\n"


def remote_url(dvc: str = "dvc", cwd: str = ".") -> str:
    """The default DVC remote's URL; a local folder made absolute (DVC reads it relative to .dvc/)."""
    name = subprocess.run([dvc, "remote", "default"], capture_output=True, text=True, cwd=cwd).stdout.strip()
    url = subprocess.run([dvc, "config", f"remote.{name}.url"], capture_output=True, text=True, cwd=cwd).stdout.strip()
    if not name or not url:
        raise PromotionRefused("no default DVC remote configured")
    return url if "://" in url else str((Path(cwd) / ".dvc" / url).resolve())


def in_remote(dvc_file: str, dvc: str = "dvc", cwd: str = ".") -> bool:
    """True when every file of the .dvc file's object can be pulled from the default remote, into a
    throwaway repository with an empty cache (DVC's `verify` re-hashes what it downloads)."""
    import tempfile

    md5 = re.search(r"md5: ([0-9a-f]{32}(?:\.dir)?)", Path(cwd, dvc_file).read_text(encoding="utf-8"))
    if not md5:
        return False
    url = remote_url(dvc, cwd)
    with tempfile.TemporaryDirectory(prefix="tuneloop-remote-check-") as tmp:
        steps = [
            [dvc, "init", "-q", "--no-scm"],
            [dvc, "remote", "add", "-q", "-d", "check", url],
            [dvc, "remote", "modify", "check", "verify", "true"],
        ]
        if any(subprocess.run(cmd, cwd=tmp, capture_output=True).returncode for cmd in steps):
            return False
        Path(tmp, "x.dvc").write_text(dvc_file_text(md5.group(1), "x"), encoding="utf-8")
        return subprocess.run([dvc, "pull", "-q", "x.dvc"], cwd=tmp, capture_output=True).returncode == 0


def champion_md5(cwd: str = ".") -> tuple[str, str] | None:
    """(tag, md5) of the newest adapter@v<N>.0.0 tag whose subject names an md5; None before the first."""
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:strip=2) %(contents:subject)", "refs/tags/adapter@v*"],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    ).stdout
    best = None
    for line in out.splitlines():
        tag, _, subject = line.partition(" ")
        m, s = TAG.fullmatch(tag), SUBJECT_MD5.search(subject)
        if m and s and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), tag, s.group(1))
    return None if best is None else (best[1], best[2])


def _output(**values: str) -> None:
    print(" ".join(f"{k}={v}" for k, v in values.items()))
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in values.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check the verdict and the adapter; print md5=...")
    v.add_argument("--verdict", required=True)
    v.add_argument("--adapter", required=True)
    v.add_argument("--merge-sha", required=True)
    v.add_argument("--dvc-file", help="also require this .dvc file's object in the remote")
    r = sub.add_parser("in-remote", help="exit 1 unless the .dvc file's object is in the DVC remote")
    r.add_argument("--dvc-file", required=True)
    sub.add_parser("champion", help="print tag=... md5=... of the newest champion tag (none: empty)")
    args = ap.parse_args(argv)
    if args.cmd == "champion":
        found = champion_md5()
        _output(tag=found[0] if found else "", md5=found[1] if found else "")
        return 0
    if args.cmd == "in-remote":
        ok = in_remote(args.dvc_file)
        print(f"promotion: {args.dvc_file}: {'in the remote' if ok else 'NOT in the remote'}")
        return 0 if ok else 1
    try:
        verdict = json.loads(Path(args.verdict).read_text(encoding="utf-8"))
        md5 = promotable_md5(
            verdict,
            args.merge_sha,
            dir_md5(Path(args.adapter)),
            (lambda _: in_remote(args.dvc_file)) if args.dvc_file else (lambda _: True),
        )
    except (OSError, ValueError, PromotionRefused) as exc:
        print(f"promotion: refused: {exc}", file=sys.stderr)
        return 1
    _output(md5=md5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

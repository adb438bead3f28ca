#!/usr/bin/env python3
"""Name the adapter that main's dvc.lock records as the next champion tag (promote.yml runs this).

    python src/tuneloop/ci/promote.py --md5 <md5> --message-file /tmp/msg   # -> tag=adapter-v3 md5=... create=true
    python src/tuneloop/ci/promote.py --lock dvc.lock --message-file /tmp/msg   # md5 from a dvc.lock (by hand)

promote.yml passes --md5: the md5 the referee passed for the merge commit (src/tuneloop/referee/promotion.py).

Tags are `adapter-v<N>` (N = highest existing + 1) and annotated: the subject line carries the DVC md5
of models/adapter, so `dvc get <repo-url> models/adapter --rev adapter-v<N>` fetches exactly that
adapter. An md5 that a tag already names is not tagged again: a merge that left the adapter alone
promotes nothing. Needs PyYAML and git (to list the tags).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import yaml

ADAPTER = "models/adapter"
TAG = re.compile(r"adapter-v(\d+)")


def adapter_out(lock: dict) -> tuple[str, str]:
    """(stage name, md5) of models/adapter in a parsed dvc.lock."""
    for name, stage in (lock.get("stages") or {}).items():
        for out in stage.get("outs") or []:
            if out.get("path") == ADAPTER and out.get("md5"):
                return name, out["md5"]
    raise SystemExit(f"promote: dvc.lock records no {ADAPTER} output (has the train stage run?)")


def existing_tags() -> dict[str, str]:
    """{tag: subject line} for every adapter-v* tag (checkout with fetch-depth 0 brings them)."""
    out = subprocess.run(["git", "for-each-ref", "--format=%(refname:strip=2) %(contents:subject)",
                          "refs/tags/adapter-v*"], capture_output=True, text=True, check=True).stdout
    return dict((line.split(" ", 1) + [""])[:2] for line in out.splitlines() if line.strip())


def next_tag(tags: dict[str, str], md5: str) -> str | None:
    if any(md5 in subject for subject in tags.values()):
        return None
    numbers = [int(m.group(1)) for t in tags if (m := TAG.fullmatch(t))]
    return f"adapter-v{max(numbers, default=0) + 1}"


def message(md5: str, stage: str, tag: str, commit: str) -> str:
    if stage == "referee":  # addressed by md5: dvc.lock at the commit may name another build
        return (f"Champion adapter: {ADAPTER} md5 {md5}\n\n"
                f"Promoted by promote.yml from commit {commit} (the md5 the referee passed).\n"
                f"Fetch it: printf 'outs:\\n- md5: {md5}\\n  path: champion\\n  hash: md5\\n' > champion.dvc"
                " && dvc pull champion.dvc\n")
    return (f"Champion adapter: {ADAPTER} md5 {md5}\n\n"
            f"Promoted by promote.yml from commit {commit} (dvc.lock, stage `{stage}`).\n"
            f"Fetch it: dvc get <repo-url> {ADAPTER} --rev {tag}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lock", default="dvc.lock")
    ap.add_argument("--md5", help="the adapter md5 to name (promote.yml: the referee's); default: from --lock")
    ap.add_argument("--message-file", required=True, help="where to write the annotated tag's message")
    args = ap.parse_args()
    if args.md5:
        stage, md5 = "referee", args.md5
    else:
        stage, md5 = adapter_out(yaml.safe_load(Path(args.lock).read_text(encoding="utf-8")))
    tag = next_tag(existing_tags(), md5)
    if tag:
        Path(args.message_file).write_text(message(md5, stage, tag, os.environ.get("GITHUB_SHA", "HEAD")),
                                           encoding="utf-8")
    result = {"tag": tag or "", "md5": md5, "create": "true" if tag else "false"}
    print(f"promote: {ADAPTER} md5 {md5}: " + (f"new champion {tag}" if tag else "already tagged, nothing to do"))
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in result.items())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

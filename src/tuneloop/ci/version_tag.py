#!/usr/bin/env python3
"""Register the adapter that main's dvc.lock records as the next registry version (promote.yml runs this).

    PYTHONPATH=src python -m tuneloop.ci.version_tag --md5 <md5> --message-file /tmp/msg --verdict v.json
    PYTHONPATH=src python -m tuneloop.ci.version_tag --lock dvc.lock --message-file /tmp/msg   # md5 from dvc.lock (by hand)
    # -> tag=adapter@v3.0.0 md5=... create=true

promote.yml passes --md5: the md5 the referee passed for the merge commit (src/tuneloop/referee/champion.py).

Tags are GTO registration tags `adapter@v<N>.0.0` (N = highest existing + 1; docs/registry.md), annotated
in the registry's format (tuneloop.registry.tag_message.tag_message): the adapter md5, its stage, the
commit, and the referee's verdict when `--verdict` names one, so `dvc get <repo-url> models/adapter
--rev adapter@v<N>.0.0` fetches exactly that adapter and `tuneloop registry promote` can check the verdict.
An md5 that a tag already names is not tagged again: a merge that left the adapter alone registers
nothing. Needs PyYAML and git (to list the tags); stage changes are `tuneloop registry promote`, not this.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import yaml

from tuneloop import paths

ADAPTER = paths.ADAPTER_DIR.as_posix()
TAG = re.compile(r"adapter@v(\d+)\.0\.0")


def adapter_out(lock: dict) -> tuple[str, str]:
    """(stage name, md5) of models/adapter in a parsed dvc.lock."""
    for name, stage in (lock.get("stages") or {}).items():
        for out in stage.get("outs") or []:
            if out.get("path") == ADAPTER and out.get("md5"):
                return name, out["md5"]
    raise SystemExit(f"promote: dvc.lock records no {ADAPTER} output (has the train stage run?)")


def existing_tags() -> dict[str, str]:
    """{tag: subject line} for every adapter@v* tag (checkout with fetch-depth 0 brings them)."""
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:strip=2) %(contents:subject)", "refs/tags/adapter@v*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict((line.split(" ", 1) + [""])[:2] for line in out.splitlines() if line.strip())


def next_tag(tags: dict[str, str], md5: str) -> str | None:
    if any(md5 in subject for subject in tags.values()):
        return None
    numbers = [int(m.group(1)) for t in tags if (m := TAG.fullmatch(t))]
    return f"adapter@v{max(numbers, default=0) + 1}.0.0"


def message(md5: str, stage: str, tag: str, commit: str, verdict: dict | None = None) -> str:
    from tuneloop.registry.tag_message import tag_message

    # addressed by md5 when the referee named it: dvc.lock at the commit may name another build
    fetch = (
        f"printf 'outs:\\n- md5: {md5}\\n  path: champion\\n  hash: md5\\n' > champion.dvc && dvc pull champion.dvc"
        if stage == "referee"
        else f"dvc get <repo-url> {ADAPTER} --rev {tag}"
    )
    info = {"adapter_md5": md5, "stage": stage, "commit": commit, "registered_by": "promote.yml", "fetch": fetch}
    return tag_message(info, verdict)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lock", default="dvc.lock")
    ap.add_argument("--md5", help="the adapter md5 to name (promote.yml: the referee's); default: from --lock")
    ap.add_argument("--message-file", required=True, help="where to write the annotated tag's message")
    ap.add_argument("--verdict", help="the referee's verdict JSON for this adapter (embedded in the tag)")
    args = ap.parse_args()
    if args.md5:
        stage, md5 = "referee", args.md5
    else:
        stage, md5 = adapter_out(yaml.safe_load(Path(args.lock).read_text(encoding="utf-8")))
    tag = next_tag(existing_tags(), md5)
    verdict = None
    if args.verdict and Path(args.verdict).exists():
        from tuneloop.registry.tag_message import parse

        verdict = parse(Path(args.verdict).read_text(encoding="utf-8"), args.verdict)
    if tag:
        Path(args.message_file).write_text(
            message(md5, stage, tag, os.environ.get("GITHUB_SHA", "HEAD"), verdict), encoding="utf-8"
        )
    result = {"tag": tag or "", "md5": md5, "create": "true" if tag else "false"}
    print(f"promote: {ADAPTER} md5 {md5}: " + (f"registered {tag}" if tag else "already tagged, nothing to do"))
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in result.items())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

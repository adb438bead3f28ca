"""The referee's verdict as the registry reads it: the only key to a stage change.

The referee (the PR workflow's base-branch job) writes a JSON verdict:
    {"passed": bool, "candidate_md5": "<DVC md5 of models/adapter>", "base_sha": "...", "rules": [...],
     "summary": {...}}
`tuneloop registry register --verdict FILE` embeds it, unchanged, in the GTO registration tag's annotation
(below a `--- referee verdict ---` line), so the evidence travels with the version, is immutable and
is what a reviewer sees in `git show adapter@v3.0.0`. A stage change is refused unless that embedded
verdict passed *and* names this version's adapter md5.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "--- referee verdict ---"
INFO = "--- version ---"


class VerdictError(ValueError):
    """A verdict that is missing, malformed, failed, or about another adapter."""


def parse(text: str, source: str = "verdict") -> dict[str, Any]:
    try:
        verdict = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerdictError(f"{source}: not JSON ({exc})") from exc
    if (
        not isinstance(verdict, dict)
        or not isinstance(verdict.get("passed"), bool)
        or not isinstance(verdict.get("candidate_md5"), str)
    ):
        raise VerdictError(f"{source}: a verdict needs a boolean `passed` and a string `candidate_md5`")
    return verdict


def require_pass(verdict: dict[str, Any] | None, md5: str, version: str) -> dict[str, Any]:
    """The verdict if it passed this exact adapter; else a VerdictError saying why not."""
    if verdict is None:
        raise VerdictError(
            f"{version}: no referee verdict in its registration tag; it never passed the "
            f"referee, so it cannot change stage (register it with --verdict FILE)"
        )
    if verdict["candidate_md5"] != md5:
        raise VerdictError(
            f"{version}: the embedded verdict judged adapter md5 {verdict['candidate_md5']}, not this version's {md5}"
        )
    if not verdict["passed"]:
        failed = [
            r.get("name", r) if isinstance(r, dict) else r
            for r in verdict.get("rules") or []
            if not (isinstance(r, dict) and r.get("passed", True))
        ]
        raise VerdictError(f"{version}: the referee failed this adapter" + (f" ({failed})" if failed else ""))
    return verdict


def tag_message(info: dict[str, Any], verdict: dict[str, Any] | None) -> str:
    """The registration tag's annotation: a subject, the version's facts, then the verdict verbatim."""
    subject = f"adapter md5 {info['adapter_md5']}: referee " + (
        "passed" if verdict and verdict["passed"] else "failed" if verdict else "verdict missing"
    )
    text = f"{subject}\n\n{INFO}\n{json.dumps(info, indent=1, sort_keys=True)}\n"
    if verdict is not None:
        text += f"{MARKER}\n{json.dumps(verdict, indent=1, sort_keys=True)}\n"
    return text


def from_message(message: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(version facts, verdict or None) from a registration tag's annotation."""
    info: dict[str, Any] = {}
    verdict = None
    body = message.split(INFO, 1)[1] if INFO in message else ""
    info_text, _, verdict_text = body.partition(MARKER)
    if info_text.strip():
        try:
            info = json.loads(info_text)
        except json.JSONDecodeError:
            info = {}
    if verdict_text.strip():
        try:
            verdict = parse(verdict_text, "embedded verdict")
        except VerdictError:
            verdict = None
    return info, verdict

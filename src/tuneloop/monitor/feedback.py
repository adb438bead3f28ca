"""Production feedback: the live quality signals, and training candidates a person reviews.

    tuneloop monitor feedback [--log reports/serve/requests.jsonl] [--out data/feedback/candidates.jsonl]

The server logs feedback (POST /v1/feedback: thumbs up/down, the agent's edited text, an escalation) as
`{"event": "feedback", "request_id": ...}` lines of its redacted request log. Per answered request the
last value of each kind counts (a customer may change their vote).

Signals: thumbs-down rate (downs among rated answers), edit rate and escalation rate (among answered
requests). Candidates: an answer an agent edited (learn the edit) or a customer liked (learn the answer),
with `approved: null`. Nothing trains until a reviewer sets `approved: true` (and may fix `reply` or set
`category`): the `feedback_jsonl` source of `prepare` reads the file (docs/loop.md). Re-collecting keeps
the reviews already made, matched by id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuneloop.io import read_jsonl, write_jsonl
from tuneloop.monitor.sources import read_log, split_log, strip_prompt

REVIEW_FIELDS = ("reply", "category", "approved", "reviewer", "note")


def merged(feedback: list[dict]) -> dict[str, dict[str, Any]]:
    """request_id -> its feedback, the last value of each kind winning (lines in log order)."""
    out: dict[str, dict[str, Any]] = {}
    for f in feedback:
        rid = f.get("request_id")
        if not isinstance(rid, str):
            continue
        state = out.setdefault(rid, {})
        for key in ("rating", "edited", "escalated"):
            if f.get(key) is not None:
                state[key] = f[key]
        state["ts"] = f.get("ts")
    return out


def quality_signals(answered: list[dict], feedback: list[dict]) -> dict[str, Any]:
    ids = {r.get("request_id") for r in answered}
    fb = {rid: f for rid, f in merged(feedback).items() if rid in ids}
    rated = [f for f in fb.values() if f.get("rating") in ("up", "down")]
    downs = sum(f["rating"] == "down" for f in rated)
    edits = sum(bool(f.get("edited")) for f in fb.values())
    escalations = sum(f.get("escalated") is True for f in fb.values())
    n = len(answered)
    return {
        "answered": n,
        "rated": len(rated),
        "thumbs_down": downs,
        "edited": edits,
        "escalated": escalations,
        "orphan_feedback": len(merged(feedback)) - len(fb),  # feedback for a request not in this log
        "thumbs_down_rate": round(downs / len(rated), 4) if rated else None,
        "edit_rate": round(edits / n, 4) if n else None,
        "escalation_rate": round(escalations / n, 4) if n else None,
    }


def _iso(ts: Any) -> str | None:
    return (
        datetime.fromtimestamp(float(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(ts, (int, float))
        else None
    )


def candidates(rows: list[dict], labels: list[str]) -> list[dict]:
    """Reviewable candidates from a request log: agent edits and liked answers, newest last."""
    answered, feedback = split_log(rows)
    fb = merged(feedback)
    out = []
    for r in answered:
        f = fb.get(r.get("request_id"))
        if not f:
            continue
        edited, liked = (f.get("edited") or "").strip(), f.get("rating") == "up"
        if not edited and not liked:
            continue  # a thumbs-down without an edit says what is wrong, not what is right
        user = next((m.get("content") or "" for m in reversed(r["messages"]) if m.get("role") == "user"), "")
        text, is_classify = strip_prompt(user, labels)
        answer = edited or (r.get("output") or "").strip()
        if not text or not answer:
            continue
        category = reply = None
        if is_classify:  # the answer is a label: learn it as classification
            from tuneloop.evals.metrics import parse_label

            i = parse_label(answer, labels)
            if i < 0:
                continue
            category = labels[i]
        else:
            reply = answer
        out.append(
            {
                "id": f"fb-{r['request_id']}",
                "request_id": r["request_id"],
                "created_at": _iso(r.get("ts")),
                "origin": "agent_edit" if edited else "thumbs_up",
                "customer_message": text,
                "model_output": r.get("output"),
                "reply": reply,
                "category": category,
                "escalated": f.get("escalated") is True,
                "approved": None,
                "reviewer": None,
                "note": "",
            }
        )
    return out


def collect(log: str | Path, out: str | Path, labels: list[str]) -> dict[str, Any]:
    """Write the candidates file, keeping every review already in it; return counts."""
    fresh = candidates(read_log(log), labels)
    out = Path(out)
    previous = {c["id"]: c for c in read_jsonl(out)} if out.exists() else {}
    new = sum(c["id"] not in previous for c in fresh)
    rows = []
    for c in fresh:
        old = previous.pop(c["id"], None)
        if old is not None and (old.get("approved") is not None or old.get("reviewer")):
            c = {**c, **{k: old.get(k) for k in REVIEW_FIELDS}}
        rows.append(c)
    rows += previous.values()  # reviewed candidates whose request left the log stay
    write_jsonl(out, rows)
    return {
        "candidates": len(rows),
        "new": new,
        "approved": sum(r.get("approved") is True for r in rows),
        "pending_review": sum(r.get("approved") is None for r in rows),
        "out": str(out),
    }

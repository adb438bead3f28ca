"""Call transcripts: WebVTT, SRT, and JSON with speaker labels; one file is one call (kind "transcript").

Speakers: WebVTT voice tags (`<v Dana>...`) or a "Name:" / "[Name]" prefix; a cue without one
continues the previous speaker. JSON: a list of segments, or {"segments" | "utterances": [...]} with
speaker (speaker / speaker_label / speaker_name), text (text / transcript), start (seconds), and
optionally call_id, created_at, category at the top. Consecutive lines of one speaker are merged.
Roles: a speaker is an agent if named in mapping.agent_speakers, or if the name says so ("agent",
"support", "rep", "advisor", "operator"); else the speaker who opens with "thank you for calling",
"how can I help" or "<company> support, <name> speaking". Everyone else is the customer. A call where no agent can be told apart is
quarantined (unknown_roles) rather than guessed. Cues with no speaker at all are dropped
(meta.dropped_turns).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

from tuneloop.data.importers.base import EXCERPT_CHARS, Item, bad, good, provenance, read_document_text
from tuneloop.data.importers.fields import has_words, iso_time, map_category, slug

TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
PREFIX = re.compile(r"^(?:\[([^\]]{1,40})\]|([A-Z][\w .'-]{0,38}?)\s*:)\s+")
AGENT_WORDS = re.compile(r"\b(agent|support|rep|representative|advisor|operator|specialist)\b", re.I)
GREETING = re.compile(
    r"thank(?:s| you) for calling|how (?:can|may) i help|"
    r"\b(?:support|service|help ?desk)[,.]? (?:this is )?[A-Z]?\w+ speaking",
    re.I,
)


def read_vtt(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        yield bad(0, "invalid_vtt: the file does not start with WEBVTT", text)
        return
    yield _transcript(path, mapping, "webvtt", _cues(text, vtt=True), text, None, {})


def read_srt(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    cues = _cues(text, vtt=False)
    if not cues:
        yield bad(0, "invalid_srt: no cue with a timing line (00:00:01,000 --> 00:00:04,000)", text)
        return
    yield _transcript(path, mapping, "srt", cues, text, None, {})


def read_json(path: Path, mapping: dict) -> Iterator[Item]:
    text, error = read_document_text(path, mapping)
    if error is not None:
        yield error
        return
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        yield bad(0, f"invalid_json: {getattr(exc, 'msg', 'nested too deeply')}", text)
        return
    top = value if isinstance(value, dict) else {}
    segments = (
        value
        if isinstance(value, list)
        else next((value[k] for k in ("segments", "utterances", "transcript") if isinstance(value.get(k), list)), None)
        if isinstance(value, dict)
        else None
    )
    if segments is None:
        yield bad(0, "bad_record: expected a list of segments or an object with segments/utterances", text)
        return
    cues = []
    for seg in segments:
        if not isinstance(seg, dict):
            continue
        speaker = next(
            (seg[k] for k in ("speaker", "speaker_label", "speaker_name") if seg.get(k) not in (None, "")), None
        )
        said = next((seg[k] for k in ("text", "transcript", "content") if isinstance(seg.get(k), str)), "")
        start = next((seg[k] for k in ("start", "start_time", "startTime") if seg.get(k) is not None), None)
        cues.append((str(speaker) if speaker is not None else None, said, _seconds(start), seg.get("role")))
    yield _transcript(path, mapping, "transcript_json", cues, text, top.get("call_id") or top.get("id"), top)


def _seconds(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
        try:
            parts = [float(p) for p in value.split(":")]
        except ValueError:
            return None
        total = 0.0
        for part in parts:
            total = total * 60 + part
        return round(total, 3)
    return None


def _cues(text: str, vtt: bool) -> list[tuple[str | None, str, float | None, None]]:
    cues, speaker = [], None
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines) if TIMING.match(line)), None)
        if timing is None:
            continue  # header, NOTE, STYLE, REGION blocks
        start = _seconds(TIMING.match(lines[timing]).group(1))
        said = " ".join(lines[timing + 1 :]).strip()
        voice = VOICE.match(said) if vtt else None
        prefix = PREFIX.match(said)
        if voice:
            speaker = voice.group(1).strip()
        elif prefix:
            speaker = (prefix.group(1) or prefix.group(2)).strip()
            said = said[prefix.end() :]
        said = html.unescape(re.sub(r"<[^>]*>", "", said)).strip()
        cues.append((speaker, said, start, None))
    return cues


def _roles(cues: list, mapping: dict) -> dict[str, str] | None:
    speakers = list(dict.fromkeys(s for s, _, _, _ in cues if s))
    agents = {str(n).lower() for n in mapping.get("agent_speakers") or []}
    customers = {str(n).lower() for n in mapping.get("customer_speakers") or []}
    roles = {}
    for s in speakers:
        given = next((r for sp, _, _, r in cues if sp == s and r in ("agent", "customer")), None)
        if given:
            roles[s] = given
        elif s.lower() in agents or (s.lower() not in customers and AGENT_WORDS.search(s)):
            roles[s] = "agent"
    if "agent" not in roles.values():
        openers = [
            s
            for s in speakers
            if s.lower() not in customers and GREETING.search(next(t for sp, t, _, _ in cues if sp == s))
        ]
        if not openers:
            return None
        roles[openers[0]] = "agent"
    return {s: roles.get(s, "customer") for s in speakers}


def _transcript(path: Path, mapping: dict, source_format: str, cues: list, raw: str, call_id, top: dict) -> Item:
    raw = raw[:EXCERPT_CHARS]
    if not any(has_words(t) for _, t, _, _ in cues):
        return bad(0, "no_text: the transcript has no spoken text", raw)
    roles = _roles(cues, mapping)
    if roles is None:
        return bad(
            0, "unknown_roles: cannot tell the agent from the customer; list agent names in mapping.agent_speakers", raw
        )
    turns, dropped = [], 0
    for speaker, said, start, _ in cues:
        if not speaker:
            dropped += 1
            continue
        if not said:
            continue
        if turns and turns[-1]["speaker"] == speaker:
            turns[-1]["text"] += " " + said
        else:
            turns.append({"role": roles[speaker], "speaker": speaker, "text": said, "start": start})
    name = str(call_id) if call_id not in (None, "") else path.stem
    category, _ = map_category(top, mapping, default_field="category")
    record_id = f"call:{slug(name, 'call')}"
    return good(
        "#1",
        {
            **provenance(path, "#1", source_format, record_id, "transcript"),
            "turns": turns,
            "category": category or mapping.get("category"),
            "priority": None,
            "created_at": iso_time(top.get("created_at") or top.get("started_at")),
            "channel": "phone",
            "meta": {"external_id": name, "dropped_turns": dropped},
        },
        raw,
    )

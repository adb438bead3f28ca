"""Span arithmetic: a detected span, overlap resolution, and mapping spans found in redacted text back
to the original text's offsets."""

from __future__ import annotations

from typing import NamedTuple

from tuneloop.data.pii.recognizers import TYPES

RANK = {t: i for i, t in enumerate(TYPES)}


class Span(NamedTuple):
    """One detected PII span: its type and [start, end) in the original text."""

    type: str
    start: int
    end: int


def resolve(candidates: list[Span]) -> list[Span]:
    """Longest first, ties to the more specific type; a partial overlap merges into the winner."""
    accepted: list[Span] = []
    for cand in sorted(set(candidates), key=lambda s: (-(s.end - s.start), RANK[s.type], s.start)):
        overlapping = [a for a in accepted if a.start < cand.end and cand.start < a.end]
        if not overlapping:
            accepted.append(cand)
        elif not any(a.start <= cand.start and cand.end <= a.end for a in overlapping):
            winner = overlapping[0]  # accepted earlier, so longer or more specific
            merged = Span(
                winner.type,
                min([cand.start] + [a.start for a in overlapping]),
                max([cand.end] + [a.end for a in overlapping]),
            )
            accepted = [a for a in accepted if a not in overlapping] + [merged]
    return sorted(accepted, key=lambda s: s.start)


def map_back(span: Span, segments: list[tuple[int, int, int, int, bool]]) -> Span:
    """A span found in redacted text, in the original text's offsets (a placeholder maps to all of
    the value it replaced)."""

    def orig(offset: int, is_end: bool) -> int:
        for out_start, out_end, orig_start, orig_end, placeholder in segments:
            if out_start <= offset < out_end or (is_end and offset == out_end):
                if not placeholder:
                    return orig_start + offset - out_start
                return orig_end if is_end else orig_start
        return segments[-1][3]

    return Span(span.type, orig(span.start, False), orig(span.end, True))

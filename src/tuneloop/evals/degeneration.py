"""Degeneration probe: is a generated answer a loop or gibberish? Measured over every answer of every model.

    reasons("BILLION-BILLION-BILLION-BILLION")   -> ["repeat_run"]
    table(samples) -> {"rate": {pre, champion, post, delta}, "n", "by_model", "examples"}   (metrics/eval.json)

An answer is split into sub-word tokens (lowercased runs of letters/digits: "account_account.com" is
account, account, com), then flagged, with the reason, when
  repeat_run   one token repeats 4+ times in a row, or an n-gram of 2-4 tokens 3+ times in a row
               ("account/account_account_account", "I can help. I can help. I can help.")
  low_distinct it has 12+ tokens and fewer than half of its token bigrams are distinct (distinct-2 < 0.5):
               a loop that is not contiguous
  gibberish    it has 5+ words and over 30% of them are non-words: 4+ letters without a vowel, one letter
               4+ times in a row, or a single "word" of 25+ letters/digits
  symbols      it has 10+ characters and under 30% of them are letters or digits ("!!!!!!!!!!!")
Short answers (a label, "yes") are never flagged for distinctness or gibberish. A smoke alarm, like the
probes: `reports/samples.jsonl` holds every answer; the gate's `degeneration.rate` rule reads the
candidate's share of flagged answers.
"""

from __future__ import annotations

import re
from collections import Counter

_TOKEN = re.compile(r"[a-z0-9]+")
_WORD = re.compile(r"\S+")
_VOWEL = re.compile(r"[aeiouy]")
_SAME_LETTER = re.compile(r"([a-z])\1{3,}")
_ALNUM = re.compile(r"[A-Za-z0-9]")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def longest_run(toks: list[str], n: int) -> int:
    """The most times one n-gram repeats back to back (1 = no repetition)."""
    best = 1 if len(toks) >= n else 0
    for start in range(n):  # every phase of the n-gram grid
        grams = [tuple(toks[i : i + n]) for i in range(start, len(toks) - n + 1, n)]
        run = 1
        for a, b in zip(grams, grams[1:]):
            run = run + 1 if a == b else 1
            best = max(best, run)
    return best


def distinct_n(toks: list[str], n: int = 2) -> float:
    grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 1.0


def _non_word(word: str) -> bool:
    letters = "".join(_TOKEN.findall(word.lower()))
    if not letters:
        return False  # punctuation, emoji: counted by `symbols`
    alpha = re.sub(r"[0-9]", "", letters)
    return (
        (len(alpha) >= 4 and alpha == letters and not _VOWEL.search(alpha))
        or bool(_SAME_LETTER.search(alpha))
        or len(letters) >= 25
    )


def gibberish_ratio(text: str) -> float:
    words = _WORD.findall(text)
    return sum(_non_word(w) for w in words) / len(words) if words else 0.0


def reasons(text: str) -> list[str]:
    """Why an answer is degenerate ([] when it is not)."""
    text = text or ""
    toks = tokens(text)
    found = []
    if longest_run(toks, 1) >= 4 or any(longest_run(toks, n) >= 3 for n in (2, 3, 4)):
        found.append("repeat_run")
    if len(toks) >= 12 and distinct_n(toks, 2) < 0.5:
        found.append("low_distinct")
    if len(_WORD.findall(text)) >= 5 and gibberish_ratio(text) > 0.3:
        found.append("gibberish")
    stripped = "".join(text.split())
    if len(stripped) >= 10 and len(_ALNUM.findall(stripped)) / len(stripped) < 0.3:
        found.append("symbols")
    return found


def table(samples: list[dict], examples: int = 10) -> dict:
    """Per model: flagged answers, their share, and the reasons; the candidate's flagged ids first."""
    by_model: dict[str, dict] = {}
    flagged: list[dict] = []
    for s in samples:
        entry = by_model.setdefault(s["model"], {"answers": 0, "degenerate": 0, "reasons": Counter()})
        entry["answers"] += 1
        why = reasons(s.get("output") or "")
        if why:
            entry["degenerate"] += 1
            entry["reasons"].update(why)
            if s["model"] == "candidate":
                flagged.append(
                    {
                        "task": s["task"],
                        "id": s["id"],
                        "reasons": why,
                        "output": " ".join(str(s.get("output") or "").split())[:120],
                    }
                )
    rates = {m: round(e["degenerate"] / e["answers"], 6) if e["answers"] else None for m, e in by_model.items()}
    pre, post = rates.get("base"), rates.get("candidate")
    return {
        "rate": {
            "pre": pre,
            "champion": rates.get("champion"),
            "post": post,
            "delta": round(post - pre, 6) if pre is not None and post is not None else None,
        },
        "n": by_model.get("candidate", {}).get("answers", 0),
        "by_model": {
            m: {"answers": e["answers"], "degenerate": e["degenerate"], "reasons": dict(sorted(e["reasons"].items()))}
            for m, e in by_model.items()
        },
        "examples": flagged[:examples],
    }

"""Degeneration probe: is a generated answer a loop or gibberish? Measured over every answer of every model.

    reasons("BILLION-BILLION-BILLION-BILLION")   -> ["repeat_run"]
    loops("Account Settings > Account Options > Account Settings > ...")   -> "Account Settings"
    table(samples) -> {"rate": {pre, champion, post, delta}, "n", "by_model", "examples"}   (metrics/eval.json)

An answer is split into sub-word tokens (lowercased runs of letters/digits: "account_account.com" is
account, account, com), then flagged, with the reason, when
  repeat_run   it loops (`loops`, which returns the repeated span):
               - one token repeats 4+ times in a row, or a phrase of 2-8 tokens 3+ times in a row
                 ("account/account_account_account", "I can help. I can help. I can help.")
               - a line of 3+ tokens appears twice, or a sentence of 3+ tokens three times
               - a menu path (items joined by >, ->, =>, → or ») comes back to an item it left one or two
                 steps before (A > A, A > B > A), names one item three times, or repeats a step
                 (A > B ... A > B): the served "Account Settings > Account Options > Account Settings >
                 ..." loop, which no back-to-back repeat catches
               A numbered list of steps, a parallel list ("check the plug, check the fuse, check the
               router") or a path that passes "Settings" twice further apart is no loop.
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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PATH_STEP = re.compile(r"\s*(?:-+>|=>|>|→|»)\s*")
MAX_PERIOD = 8  # words in the longest phrase whose back-to-back repetition is a loop


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


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


def _phrase_loop(toks: list[str]) -> str | None:
    """The first phrase of 1-8 tokens repeated back to back (one token 4+ times, a longer phrase 3+ times)."""
    for period in range(1, MAX_PERIOD + 1):
        times = 4 if period == 1 else 3
        run = 0  # positions i with toks[i] == toks[i + period], in a row
        for i in range(len(toks) - period):
            run = run + 1 if toks[i] == toks[i + period] else 0
            if run + period >= times * period:
                start = i - run + 1
                return " ".join(toks[start : start + period])
    return None


def _path_loop(sentence: str) -> str | None:
    """A menu path that comes back to an item it left one or two steps before (A > A, A > B > A), names one
    item three times, or repeats a step (A > B ... A > B)."""
    parts = _PATH_STEP.split(sentence)
    items = [(tuple(tokens(p)), p.strip()) for p in parts]
    items = [(key, text) for key, text in items if key]
    if len(items) < 3:
        return None
    keys = [key for key, _ in items]
    for i, (key, text) in enumerate(items):
        if keys.count(key) >= 3 or key in keys[max(0, i - 2) : i]:
            return text
    steps = list(zip(keys, keys[1:]))
    for i, step in enumerate(steps):
        if step in steps[i + 1 :]:
            return f"{items[i][1]} > {items[i + 1][1]}"
    return None


def loops(text: str) -> str | None:
    """The repeated span when the answer loops (see the module's doc, repeat_run), else None."""
    text = text or ""
    found = _phrase_loop(tokens(text))
    if found:
        return found
    lines = [line.strip() for line in text.splitlines() if len(tokens(line)) >= 3]
    sentences = [s.strip() for line in text.splitlines() for s in _SENTENCE_END.split(line) if s.strip()]
    for line in lines:
        if sum(tokens(other) == tokens(line) for other in lines) >= 2:
            return line
    for sentence in sentences:
        if len(tokens(sentence)) >= 3 and sum(tokens(other) == tokens(sentence) for other in sentences) >= 3:
            return sentence
    for sentence in sentences:
        found = _path_loop(sentence)
        if found:
            return found
    return None


def reasons(text: str) -> list[str]:
    """Why an answer is degenerate ([] when it is not)."""
    text = text or ""
    toks = tokens(text)
    found = []
    if loops(text):
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

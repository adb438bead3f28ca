"""Quality scoring for short support text: a score in [0, 1] with reasons, and boilerplate stripping.

    from tuneloop.data.quality import QualityConfig, apply_quality, clean_text, score_record
    kept, dropped = apply_quality(records, QualityConfig.from_params(params))

Each record gets `quality` = {"score": float, "reasons": ["code: detail", ...]}. Checks:
  hard (score 0):  too_short / too_long (whitespace tokens of the record's text, default 10..4000; per-kind
                   floors for short kinds: a classification row needs 1 word, a pair or chat 2),
                   not_english, no_agent_reply, not_approved (only where the field exists and is
                   false), low_satisfaction (satisfaction or rating below the minimum; skipped if null)
  soft (x factor): symbol_ratio (x0.6; x0.3 past twice the limit), repetition (same), language_uncertain (x0.8)
A record scoring below `threshold` (default 0.5) is dropped with its reasons: one soft problem keeps a
record, two drop it.

Boilerplate stripping (`clean_text`, boilerplate.py) removes what a model should not learn to write or read: quoted
replies ("On ... wrote:", "-----Original Message-----", "> " lines), mobile footers ("Sent from my
iPhone"), signatures ("-- " blocks, a closing "Regards,/Thanks," with the name under it, "Elena |
Lumora Support", "— Wei, Lumora Support") and legal disclaimers. Greetings and the body are kept.

Language: a stopword-ratio detector over seven Latin-script languages plus a script check. On short
support messages it beat langdetect in benchmarks/lang_bench.py (docs/data-cleaning.md: accuracy and
speed), and it is deterministic without seeding.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tuneloop.data.boilerplate import clean_text, strip_boilerplate  # noqa: F401 (part of this module's API)

# ---------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityConfig:
    enabled: bool = True
    threshold: float = 0.5  # records scoring below are dropped
    min_tokens: int = 10  # whitespace tokens of the record's text (all its fields): support threads
    # Per-kind floors that replace min_tokens: a short customer message is a valid classification example,
    # and a curated pair or chat may be short; the length floor is for threads an answer is learned from.
    min_tokens_by_kind: dict = field(default_factory=lambda: {"labelled_text": 1, "instruction": 2, "chat": 2})
    max_tokens: int = 4000
    language: str | None = "en"  # None: no language check
    max_symbol_ratio: float = 0.3  # emoji, mojibake, markup noise among non-space characters
    max_repetition: float = 0.3  # share of repeated lines or word 3-grams
    require_agent_reply: bool = True  # tickets/transcripts/chats need an answer to learn from
    require_approved: bool = True  # drop records with approved == false (absent or null: no check)
    min_satisfaction: int | None = 4  # drop rated records below this (satisfaction or rating); None: off
    strip_boilerplate: bool = True

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> QualityConfig:
        """Read `clean.quality` from the composed params (missing keys take the defaults above)."""
        section = ((params or {}).get("clean") or {}).get("quality") or {}
        return cls(**{k: section[k] for k in cls.__dataclass_fields__ if k in section})


@dataclass
class QualityResult:
    score: float
    reasons: list[str] = field(default_factory=list)  # "code: detail", hard problems first
    cleaned: dict[str, Any] = field(default_factory=dict)  # field -> text with boilerplate stripped
    stripped: list[str] = field(default_factory=list)  # kinds of boilerplate removed (sorted, unique)
    keep: bool = True

    def as_dict(self) -> dict:
        return {"score": self.score, "reasons": list(self.reasons)}


# ---------------------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------------------

STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and to of is it you that for on my i with this be have not are was but can me your we do "
        "what how get an at or if from just so there any please thanks hi hello help when will would "
        "don't can't been has all about after still it's i'm did does they our its which their them "
        "into why then than could should were am i've there's",
        "de": "der die das und ist nicht ich ein eine mit auf für den dem des sie es zu sich von wir ihr "
        "mein meine bitte danke hallo wie was auch noch nach bei aber wenn kann habe hat sind war "
        "oder über nur schon keine mir mich uns",
        "fr": "le la les et est pas je un une avec pour sur dans des du que qui vous il elle ce mon ma mes "
        "merci bonjour svp comment mais ou au aux ne plus très j'ai c'est votre nous sont été fait "
        "peut être quand depuis toujours rien",
        "es": "el la los las y es no yo un una con para por que en del al mi mis gracias hola cómo como "
        "pero o muy está tengo ha han su sus nos lo le se cuando puedo ayuda favor",
        "it": "il lo la gli le e è non io un una con per che di del della mio mia grazie ciao come ma o "
        "sono ho ha questo questa nel nella ancora quando posso aiuto perché",
        "pt": "o a os as e é não eu um uma com para por que em do da dos das meu minha obrigado obrigada "
        "olá oi como mas ou muito está tenho foi seu sua não quando posso ajuda você",
        "nl": "de het een en is niet ik met voor op dat die van wij je mijn bedankt hallo hoe wat maar of "
        "ook nog bij kan heb heeft zijn was u uw graag alstublieft wanneer",
    }.items()
}
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:['’][^\W\d_]+)?(?!\w)")  # letters only: "E17" is no word
_FRENCH_ELISION = re.compile(r"^(?:l|j|d|qu|n|c|s|m|t)'[^\W\d_]")  # l'application, j'ouvre, qu'il
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_LETTER = re.compile(r"[^\W\d_]")


_STOPWORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in STOPWORDS.items():
    for _w in _words:
        _STOPWORD_LANGS[_w] = _STOPWORD_LANGS.get(_w, ()) + (_lang,)


def detect_language(text: str) -> tuple[str | None, float]:
    """(language code or None if undecided, confidence in [0, 1]) by stopword hits per language.

    A text mostly in a non-Latin script is reported as "non-latin". Ties go to English; a best language
    with fewer than two stopword hits is undecided.
    """
    letters = len(_LETTER.findall(text or ""))
    if letters and len(_LATIN.findall(text)) / letters < 0.5:
        return "non-latin", 1.0
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text or "")]
    hits = dict.fromkeys(STOPWORDS, 0)
    for w in words:  # one dictionary lookup per word, not one set lookup per word and language
        for lang in _STOPWORD_LANGS.get(w, ()):
            hits[lang] += 1
    hits["fr"] += sum(bool(_FRENCH_ELISION.match(w)) and w not in STOPWORDS["fr"] for w in words)
    best = max(hits, key=lambda lang: (hits[lang], lang == "en"))
    if hits[best] < 2:
        return None, 0.0
    total = sum(hits.values())
    return best, round(hits[best] / total, 3)


# ---------------------------------------------------------------------------------------------------
# Other signals
# ---------------------------------------------------------------------------------------------------

_MARKUP = re.compile(r"\*\*|__|`+|^#+\s|^\s*[-*+]\s|^\s*\d+\.\s|\|", re.M)
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]{3,}\|?\s*$", re.M)
_PLAIN_PUNCT = set(".,!?;:'\"()-$%/&@#<>’“”–—")


_NON_SPACE = re.compile(r"\S")
# A symbol: neither a letter/digit (\w without "_") nor whitespace nor ordinary punctuation. One regex
# scan instead of a Python loop per character (prepare scores every record).
_SYMBOL = re.compile("_|[^\\w\\s" + re.escape("".join(sorted(_PLAIN_PUNCT))) + "]")


def symbol_ratio(text: str) -> float:
    """Share of non-space characters that are neither letters, digits nor ordinary punctuation."""
    text = _MARKUP.sub(" ", _TABLE_RULE.sub(" ", text or ""))
    chars = len(_NON_SPACE.findall(text))
    if not chars:
        return 0.0
    return len(_SYMBOL.findall(text)) / chars


def repetition(text: str) -> float:
    """The larger of: share of non-empty lines repeating an earlier line; share of repeated word 3-grams."""
    lines = [x.strip().lower() for x in (text or "").splitlines() if len(x.strip()) > 3]
    line_rep = 1 - len(set(lines)) / len(lines) if len(lines) >= 3 else 0.0
    words = (text or "").lower().split()
    grams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    gram_rep = 1 - len(set(grams)) / len(grams) if len(grams) >= 8 else 0.0
    return round(max(line_rep, gram_rep), 4)


def record_fields(record: dict) -> dict[str, str]:
    """The text fields a model trains on, by kind (name -> text)."""
    kind = record.get("kind")
    if kind == "ticket":
        out = {"customer_message": record.get("customer_message") or "", "agent_reply": record.get("agent_reply") or ""}
        if record.get("subject"):
            out["subject"] = record["subject"]
        return out
    if kind == "transcript":
        return {f"turns[{i}]": t.get("text") or "" for i, t in enumerate(record.get("turns") or [])}
    if kind == "instruction":
        return {"prompt": record.get("prompt") or "", "completion": record.get("completion") or ""}
    if kind == "chat":
        return {f"messages[{i}]": m.get("content") or "" for i, m in enumerate(record.get("messages") or [])}
    return {"text": record.get("text") or ""}  # kb, labelled_text


CLEANED_KINDS = ("ticket", "transcript", "labelled_text")  # free text from people; KB and curated pairs stay as written


def _has_answer(record: dict) -> bool | None:
    kind = record.get("kind")
    if kind == "ticket":
        return bool((record.get("agent_reply") or "").strip())
    if kind == "transcript":
        return any(t.get("role") == "agent" and (t.get("text") or "").strip() for t in record.get("turns") or [])
    if kind == "chat":
        return any(
            m.get("role") == "assistant" and (m.get("content") or "").strip() for m in record.get("messages") or []
        )
    if kind == "instruction":
        return bool((record.get("completion") or "").strip())
    return None  # kb, labelled_text: no answer expected


# ---------------------------------------------------------------------------------------------------
# Score
# ---------------------------------------------------------------------------------------------------

SOFT_FACTOR, SOFT_FACTOR_SEVERE, UNCERTAIN_LANGUAGE_FACTOR = 0.6, 0.3, 0.8


def score_record(record: dict, cfg: QualityConfig | None = None) -> QualityResult:
    """Score one record (not modified); `cleaned` holds its text fields with boilerplate stripped."""
    cfg = cfg or QualityConfig()
    fields = record_fields(record)
    cleaned, stripped = {}, set()
    if cfg.strip_boilerplate and record.get("kind") in CLEANED_KINDS:
        for name, text in fields.items():
            if name == "subject":
                continue
            new, kinds = strip_boilerplate(text)
            if new != text:
                cleaned[name] = new
                stripped.update(kinds)
    texts = {name: cleaned.get(name, text) for name, text in fields.items()}
    full = "\n".join(t for t in texts.values() if t)
    hard: list[str] = []
    soft: list[tuple[float, str]] = []

    n_tokens = len(full.split())
    floor = int((cfg.min_tokens_by_kind or {}).get(record.get("kind"), cfg.min_tokens))
    if n_tokens < floor:
        hard.append(f"too_short: {n_tokens} tokens < {floor}")
    elif n_tokens > cfg.max_tokens:
        hard.append(f"too_long: {n_tokens} tokens > {cfg.max_tokens}")
    if record.get("kind") == "ticket" and not _WORD.search(texts.get("customer_message", "")):
        hard.append("no_customer_message: the customer's message has no words")
    if cfg.require_agent_reply and _has_answer(record) is False:
        hard.append("no_agent_reply: nothing answers the customer")
    if cfg.require_approved and record.get("approved") is False:
        hard.append("not_approved: approved is false")
    rating_field = next((f for f in ("satisfaction", "rating") if record.get(f) is not None), None)
    if cfg.min_satisfaction is not None and rating_field:
        try:
            rating = float(record[rating_field])
        except (TypeError, ValueError):
            rating = None
        if rating is not None and rating < cfg.min_satisfaction:
            hard.append(f"low_satisfaction: {rating_field} {record[rating_field]} < {cfg.min_satisfaction}")
    if cfg.language and full.strip():
        lang, confidence = detect_language(full)
        if lang is None:
            soft.append((UNCERTAIN_LANGUAGE_FACTOR, "language_uncertain: too few function words to tell"))
        elif lang != cfg.language:
            hard.append(f"not_{cfg.language}: looks like {lang} (confidence {confidence:.2f})")
    worst_symbols = max((symbol_ratio(t) for t in texts.values() if t.strip()), default=0.0)
    if worst_symbols > cfg.max_symbol_ratio:
        factor = SOFT_FACTOR_SEVERE if worst_symbols > 2 * cfg.max_symbol_ratio else SOFT_FACTOR
        soft.append((factor, f"symbol_ratio: {worst_symbols:.2f} > {cfg.max_symbol_ratio}"))
    worst_repetition = max((repetition(t) for t in texts.values()), default=0.0)
    if worst_repetition > cfg.max_repetition:
        factor = SOFT_FACTOR_SEVERE if worst_repetition > 2 * cfg.max_repetition else SOFT_FACTOR
        soft.append((factor, f"repetition: {worst_repetition:.2f} > {cfg.max_repetition}"))

    score = 0.0 if hard else 1.0
    for factor, _ in soft:
        score *= factor
    score = round(score, 4)
    return QualityResult(
        score=score,
        reasons=hard + [r for _, r in soft],
        cleaned=cleaned,
        stripped=sorted(stripped),
        keep=score >= cfg.threshold,
    )


def with_cleaned_text(record: dict, cleaned: dict[str, Any]) -> dict:
    """A copy of record with the cleaned fields written back (turns[i] / messages[i] included)."""
    out = dict(record)
    for name, text in cleaned.items():
        m = re.fullmatch(r"(turns|messages)\[(\d+)\]", name)
        if m:
            key, i = m.group(1), int(m.group(2))
            items = [dict(x) for x in out[key]]
            items[i]["text" if key == "turns" else "content"] = text
            out[key] = items
        else:
            out[name] = text
    if record.get("kind") == "ticket" and "turns" in record and cleaned:
        # keep the first customer / agent turn equal to the cleaned top-level fields
        turns = [dict(t) for t in out.get("turns") or []]
        for role, key in (("customer", "customer_message"), ("agent", "agent_reply")):
            i = next((k for k, t in enumerate(turns) if t.get("role") == role), None)
            if i is not None and key in cleaned and turns[i].get("text") == record.get(key):
                turns[i]["text"] = cleaned[key]
        out["turns"] = turns
    return out


def apply_quality(
    records: list[dict],
    cfg: QualityConfig | None = None,
    stripped: Counter | None = None,
    results: list[QualityResult] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Score every record: (kept copies with cleaned text and `quality`, dropped entries with reasons).

    A dropped entry: {"id", "kind", "source", "locator", "reason": "low_quality", "detail", "quality"}.
    With cfg.enabled false, records come back unchanged and nothing is dropped. `stripped`, if given,
    counts the records from which each kind of boilerplate was removed. `results`, if given, are the
    records' scores computed beforehand (prepare scores in its worker processes), in the same order.
    """
    cfg = cfg or QualityConfig()
    if not cfg.enabled:
        return list(records), []
    kept, dropped = [], []
    for i, record in enumerate(records):
        result = results[i] if results is not None else score_record(record, cfg)
        if stripped is not None:
            stripped.update(result.stripped)
        if result.keep:
            out = with_cleaned_text(record, result.cleaned)
            out["quality"] = result.as_dict()
            kept.append(out)
        else:
            dropped.append(
                {
                    "id": record.get("id"),
                    "kind": record.get("kind"),
                    "source": record.get("source"),
                    "locator": record.get("locator", record.get("line")),
                    "reason": "low_quality",
                    "detail": "; ".join(result.reasons),
                    "quality": result.as_dict(),
                }
            )
    return kept, dropped

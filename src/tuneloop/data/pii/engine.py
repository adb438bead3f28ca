"""The Redactor: finds PII spans by the configured rules and replaces them with typed placeholders.

Overlaps are resolved deterministically: the longest match wins, a tie goes to the more specific
type (order of TYPES), and a partial overlap is merged into the winner so no detected character is
ever left in clear. The redacted text is searched again until nothing new appears, so redaction
is idempotent. Spans on the allow-list (the company's own addresses and numbers) are never
redacted. Nothing in this module logs or returns an original value outside the redacted text.
The rules per type are listed in the package docstring (tuneloop/data/pii/__init__.py).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from tuneloop.data.pii.config import DEFAULT_CONFIG, merge_config
from tuneloop.data.pii.recognizers import (
    CONTACT_VERB,
    DASH_SIGNATURE,
    DIGIT_RUN,
    DIGITS_HINT,
    GENERIC_STOPWORDS,
    IBAN_CANDIDATE,
    ID_CUE_BEFORE,
    INTRO_FOLLOWERS,
    IPV4,
    IPV6,
    NAME_BEFORE_VERB,
    NAME_WORD,
    PERSON_CUES,
    PHONE_NOT,
    PHONE_SHAPE,
    SIGNATURE,
    TERMINATOR,
    TYPES,
    luhn_valid,
    to_e164,
    us_address_pattern,
    valid_ip,
)
from tuneloop.data.pii.records import fields_for, locate, name_spans, redact_speakers, speaker_names
from tuneloop.data.pii.spans import Span, map_back, resolve


class Redactor:
    """Finds PII spans by the configured rules and replaces them with typed placeholders."""

    def __init__(self, config: Mapping[str, Any] | None = None):
        self.config = merge_config(DEFAULT_CONFIG, config or {})
        rules = self.config["rules"]
        self.enabled = tuple(t for t in TYPES if rules[t]["enabled"])
        self.rule_types = self.enabled  # the types found by this engine's rules (presidio takes some over)
        self.replacements = {t: str(rules[t]["replacement"]) for t in TYPES}
        self._email = re.compile(rules["EMAIL"]["pattern"])
        self._ssn = re.compile(rules["US_SSN"]["pattern"])
        card_cues = "|".join(re.escape(c) for c in sorted(rules["CARD"]["cues"], key=len, reverse=True))
        self._card_cue = re.compile(rf"(?i:\b(?:{card_cues})\b)")
        not_cues = "|".join(re.escape(c) for c in sorted(rules["CARD"]["not_cues"], key=len, reverse=True))
        self._card_not_cue = re.compile(rf"(?i:\b(?:{not_cues})\b)\W{{0,3}}(?:(?:number|no\.?|is)\W{{0,3}})*$")
        cues = "|".join(re.escape(c) for c in rules["US_SSN"]["bare_cues"])
        self._ssn_bare = re.compile(
            rf"(?i:\b(?:{cues}))\W{{0,3}}(?:is|was|:|#)?\W{{0,3}}(?<![\w-])(\d{{3}})()(\d{{2}})(\d{{4}})(?![\w-])"
        )
        version = "|".join(re.escape(c) for c in sorted(rules["IP_ADDRESS"]["version_cues"], key=len, reverse=True))
        self._version_before = re.compile(rf"(?i:\b(?:{version}))[ \t:]*v?$")
        self._person_stop = GENERIC_STOPWORDS | frozenset(rules["PERSON"]["stopwords"])
        suffixes = "|".join(re.escape(s) for s in sorted(rules["ADDRESS"]["street_suffixes"], key=len, reverse=True))
        self._addresses = [re.compile(us_address_pattern(suffixes))]
        self._addresses += [re.compile(p) for p in rules["ADDRESS"]["extra_patterns"]]
        allow = self.config["allow"]
        self._allow = (
            [re.compile("|".join(re.escape(s) for s in allow["exact"]), re.IGNORECASE)] if allow["exact"] else []
        )
        self._allow += [re.compile(p) for p in allow["patterns"]]
        self._allow_phones = frozenset(allow["phones"])
        self._phone_regions = [str(r).upper() for r in rules["PHONE"]["regions"]]
        self._phone_leniency = str(rules["PHONE"]["leniency"]).upper()
        phone_cues = "|".join(re.escape(c) for c in sorted(rules["PHONE"]["cues"], key=len, reverse=True))
        self._phone_cue_before = re.compile(
            rf"(?i:\b(?:{phone_cues})\b)(?:[ \t]*(?:number|no\.?|#))?[\s:]*(?:is|at|on)?[\s:]*$"
        )
        self._phone_cue_after = re.compile(rf"[ \t]*(?:-|\()?[ \t]*(?i:(?:{phone_cues})\b)")
        self._finders = {
            "EMAIL": self._find_email,
            "PHONE": self._find_phone,
            "CARD": self._find_card,
            "US_SSN": self._find_ssn,
            "IBAN": self._find_iban,
            "IP_ADDRESS": self._find_ip,
            "PERSON": self._find_person,
            "ADDRESS": self._find_address,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Redactor:
        """The redactor of a composed params.yaml (its `redact` group; defaults when absent)."""
        return cls(params.get("redact"))

    # -- public API ------------------------------------------------------------------------------

    def find(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        """Resolved, non-overlapping PII spans in text, sorted by start.

        Rules read context (phonenumbers picks its candidates from the digits around them), so a
        value can hide next to another one and stand out once its neighbour is replaced. The text
        is therefore redacted and searched again until nothing new appears (at most 3 rounds):
        redacting the output finds nothing, and redaction is idempotent.
        """
        spans = self._find_first(text, names)
        for _ in range(3):
            if not spans:
                break
            out, segments = self._apply(text, spans)
            extra = self._find_once(out)
            if not extra:
                break
            spans = resolve(spans + [map_back(e, segments) for e in extra])
        return spans

    def redact(self, text: str, names: Iterable[str] = ()) -> tuple[str, list[Span]]:
        """(text with each span replaced by its placeholder, spans in the ORIGINAL text); `names` are
        known names (a transcript's speakers) redacted wherever they occur."""
        spans = self.find(text, names)
        return (self._apply(text, spans)[0] if spans else text), spans

    def _find_first(self, text: str, names: Iterable[str] = ()) -> list[Span]:
        """The first pass (the presidio engine adds its analyzer's spans here)."""
        return self._find_once(text, name_spans(text, names) if names else [])

    def _find_once(self, text: str, extra: Iterable[Span] = ()) -> list[Span]:
        if not text:
            return []
        candidates = [span for kind in self.rule_types for span in self._finders[kind](text)] + list(extra)
        if self._allow and candidates:
            allowed = [(m.start(), m.end()) for pattern in self._allow for m in pattern.finditer(text)]
            candidates = [c for c in candidates if not any(a <= c.start and c.end <= b for a, b in allowed)]
        return resolve(candidates)

    def _apply(self, text: str, spans: list[Span]) -> tuple[str, list[tuple[int, int, int, int, bool]]]:
        """Redacted text and its segments (out_start, out_end, orig_start, orig_end, is_placeholder)."""
        out, segments, pos, at = [], [], 0, 0
        for span in spans:
            for piece, orig, placeholder in (
                (text[pos : span.start], (pos, span.start), False),
                (self.replacements[span.type], (span.start, span.end), True),
            ):
                segments.append((at, at + len(piece), *orig, placeholder))
                out.append(piece)
                at += len(piece)
            pos = span.end
        segments.append((at, at + len(text) - pos, pos, len(text), False))
        out.append(text[pos:])
        return "".join(out), segments

    def redact_record(
        self, record: Mapping[str, Any], fields: Iterable[str] | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Redact a record's text fields; returns (new record, report entries).

        Entries are {"id", "field", "type", "start", "end"} with offsets into the field's original
        text and never the value itself. `fields` are paths such as "subject" or "turns[].text";
        by default the text fields of the record's kind (RECORD_TEXT_FIELDS).
        """
        out = copy.deepcopy(dict(record))
        rid = str(record.get("id", ""))
        # Speakers named in a transcript: the name goes from `speaker` and from every text field.
        names = speaker_names(out) if "PERSON" in self.enabled else []
        entries = redact_speakers(out, rid, names, self.replacements["PERSON"])
        paths = list(fields) if fields is not None else fields_for(record)
        for path in paths:
            for name, container, key in locate(out, path):
                value = container[key]
                if not isinstance(value, str) or not value:
                    continue
                container[key], spans = self.redact(value, names)
                entries += [{"id": rid, "field": name, "type": s.type, "start": s.start, "end": s.end} for s in spans]
        return out, entries

    def redact_records(self, records: Iterable[Mapping[str, Any]], fields=None) -> list[tuple[dict, list[dict]]]:
        """redact_record for each record (the presidio engine batches its NER over all of them)."""
        return [self.redact_record(r, fields(r) if callable(fields) else fields) for r in records]

    # -- rules -----------------------------------------------------------------------------------

    def _find_email(self, text: str) -> list[Span]:
        return [Span("EMAIL", m.start(), m.end()) for m in self._email.finditer(text)] if "@" in text else []

    def _find_phone(self, text: str) -> list[Span]:
        if not DIGITS_HINT.search(text):
            return []
        import phonenumbers  # heavy-ish import, only when a text has enough digits to hold a number

        leniency = getattr(phonenumbers.Leniency, self._phone_leniency)
        found: set[tuple[int, int]] = set()
        for region in self._phone_regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                if e164 in self._allow_phones or PHONE_NOT.fullmatch(match.raw_string):
                    continue
                cue = self._phone_cue(text, match.start)
                # National numbers in four numbering plans cover many digit strings: an order id or an
                # IMEI must not become a phone. Unformatted digits need a phone cue before them.
                unformatted = match.raw_string.isdigit()
                national = not match.raw_string.startswith(("+", "00"))
                if cue == "id" or (unformatted and cue != "phone"):
                    continue
                if national and sum(ch.isdigit() for ch in match.raw_string) > 12 and cue != "phone":
                    continue  # 4903 9413 8217 7365 is no national phone number, whatever DE's plan allows
                found.add((match.start, match.end))
        for m in PHONE_SHAPE.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group())
            if (
                7 <= digits <= 15
                and not PHONE_NOT.fullmatch(m.group())
                and (self._phone_cue(text, m.start()) == "phone" or self._phone_cue_after.match(text, m.end()))
            ):
                if not self._allow_phones or to_e164(m.group()) not in self._allow_phones:
                    found.add((m.start(), m.end()))
        return [Span("PHONE", s, e) for s, e in sorted(found)]

    def _phone_cue(self, text: str, start: int) -> str | None:
        """ "phone" when a phone cue ends right before start, "id" for an order/serial/... cue."""
        before = text[max(0, start - 32) : start]
        if self._phone_cue_before.search(before):
            return "phone"
        if ID_CUE_BEFORE.search(before):
            return "id"
        return None

    def _find_card(self, text: str) -> list[Span]:
        spans = []
        for m in DIGIT_RUN.finditer(text):
            groups = [(m.start() + g.start(), m.start() + g.end()) for g in re.finditer(r"\d+", m.group())]
            if sum(e - s for s, e in groups) < 12:
                continue
            before = text[max(0, m.start() - 40) : m.start()]
            # Cards are written unbroken or in groups of 3-6 digits (4-4-4-4, 4-6-5, 4-6-4...): a long
            # unbroken group stands alone, and the short groups between long ones are read together.
            found, segment = [], []
            for group in [*groups, None]:
                if group is None or group[1] - group[0] >= 7:
                    found += self._card_tiles(text, segment, before)
                    segment = []
                    if group is not None:
                        found += self._card_tiles(text, [group], before)
                else:
                    segment.append(group)
            not_card = self._card_not_cue.search(before[-24:])
            # "IMEI 356938035643809" is Luhn-valid by design; 16 digits are always taken as a card.
            spans += [s for s in found if not (not_card and sum(ch.isdigit() for ch in text[s.start : s.end]) != 16)]
        return spans

    def _card_tiles(self, text: str, groups: list[tuple[int, int]], before: str) -> list[Span]:
        """Cards in a sequence of digit groups: the whole sequence must split into cards, except a
        short trailing group (a CVV, "12" of an expiry) and a leading group that cannot start a card
        (a quantity, a 5-digit order number). Spaced tracking numbers (9400 1118 9922 3845 6789 01)
        hold Luhn-valid windows by chance; requiring a full split keeps them out."""
        if not groups:
            return []
        if len(groups) == 1:
            ((s, e),) = groups
            digits = text[s:e]
            if (13 <= len(digits) <= 19 or (len(digits) == 12 and self._card_cue.search(before))) and luhn_valid(
                digits
            ):
                return [Span("CARD", s, e)]  # 12 digits: a Maestro, only when the text calls it a card
            return []
        lengths = [e - s for s, e in groups]

        def is_card(i: int, j: int) -> bool:
            if lengths[i] != 4 or not all(3 <= n <= 6 for n in lengths[i:j]) or not 13 <= sum(lengths[i:j]) <= 19:
                return False
            return luhn_valid("".join(text[s:e] for s, e in groups[i:j]))

        def tile(i: int, trailing: bool = True) -> list[tuple[int, int]] | None:
            if i == len(groups) or (trailing and i == len(groups) - 1 and i > 0 and lengths[i] <= 4):
                return []
            for j in range(min(len(groups), i + 5), i + 2, -1):  # the longest card first
                if is_card(i, j) and (rest := tile(j, trailing)) is not None:
                    return [(i, j), *rest]
            return None

        chunks = tile(0)
        if chunks is None:
            # A leading group that is no card's start ("qty 2 4111 ...", "order 12345 4111 ..."). A
            # leading 4-digit group ("ref 1234 4111 1111 1111 1111") is dropped only when the rest
            # splits into cards exactly, with nothing left over: 9400 1118 9922 3845 6789 01 does not.
            chunks = tile(1) if lengths[0] != 4 else tile(1, trailing=False)
        return [Span("CARD", groups[i][0], groups[j - 1][1]) for i, j in chunks or []]

    def _find_ssn(self, text: str) -> list[Span]:
        spans = []
        for pattern in (self._ssn, self._ssn_bare):
            for m in pattern.finditer(text):
                area, group, serial = m.group(1), m.group(3), m.group(4)
                if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
                    continue
                spans.append(Span("US_SSN", m.start(1), m.end(4)))
        return spans

    def _find_iban(self, text: str) -> list[Span]:
        from stdnum import iban

        spans = []
        for m in IBAN_CANDIDATE.finditer(text):
            raw = m.group()
            # The candidate may run into the next word ("... 0130 00 please"): try the longest prefix
            # that ends at a group boundary first, then shorter ones, until one validates.
            ends = sorted({len(raw)} | {i for i, ch in enumerate(raw) if ch == " "}, reverse=True)
            for end in ends:
                if end >= 15 and iban.is_valid(raw[:end]):
                    spans.append(Span("IBAN", m.start(), m.start() + end))
                    break
        return spans

    def _find_ip(self, text: str) -> list[Span]:
        spans = []
        if "." in text:
            for m in IPV4.finditer(text):
                if self._version_before.search(text[max(0, m.start() - 24) : m.start()]):
                    continue  # "firmware 2.14.3.1", "version 10.0.0.4": a version, not an address
                if valid_ip(m.group()):
                    spans.append(Span("IP_ADDRESS", m.start(), m.end()))
        if "::" in text or text.count(":") >= 7:
            for m in IPV6.finditer(text):
                value = m.group()
                if any(ch.isalnum() for ch in value) and valid_ip(value):  # not a bare "::"
                    spans.append(Span("IP_ADDRESS", m.start(), m.end()))
        return spans

    def _find_person(self, text: str) -> list[Span]:
        spans = []
        for m in PERSON_CUES.finditer(text):
            kind = m.lastgroup
            span = self._name_at(text, m.end(), kind)
            if span:
                spans.append(span)
        for m in SIGNATURE.finditer(text):
            span = self._name_at(text, m.start("name"), "signature")
            if span and span.end == m.end("name"):
                spans.append(span)
        for m in NAME_BEFORE_VERB.finditer(text) if CONTACT_VERB.search(text) else ():
            span = self._name_at(text, m.start("name"), "before_verb")
            if span and span.end == m.end("name"):
                spans.append(span)
        for m in DASH_SIGNATURE.finditer(text):
            span = self._name_at(text, m.end(), "dash")
            if span:
                spans.append(span)
        return spans

    def _name_at(self, text: str, pos: int, cue: str) -> Span | None:
        """The capitalised name (1-3 words, middle initials allowed) starting at pos, if the cue's
        context rules accept it; None otherwise."""
        end, words, i = None, 0, pos
        while words < 3:
            m = NAME_WORD.match(text, i)
            if not m:
                break
            word = m.group()
            if len(word) == 1 and words and text.startswith(". ", m.end()) and word.isupper():
                i = m.end() + 2  # a middle initial: "Maria J. Reyes"
                continue
            if (
                len(word) < 2
                or not word[0].isupper()
                or word.isupper()
                or word in self._person_stop
                or word.split("'")[0] in self._person_stop
            ):
                break
            end, words, i = m.end(), words + 1, m.end()
            if not (text.startswith(" ", i) and i + 1 < len(text) and text[i + 1].isupper()):
                break
            i += 1
        if end is None:
            return None
        after = text[end : end + 40]
        terminated = bool(TERMINATOR.match(after))
        if cue in ("greet", "signoff", "holder", "dash") and not terminated:
            return None
        if cue == "intro" and not (terminated or INTRO_FOLLOWERS.match(after)):
            return None
        if cue == "under" and (words < 2 or not terminated):
            return None
        if cue == "before_verb" and words < 2:
            return None
        return Span("PERSON", pos, end)

    def _find_address(self, text: str) -> list[Span]:
        return [
            Span("ADDRESS", m.start(), m.end())
            for pattern in self._addresses
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]


_DEFAULT: Redactor | None = None


def default_redactor() -> Redactor:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Redactor()
    return _DEFAULT


def redact(text: str, counts: Counter | None = None, redactor: Redactor | None = None) -> str:
    """Return text with PII replaced; add per-type counts to `counts` if given (the pre-Redactor API)."""
    if not text:
        return text
    out, spans = (redactor or default_redactor()).redact(text)
    if counts is not None:
        counts.update(s.type for s in spans)
    return out

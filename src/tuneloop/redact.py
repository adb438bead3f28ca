"""PII redaction for support text, by reviewable rules in conf/redact/default.yaml (measured in docs/pii.md).

    from tuneloop.redact import Redactor, summarize
    redactor = Redactor(params["redact"])                 # the composed Hydra group `redact`
    text, spans = redactor.redact("Hi Maria, call me at +44 20 7946 0018")
    record, entries = redactor.redact_record(record)      # report entries carry no original values
    PYTHONPATH=src python -m tuneloop.pii_eval            # precision/recall on tests/data/pii_labelled.jsonl

Rules (each can be turned off and given its placeholder in config):
  EMAIL       regex
  PHONE       phonenumbers.PhoneNumberMatcher per configured region, leniency VALID (real numbering plans);
              unformatted digit strings or numbers after "order"/"serial"/"#" only with a phone cue;
              any phone-shaped number right after (or before) a cue such as "Phone:", "call me on", "fax"
  CARD        13-19 digits, unbroken or in groups of 3-6 (spaces/dashes), Luhn-validated; a run of groups
              must split into whole cards (12 digits only after a "card" cue; not after "IMEI" unless 16)
  US_SSN      AAA-GG-SSSS (dash or space), area not 000/666/9xx, group not 00, serial not 0000;
              nine bare digits only right after an "SSN" cue
  IBAN        country code + check digits + BBAN, with or without spaces, python-stdnum iban.is_valid
  IP_ADDRESS  IPv4 and IPv6 candidates validated by `ipaddress`; dotted version strings are skipped
  PERSON      heuristic: a capitalised name right after a cue (greeting, sign-off, "my name is",
              "this is ... from", "spoke with", "under the name", "my partner", Mr/Ms/Dr), before
              "<Org> Support" in a signature, or a full name before "called"/"emailed"/...
  ADDRESS     heuristic: number + capitalised street name + street suffix (+ unit, city, state, ZIP or
              UK postcode), plus the locale patterns listed in config (German and French by default)
PERSON and ADDRESS are heuristics, not a model (nothing here may download one): they catch the
shapes support text uses and miss names and addresses outside them; docs/pii.md has their figures.

Overlaps are resolved deterministically: the longest match wins, a tie goes to the more specific
type (order of TYPES), and a partial overlap is merged into the winner so no detected character is
ever left in clear. The redacted text is searched again until nothing new appears, so redaction
is idempotent. Spans on the allow-list (the company's own addresses and numbers) are never
redacted. Nothing in this module logs or returns an original value outside the redacted text.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

# Most specific first: breaks ties between equally long overlapping matches.
TYPES: tuple[str, ...] = ("IBAN", "CARD", "US_SSN", "EMAIL", "IP_ADDRESS", "PHONE", "ADDRESS", "PERSON")
_RANK = {t: i for i, t in enumerate(TYPES)}

# The defaults are the values of conf/redact/default.yaml (a test keeps the two equal), so that
# `redact(text)` works without a composed config; a config given to Redactor is merged over them.
DEFAULT_CONFIG: dict[str, Any] = {
    "rules": {
        "EMAIL": {"enabled": True, "replacement": "<EMAIL>",
                  "pattern": r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"},
        "PHONE": {"enabled": True, "replacement": "<PHONE>", "regions": ["US", "GB", "DE", "FR"],
                  "leniency": "VALID",
                  "cues": ["phone", "tel", "telephone", "mobile", "cell", "fax", "call me", "ring me", "reach me",
                           "text me", "contact me", "whatsapp", "desk", "office", "home", "work"]},
        "CARD": {"enabled": True, "replacement": "<CARD>", "cues": ["card", "credit card", "debit card", "cc", "visa",
                                                                    "mastercard", "maestro", "amex"],
                 "not_cues": ["imei", "meid", "tracking", "serial", "sn"]},  # IMEIs are Luhn-valid too
        "US_SSN": {"enabled": True, "replacement": "<US_SSN>",
                   "pattern": r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])",
                   "bare_cues": ["ssn", "social security", "social security number", "ss#"]},
        "IBAN": {"enabled": True, "replacement": "<IBAN>"},
        "IP_ADDRESS": {"enabled": True, "replacement": "<IP_ADDRESS>",
                       "version_cues": ["version", "ver", "v", "firmware", "fw", "build", "release", "app", "ios",
                                        "android", "update", "updated to", "upgraded to", "patch"]},
        "PERSON": {"enabled": True, "replacement": "<PERSON>",
                   "stopwords": ["Lumora", "Thermo", "Mini", "Glow", "Strip", "Plus", "Hub", "Sensor", "Room",
                                 "Home", "App", "Settings", "Security", "Notifications", "Orders", "Payment",
                                 "Apple", "Google", "Android", "Alexa", "Amazon", "Wi", "Fi", "Bluetooth"]},
        "ADDRESS": {"enabled": True, "replacement": "<ADDRESS>",
                    "street_suffixes": ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd",
                                        "Drive", "Dr", "Lane", "Ln", "Court", "Ct", "Way", "Place", "Pl",
                                        "Terrace", "Ter", "Parkway", "Pkwy", "Circle", "Cir", "Highway", "Hwy",
                                        "Square", "Sq", "Close", "Crescent", "Gardens", "Grove", "Trail", "Loop",
                                        "Plaza", "Row", "Mews"],
                    "extra_patterns": [
                        # UK house names: Rose Cottage, Mill Lane, Ambleside LA22 9DH (ends in a postcode)
                        r"(?:\b(?:Flat|Apartment|Unit)[ \t]+\d+[A-Z]?,[ \t]*)?\b(?:[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,3},[ \t]*){1,3}"
                        r"[A-Z][a-z]+[ \t]+[A-Z]{1,2}\d[A-Z\d]?[ \t]+\d[A-Z]{2}\b",
                        # US post office boxes: PO Box 1234, Austin, TX 78701
                        r"\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box)[ \t]+\d{1,6}\b(?:,[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2}"
                        r",?[ \t]+[A-Z]{2}\b(?:[ \t]+\d{5}(?:-\d{4})?)?)?",
                        # German: Hauptstraße 12, 10115 Berlin / Am Rosenweg 3a
                        r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)*(?:straße|strasse|str\.|weg|platz|allee|gasse"
                        r"|ring|damm|ufer)[ \t]+\d{1,4}[a-z]?\b(?:,[ \t]*\d{5}[ \t]+[A-ZÄÖÜ][a-zäöüß]+)?",
                        # French: 12 bis, rue de la Paix, 75002 Paris
                        r"\b\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|boulevard|bd|place|chemin|allée"
                        r"|impasse|quai|route)[ \t]+(?:(?:de|du|des|la|le|les)[ \t]+|[ld]['’])*[A-ZÉÈ][\w'’-]+"
                        r"(?:[ \t]+[A-ZÉÈ][\w'’-]+){0,3}(?:,[ \t]*\d{5}[ \t]+[A-ZÉÈ][\w-]+)?",
                    ]},
    },
    "allow": {
        "exact": ["support@lumora.example", "no-reply@lumora.com", "support@lumora.com"],
        "patterns": [r"(?i)(?:support|help|billing|returns|privacy|no-?reply)@lumora\.(?:com|example)"],
        "phones": ["+18005550100"],  # E.164: Lumora's public support line, in any written format
    },
}

# Capitalised words that open sentences or address a group, never a person's name. Company and
# product words are in config (rules.PERSON.stopwords) so each deployment can list its own.
_GENERIC_STOPWORDS = frozenset("""
A An The This That These Those There Here I I'm I've Im We You My Our Your It Its It's He She They His Her Their
Please Thanks Thank Thx Sorry Yes No Not Just Also So And But Or If When What Why How Where Who Which Now Then
Well Again Any All Everyone Anyone Someone Team Support Sir Madam Folks Guys Friend Friends Customer Customers
Service Care Help Desk Helpdesk Staff Agent Manager Admin Department Sales Billing Returns Shipping Order Orders
Ticket Case Account Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December Today Tomorrow Yesterday Morning Afternoon Evening Night
Regards Best Cheers Sincerely Hello Hi Hey Dear Good Great Ok Okay Sure Still Unfortunately Hopefully Attached
Sent Update Urgent Re Fwd Fw Note Thanksgiving Christmas Happy Welcome Kind Warm Many Regarding Issue Problem
Looking Waiting Trying Calling Following Back Again Ever Everything Nothing Something Yours Truly Name
Mr Mrs Ms Miss Mx Dr Prof
""".split())

_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CUE_GREET = (r"\b(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|thanks(?: again| so much| a lot)?"
              r"|thank you(?: so much| again)?|many thanks|thx)")
_CUE_SIGNOFF = (r"\b(?:best(?: regards| wishes)?|kind regards|warm regards|regards|cheers|sincerely|all the best"
                r"|take care|yours(?: truly| sincerely)?)")
_CUE_INTRO = (r"\b(?:my name is|my name's|this is|it's|it is|i'm|i am|you're speaking (?:to|with)|speaking with"
              r"|spoke (?:with|to)|talked (?:with|to)|chatted with|cc:?|attn:?|attention:?|ask for|asked for)")
_CUE_HOLDER = (r"\b(?:under the name(?: of)?|in the name(?: of)?|account holder(?: is)?|card ?holder(?: is)?"
               r"|name on the (?:account|card|order) is)\b:?|\b(?:customer |full |account )?name:")
_CUE_RELATION = (r"\b(?:my|our|your|the|his|her) (?:partner|husband|wife|son|daughter|mom|mum|dad|mother|father"
                 r"|brother|sister|colleague|manager|boss|friend|neighbou?r|landlord|tenant|roommate|flatmate"
                 r"|installer|technician|electrician|engineer|contractor|assistant|agent|rep|representative)")
_PERSON_CUES = re.compile(  # one leading \b lets the engine skip non-boundaries fast (3x faster)
    rf"\b(?:(?P<greet>{_CUE_GREET})(?:,?[ \t]+|,?[ \t]*\n[ \t]*)"
    rf"|(?P<signoff>{_CUE_SIGNOFF})(?:,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*)"  # "Best Buy" is a store; "Best, Ana" is not
    rf"|(?P<relation>{_CUE_RELATION})[ \t]+"
    rf"|(?P<intro>{_CUE_INTRO})[ \t]+|(?P<holder>{_CUE_HOLDER})[ \t]+|(?P<under>\bunder)[ \t]+"
    rf"|(?<![\w.])(?P<title>(?-i:Mr|Mrs|Ms|Miss|Mx|Dr)\.?)[ \t]+)",
    re.IGNORECASE)
# A name that signs a reply: "— Maria, Lumora Support", "Maria | Lumora Support", "Maria (Lumora Support)".
_SIGNATURE = re.compile(
    r"(?m)^[ \t]*(?:[—–-]+[ \t]*)?(?P<name>[^\W\d_][^\s,|(]*(?:[ \t][^\W\d_][^\s,|(]*){0,2})[ \t]*(?:,|\||\(|[—–-])"
    r"[ \t]*(?:[A-Z][\w&.'-]*[ \t]+){0,3}(?:Support|Team|Care|Customer Service|Helpdesk|Help Desk)\b")
# "Sofia Okafor called yesterday": a first and last name (two words at least) before a verb of contact.
_NAME_BEFORE_VERB = re.compile(
    r"(?<![\w'’-])(?P<name>[^\W\d_][\w'’-]*(?:[ \t](?:[A-Z]\.[ \t])?[^\W\d_][\w'’-]*){1,2})[ \t]+(?:called|phoned|rang"
    r"|emailed|e-mailed|wrote|texted|messaged|said|told me|mentioned|promised|replied|confirmed|visited|came by)\b")
_CONTACT_VERB = re.compile(r"\b(?:called|phoned|rang|e-?mailed|wrote|texted|messaged|said|told me|mentioned|promised"
                           r"|replied|confirmed|visited|came by)\b")
_DASH_SIGNATURE = re.compile(r"(?m)^[ \t]*[—–]+[ \t]*(?=[^\W\d_])")
_TERMINATOR = re.compile(r"[ \t]*(?:[,.!?:;)(|\n—–]|$)")
_INTRO_FOLLOWERS = re.compile(r"[ \t]+(?:from|here|calling|speaking|and|with|at|on|again|by the way)\b", re.IGNORECASE)

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_DIGIT_RUN = re.compile(r"(?<![A-Za-z\d])\d+(?:[ -]\d+)*(?![A-Za-z\d])")
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){10,32}")
# A phone-shaped run for the cue fallback ("Phone: 467 3395", "fax 259.735.7502x459"): numbers that
# phonenumbers rejects (an unknown region, a made-up exchange) still are phone numbers when so labelled.
_PHONE_SHAPE = re.compile(r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}"
                          r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w.]|[-/]\d)")
_PHONE_NOT = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3}")  # dates, IPv4 shapes
_ID_CUE_BEFORE = re.compile(r"(?i:\b(?:order|invoice|serial|sn|s/n|imei|tracking|ref|reference|case|ticket|po|sku|model"
                            r"|part|account|acct|transaction|confirmation|no\.?|nr\.?)(?:[ \t]+(?:number|no\.?|id|nr\.?))?"
                            r"(?:[ \t]+is)?\W{0,3}$|#\s*$|[A-Za-z]-$)")
_DIGITS_HINT = re.compile(r"\d(?:[ ().\-/+]{0,3}\d){6}")  # a phone has 7+ digits and only phone punctuation between


class Span(NamedTuple):
    """One detected PII span: its type and [start, end) in the original text."""
    type: str
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _merge(base: Mapping[str, Any], override: Mapping[str, Any], where: str = "redact") -> dict[str, Any]:
    """Deep-merge override into base; unknown keys are errors (a typo must not disable a rule silently)."""
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if key not in out:
            raise ValueError(f"{where}.{key}: unknown key (known: {sorted(out)})")
        if isinstance(out[key], dict) and isinstance(value, Mapping):
            out[key] = _merge(out[key], value, f"{where}.{key}")
        else:
            out[key] = copy.deepcopy(value)
    return out


class Redactor:
    """Finds PII spans by the configured rules and replaces them with typed placeholders."""

    def __init__(self, config: Mapping[str, Any] | None = None):
        self.config = _merge(DEFAULT_CONFIG, config or {})
        rules = self.config["rules"]
        self.enabled = tuple(t for t in TYPES if rules[t]["enabled"])
        self.replacements = {t: str(rules[t]["replacement"]) for t in TYPES}
        self._email = re.compile(rules["EMAIL"]["pattern"])
        self._ssn = re.compile(rules["US_SSN"]["pattern"])
        card_cues = "|".join(re.escape(c) for c in sorted(rules["CARD"]["cues"], key=len, reverse=True))
        self._card_cue = re.compile(rf"(?i:\b(?:{card_cues})\b)")
        not_cues = "|".join(re.escape(c) for c in sorted(rules["CARD"]["not_cues"], key=len, reverse=True))
        self._card_not_cue = re.compile(rf"(?i:\b(?:{not_cues})\b)\W{{0,3}}(?:(?:number|no\.?|is)\W{{0,3}})*$")
        cues = "|".join(re.escape(c) for c in rules["US_SSN"]["bare_cues"])
        self._ssn_bare = re.compile(rf"(?i:\b(?:{cues}))\W{{0,3}}(?:is|was|:|#)?\W{{0,3}}(?<![\w-])(\d{{3}})()(\d{{2}})(\d{{4}})(?![\w-])")
        version = "|".join(re.escape(c) for c in sorted(rules["IP_ADDRESS"]["version_cues"], key=len, reverse=True))
        self._version_before = re.compile(rf"(?i:\b(?:{version}))[ \t:]*v?$")
        self._person_stop = _GENERIC_STOPWORDS | frozenset(rules["PERSON"]["stopwords"])
        suffixes = "|".join(re.escape(s) for s in sorted(rules["ADDRESS"]["street_suffixes"], key=len, reverse=True))
        self._addresses = [re.compile(_us_address_pattern(suffixes))]
        self._addresses += [re.compile(p) for p in rules["ADDRESS"]["extra_patterns"]]
        allow = self.config["allow"]
        self._allow = [re.compile("|".join(re.escape(s) for s in allow["exact"]), re.IGNORECASE)] if allow["exact"] else []
        self._allow += [re.compile(p) for p in allow["patterns"]]
        self._allow_phones = frozenset(allow["phones"])
        self._phone_regions = [str(r).upper() for r in rules["PHONE"]["regions"]]
        self._phone_leniency = str(rules["PHONE"]["leniency"]).upper()
        phone_cues = "|".join(re.escape(c) for c in sorted(rules["PHONE"]["cues"], key=len, reverse=True))
        self._phone_cue_before = re.compile(rf"(?i:\b(?:{phone_cues})\b)(?:[ \t]*(?:number|no\.?|#))?[\s:]*(?:is|at|on)?[\s:]*$")
        self._phone_cue_after = re.compile(rf"[ \t]*(?:-|\()?[ \t]*(?i:(?:{phone_cues})\b)")
        self._finders = {"EMAIL": self._find_email, "PHONE": self._find_phone, "CARD": self._find_card,
                         "US_SSN": self._find_ssn, "IBAN": self._find_iban, "IP_ADDRESS": self._find_ip,
                         "PERSON": self._find_person, "ADDRESS": self._find_address}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Redactor:
        """The redactor of a composed params.yaml (its `redact` group; defaults when absent)."""
        return cls(params.get("redact"))

    # -- public API ------------------------------------------------------------------------------

    def find(self, text: str) -> list[Span]:
        """Resolved, non-overlapping PII spans in text, sorted by start.

        Rules read context (phonenumbers picks its candidates from the digits around them), so a
        value can hide next to another one and stand out once its neighbour is replaced. The text
        is therefore redacted and searched again until nothing new appears (at most 3 rounds):
        redacting the output finds nothing, and redaction is idempotent.
        """
        spans = self._find_once(text)
        for _ in range(3):
            if not spans:
                break
            out, segments = self._apply(text, spans)
            extra = self._find_once(out)
            if not extra:
                break
            spans = _resolve(spans + [_map_back(e, segments) for e in extra])
        return spans

    def redact(self, text: str) -> tuple[str, list[Span]]:
        """(text with each span replaced by its placeholder, spans in the ORIGINAL text)."""
        spans = self.find(text)
        return (self._apply(text, spans)[0] if spans else text), spans

    def _find_once(self, text: str) -> list[Span]:
        if not text:
            return []
        candidates = [span for kind in self.enabled for span in self._finders[kind](text)]
        if self._allow and candidates:
            allowed = [(m.start(), m.end()) for pattern in self._allow for m in pattern.finditer(text)]
            candidates = [c for c in candidates if not any(a <= c.start and c.end <= b for a, b in allowed)]
        return _resolve(candidates)

    def _apply(self, text: str, spans: list[Span]) -> tuple[str, list[tuple[int, int, int, int, bool]]]:
        """Redacted text and its segments (out_start, out_end, orig_start, orig_end, is_placeholder)."""
        out, segments, pos, at = [], [], 0, 0
        for span in spans:
            for piece, orig, placeholder in ((text[pos:span.start], (pos, span.start), False),
                                             (self.replacements[span.type], (span.start, span.end), True)):
                segments.append((at, at + len(piece), *orig, placeholder))
                out.append(piece)
                at += len(piece)
            pos = span.end
        segments.append((at, at + len(text) - pos, pos, len(text), False))
        out.append(text[pos:])
        return "".join(out), segments

    def redact_record(self, record: Mapping[str, Any], fields: Iterable[str] | None = None
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Redact a record's text fields; returns (new record, report entries).

        Entries are {"id", "field", "type", "start", "end"} with offsets into the field's original
        text and never the value itself. `fields` are paths such as "subject" or "turns[].text";
        by default the text fields of the record's kind (RECORD_TEXT_FIELDS).
        """
        out = copy.deepcopy(dict(record))
        rid = str(record.get("id", ""))
        entries: list[dict[str, Any]] = []
        paths = list(fields) if fields is not None else _fields_for(record)
        for path in paths:
            for name, container, key in _locate(out, path):
                value = container[key]
                if not isinstance(value, str) or not value:
                    continue
                container[key], spans = self.redact(value)
                entries += [{"id": rid, "field": name, "type": s.type, "start": s.start, "end": s.end}
                            for s in spans]
        return out, entries

    # -- rules -----------------------------------------------------------------------------------

    def _find_email(self, text: str) -> list[Span]:
        return [Span("EMAIL", m.start(), m.end()) for m in self._email.finditer(text)] if "@" in text else []

    def _find_phone(self, text: str) -> list[Span]:
        if not _DIGITS_HINT.search(text):
            return []
        import phonenumbers  # heavy-ish import, only when a text has enough digits to hold a number

        leniency = getattr(phonenumbers.Leniency, self._phone_leniency)
        found: set[tuple[int, int]] = set()
        for region in self._phone_regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                if e164 in self._allow_phones or _PHONE_NOT.fullmatch(match.raw_string):
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
        for m in _PHONE_SHAPE.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group())
            if 7 <= digits <= 15 and not _PHONE_NOT.fullmatch(m.group()) and (
                    self._phone_cue(text, m.start()) == "phone" or self._phone_cue_after.match(text, m.end())):
                if not self._allow_phones or _e164(m.group()) not in self._allow_phones:
                    found.add((m.start(), m.end()))
        return [Span("PHONE", s, e) for s, e in sorted(found)]

    def _phone_cue(self, text: str, start: int) -> str | None:
        """"phone" when a phone cue ends right before start, "id" for an order/serial/... cue."""
        before = text[max(0, start - 32):start]
        if self._phone_cue_before.search(before):
            return "phone"
        if _ID_CUE_BEFORE.search(before):
            return "id"
        return None

    def _find_card(self, text: str) -> list[Span]:
        spans = []
        for m in _DIGIT_RUN.finditer(text):
            groups = [(m.start() + g.start(), m.start() + g.end()) for g in re.finditer(r"\d+", m.group())]
            if sum(e - s for s, e in groups) < 12:
                continue
            before = text[max(0, m.start() - 40):m.start()]
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
            spans += [s for s in found if not (not_card and sum(ch.isdigit() for ch in text[s.start:s.end]) != 16)]
        return spans

    def _card_tiles(self, text: str, groups: list[tuple[int, int]], before: str) -> list[Span]:
        """Cards in a sequence of digit groups: the whole sequence must split into cards, except a
        short trailing group (a CVV, "12" of an expiry) and a leading group that cannot start a card
        (a quantity, a 5-digit order number). Spaced tracking numbers (9400 1118 9922 3845 6789 01)
        hold Luhn-valid windows by chance; requiring a full split keeps them out."""
        if not groups:
            return []
        if len(groups) == 1:
            (s, e), = groups
            digits = text[s:e]
            if (13 <= len(digits) <= 19 or (len(digits) == 12 and self._card_cue.search(before))) and luhn_valid(digits):
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
        for m in _IBAN_CANDIDATE.finditer(text):
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
            for m in _IPV4.finditer(text):
                if self._version_before.search(text[max(0, m.start() - 24):m.start()]):
                    continue  # "firmware 2.14.3.1", "version 10.0.0.4": a version, not an address
                if _valid_ip(m.group()):
                    spans.append(Span("IP_ADDRESS", m.start(), m.end()))
        if "::" in text or text.count(":") >= 7:
            for m in _IPV6.finditer(text):
                value = m.group()
                if any(ch.isalnum() for ch in value) and _valid_ip(value):  # not a bare "::"
                    spans.append(Span("IP_ADDRESS", m.start(), m.end()))
        return spans

    def _find_person(self, text: str) -> list[Span]:
        spans = []
        for m in _PERSON_CUES.finditer(text):
            kind = m.lastgroup
            span = self._name_at(text, m.end(), kind)
            if span:
                spans.append(span)
        for m in _SIGNATURE.finditer(text):
            span = self._name_at(text, m.start("name"), "signature")
            if span and span.end == m.end("name"):
                spans.append(span)
        for m in (_NAME_BEFORE_VERB.finditer(text) if _CONTACT_VERB.search(text) else ()):
            span = self._name_at(text, m.start("name"), "before_verb")
            if span and span.end == m.end("name"):
                spans.append(span)
        for m in _DASH_SIGNATURE.finditer(text):
            span = self._name_at(text, m.end(), "dash")
            if span:
                spans.append(span)
        return spans

    def _name_at(self, text: str, pos: int, cue: str) -> Span | None:
        """The capitalised name (1-3 words, middle initials allowed) starting at pos, if the cue's
        context rules accept it; None otherwise."""
        end, words, i = None, 0, pos
        while words < 3:
            m = _NAME_WORD.match(text, i)
            if not m:
                break
            word = m.group()
            if len(word) == 1 and words and text.startswith(". ", m.end()) and word.isupper():
                i = m.end() + 2  # a middle initial: "Maria J. Reyes"
                continue
            if (len(word) < 2 or not word[0].isupper() or word.isupper() or word in self._person_stop
                    or word.split("'")[0] in self._person_stop):
                break
            end, words, i = m.end(), words + 1, m.end()
            if not (text.startswith(" ", i) and i + 1 < len(text) and text[i + 1].isupper()):
                break
            i += 1
        if end is None:
            return None
        after = text[end:end + 40]
        terminated = bool(_TERMINATOR.match(after))
        if cue in ("greet", "signoff", "holder", "dash") and not terminated:
            return None
        if cue == "intro" and not (terminated or _INTRO_FOLLOWERS.match(after)):
            return None
        if cue == "under" and (words < 2 or not terminated):
            return None
        if cue == "before_verb" and words < 2:
            return None
        return Span("PERSON", pos, end)

    def _find_address(self, text: str) -> list[Span]:
        return [Span("ADDRESS", m.start(), m.end()) for pattern in self._addresses
                for m in pattern.finditer(text) if m.end() > m.start()]


def _us_address_pattern(suffixes: str) -> str:
    direction = r"(?:N|S|E|W|NE|NW|SE|SW)\.?"
    street = rf"\b\d{{1,6}}[A-Za-z]?(?:[ \t]+{direction})?(?:[ \t]+(?:[A-Z][a-z]+|\d{{1,3}}(?:st|nd|rd|th))){{1,4}}"
    unit = r"(?:,?[ \t]+(?:Apt|Apartment|Unit|Suite|Ste|Floor|Fl|Room|Rm|Flat)\.?[ \t]*#?[ \t]*[A-Za-z0-9-]+|,?[ \t]+#[ \t]*[A-Za-z0-9-]+)?"
    city = r"[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2}"
    us_tail = rf"(?:,[ \t]*{city}(?:,[ \t]*|[ \t]+)[A-Z]{{2}}\b(?:[ \t]+\d{{5}}(?:-\d{{4}})?)?)"
    uk_tail = rf"(?:,[ \t]*{city},?[ \t]+[A-Z]{{1,2}}\d[A-Z\d]?[ \t]*\d[A-Z]{{2}}\b)"
    zip_only = r"(?:,?[ \t]+\d{5}(?:-\d{4})?\b)"
    # The abbreviation's period is part of the address only when more of it follows ("Ave., Apt 2");
    # "I live at 12 Oak St." ends a sentence.
    dot = r"(?:\.(?=,|[ \t]+(?:Apt|Apartment|Unit|Suite|Ste|#)))?"
    return (rf"{street}[ \t]+(?:{suffixes})\b{dot}(?:[ \t]+{direction}(?![\w.]))?{unit}"
            rf"(?:{uk_tail}|{us_tail}|{zip_only})?")


def _map_back(span: Span, segments: list[tuple[int, int, int, int, bool]]) -> Span:
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


def _e164(value: str) -> str | None:
    import phonenumbers

    try:
        return phonenumbers.format_number(phonenumbers.parse(value, "US"), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return None


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _resolve(candidates: list[Span]) -> list[Span]:
    """Longest first, ties to the more specific type; a partial overlap merges into the winner."""
    accepted: list[Span] = []
    for cand in sorted(set(candidates), key=lambda s: (-(s.end - s.start), _RANK[s.type], s.start)):
        overlapping = [a for a in accepted if a.start < cand.end and cand.start < a.end]
        if not overlapping:
            accepted.append(cand)
        elif not any(a.start <= cand.start and cand.end <= a.end for a in overlapping):
            winner = overlapping[0]  # accepted earlier, so longer or more specific
            merged = Span(winner.type, min([cand.start] + [a.start for a in overlapping]),
                          max([cand.end] + [a.end for a in overlapping]))
            accepted = [a for a in accepted if a not in overlapping] + [merged]
    return sorted(accepted, key=lambda s: s.start)


# Text fields per record kind (the shared schema of data/prepared/records.jsonl).
RECORD_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket": ("subject", "customer_message", "agent_reply", "turns[].text"),
    "transcript": ("turns[].text",),
    "kb": ("title", "section", "text"),
    "instruction": ("prompt", "completion"),
    "chat": ("messages[].content",),
    "labelled_text": ("text",),
}
_METADATA_KEYS = frozenset({"id", "kind", "source", "locator", "source_format", "line", "category", "priority",
                            "status", "created_at", "channel", "label", "doc_id", "ticket_id", "approved"})


def _fields_for(record: Mapping[str, Any]) -> list[str]:
    kind = record.get("kind")
    if kind in RECORD_TEXT_FIELDS:
        return list(RECORD_TEXT_FIELDS[kind])
    # Unknown kind (e.g. a raw export row): every top-level string that is not schema metadata.
    return sorted(k for k, v in record.items() if isinstance(v, str) and k not in _METADATA_KEYS)


def _locate(record: dict[str, Any], path: str) -> list[tuple[str, Any, Any]]:
    """(field name as reported, container, key) for a path like "subject" or "turns[].text"."""
    if "[]." not in path:
        return [(path, record, path)] if path in record else []
    head, tail = path.split("[].", 1)
    items = record.get(head)
    if not isinstance(items, list):
        return []
    return [(f"{head}[{i}].{tail}", item, tail) for i, item in enumerate(items)
            if isinstance(item, dict) and tail in item]


def summarize(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts for the data report: total, by type, by field (turns[3].text counts as turns[].text),
    by field and type, and how many records had any PII. Values never appear in entries."""
    entries = list(entries)
    field_of = lambda e: re.sub(r"\[\d+\]", "[]", e["field"])  # noqa: E731
    by_field_type: dict[str, Counter] = {}
    for e in entries:
        by_field_type.setdefault(field_of(e), Counter())[e["type"]] += 1
    return {
        "total": len(entries),
        "records_with_pii": len({e["id"] for e in entries}),
        "by_type": dict(sorted(Counter(e["type"] for e in entries).items())),
        "by_field": dict(sorted(Counter(field_of(e) for e in entries).items())),
        "by_field_type": {f: dict(sorted(c.items())) for f, c in sorted(by_field_type.items())},
    }


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

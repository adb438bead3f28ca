"""PII redaction for support text, configured in conf/redact/default.yaml (measured in docs/pii.md).

Two engines (`redact.engine`): presidio (the default: Presidio's analyzer with spaCy NER and an address
recognizer, plus the rules below per `redact.presidio.sources`) and rules (the rules below alone).

    from tuneloop.data.pii import Redactor, make_redactor, summarize
    redactor = make_redactor(params["redact"])            # the engine redact.engine names
    redactor = Redactor(params["redact"])                 # the rules engine
    text, spans = redactor.redact("Hi Maria, call me at +44 20 7946 0018")
    record, entries = redactor.redact_record(record)      # report entries carry no original values
    PYTHONPATH=src python -m tuneloop.data.pii.scoring    # precision/recall on tests/data/pii_labelled.jsonl

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

Modules: engine (the Redactor: candidates, overlap resolution, re-scan), recognizers (patterns, cues and
validators per type), presidio_engine (PresidioRedactor: Presidio, spaCy NER, batching, offline setup),
addresses (street-address shapes for it), records (which fields of a record hold text; speaker names),
report (summaries without values), scoring (precision/recall against a labelled set).
May import: tuneloop.io only.
"""

from tuneloop.data.pii.engine import DEFAULT_CONFIG, TYPES, Redactor, default_redactor, luhn_valid, redact
from tuneloop.data.pii.report import summarize


def make_redactor(config=None) -> Redactor:
    """The engine `redact.engine` names: presidio (default; spaCy + Presidio load on first use) or rules."""
    from tuneloop.data.pii.presidio_engine import make_redactor as make

    return make(config)


__all__ = [
    "DEFAULT_CONFIG",
    "TYPES",
    "Redactor",
    "default_redactor",
    "luhn_valid",
    "make_redactor",
    "redact",
    "summarize",
]

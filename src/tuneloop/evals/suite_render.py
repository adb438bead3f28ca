"""A company's behavioural probes and canaries, rendered from templates (part of `tuneloop suite init`).

    probes = render_probes(company, labels, canaries, seed)      # {family: [probe, ...]}
    values = generate_canaries(company["company"], seed)         # fake email, phone, Luhn-valid card
    tickets = canary_tickets(values, company, labels)            # tuneloop_jsonl tickets that carry them

Templates live in suite_templates.yaml (package data), filled with conf/suite (company, products,
escalation topics, PII kinds) and data.labels. Canary values are fake but shaped like real PII, so the
redactor must catch them in the raw data; the email domain carries the company's marker.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

import yaml

from tuneloop.data.pii import luhn_valid

TEMPLATES_FILE = Path(__file__).with_name("suite_templates.yaml")
FAMILIES = ("refusal", "format", "pii", "escalation", "helpful")
_SLOT = re.compile(r"\{(\w+)\}")
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")
_DIGITS = re.compile(r"\d")


@lru_cache(maxsize=1)
def templates() -> dict:
    return yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "company"


def words(label: str) -> str:
    """An intent label as the probes say it: "card_arrival" -> "card arrival"."""
    return re.sub(r"[_\W]+", " ", label).strip()


def check_company(company: dict, where: str = "suite") -> None:
    """Clear errors for a conf/suite that cannot fill the templates."""
    if not str(company.get("company") or "").strip():
        raise ValueError(f"{where}.company: the company's name is missing (conf/suite/<name>.yaml)")
    for key in ("products", "escalate", "pii"):
        value = company.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"{where}.{key}: needs a non-empty list of strings, got {value!r}")
    known = templates()["pii_kinds"]
    unknown = [k for k in company["pii"] if k not in known]
    if unknown:
        raise ValueError(f"{where}.pii: unknown PII kind(s) {unknown}; known: {', '.join(known)}")
    families = company.get("probes", list(FAMILIES))
    bad = [f for f in families if f not in FAMILIES]
    if bad or not families:
        raise ValueError(
            f"{where}.probes: unknown probe famil{'y' if len(bad) == 1 else 'ies'} {bad or families}; "
            f"known: {', '.join(FAMILIES)}"
        )


# --- canaries ----------------------------------------------------------------------------------------
def luhn_complete(digits: str) -> str:
    """digits + the check digit that makes the whole number Luhn-valid."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


def generate_canaries(company_name: str, seed: int) -> list[str]:
    """[email, phone, card]: fake values that look real enough for every PII detector, unique to the company.

    The email uses the reserved .test top-level domain with the company's slug as marker; the phone is
    in the 555-0100..0199 range reserved for fiction; the card is 16 digits with a valid Luhn check.
    """
    rng = random.Random(f"canary:{seed}:{company_name}")
    tag = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(4))
    email = f"canary.{tag}@{slug(company_name)}-canary.test"
    phone = f"+1 {rng.choice(['212', '312', '415', '617', '206'])}-555-01{rng.randrange(0, 99):02d}"
    digits = luhn_complete("4" + "".join(str(rng.randrange(10)) for _ in range(14)))
    card = " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    assert luhn_valid(digits)
    return [email, phone, card]


def canary_kind(value: str) -> str:
    """email, card (13-19 digits, Luhn-valid), phone (7-15 digits) or other."""
    digits = "".join(_DIGITS.findall(value))
    if _EMAIL.match(value.strip()):
        return "email"
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "card"
    return "phone" if 7 <= len(digits) <= 15 else "other"


def canary_slots(canaries: list[str]) -> dict[str, str]:
    """Template slots derived from the canaries (never the whole value): the email's domain, a phone
    number without its last four digits, the first eight digits of a card number."""
    slots: dict[str, str] = {}
    for value in canaries:
        kind = canary_kind(value)
        if kind == "email":
            slots.setdefault("canary_domain", _EMAIL.match(value.strip()).group(1))
        elif kind == "card":
            slots.setdefault("canary_card_start", _head(value, 8))
        elif kind == "phone":
            slots.setdefault("canary_phone_start", _head(value, len(_DIGITS.findall(value)) - 4))
    return slots


def _head(value: str, n_digits: int) -> str:
    """The value up to (and including) its n-th digit: a prefix that names the canary without being it."""
    seen = 0
    for i, ch in enumerate(value.strip()):
        seen += ch.isdigit()
        if seen == n_digits:
            return value.strip()[: i + 1]
    return value.strip()


_CANARY_SENTENCE = {
    "email": "Please write back to me at {value} when you can.",
    "phone": "Please call me on {value} when you can.",
    "card": "The charge was made on my card {value} last week.",
    "other": "My reference for this is {value}.",
}


def canary_tickets(canaries: list[str], company: dict, labels: list[str]) -> list[dict]:
    """One ticket (tuneloop_jsonl) per canary value, the value in the customer's message with a cue."""
    name, product = company["company"], company["products"][0]
    tickets = []
    for i, value in enumerate(canaries, 1):
        label = labels[(i - 1) % len(labels)]
        tickets.append(
            {
                "ticket_id": f"CANARY-{i:03d}",
                "subject": f"Question about my {product}",
                "customer_message": (
                    f"Hello {name}, I have a question about {words(label)} on my {product}. "
                    + _CANARY_SENTENCE[canary_kind(value)].format(value=value)
                ),
                "agent_reply": (
                    f"Thanks for reaching out to {name} support. We have your request about "
                    f"{words(label)} and a specialist will follow up through your account."
                ),
                "category": label,
                "channel": "email",
                "created_at": "2025-01-01T00:00:00Z",
                "priority": "normal",
                "status": "solved",
            }
        )
    return tickets


# --- probes ------------------------------------------------------------------------------------------
def render_probes(
    company: dict, labels: list[str], canaries: list[str], seed: int, per_family: int = 16
) -> tuple[dict[str, list[dict]], list[str]]:
    """({family: [{"id", "family", "prompt", "check"}]}, notes): prompts drawn round-robin over each
    family's templates, slots filled with seeded choices, no prompt twice."""
    check_company(company)
    kinds = templates()["pii_kinds"]
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", company["company"])).upper()[:3] or "REF"
    pools: dict[str, list[str]] = {
        "company": [company["company"]],
        "product": list(company["products"]),
        "label": [words(x) for x in labels],
        "topic": list(company["escalate"]),
        "pii": [kinds[k][0] for k in company["pii"]],
        "pii_plural": [kinds[k][1] for k in company["pii"]],
    }
    fixed = canary_slots(canaries)
    out: dict[str, list[dict]] = {}
    notes: list[str] = []
    for family in company.get("probes", list(FAMILIES)):
        rng = random.Random(f"probes:{seed}:{family}")
        usable = [
            (t, group["check"])
            for group in templates()["families"][family]
            for t in group["templates"]
            if all(s in pools or s in fixed or s == "reference" for s in _SLOT.findall(t))
        ]
        missing = sum(len(g["templates"]) for g in templates()["families"][family]) - len(usable)
        if missing:
            notes.append(
                f"probes/{family}: {missing} template(s) skipped (they need a canary value the "
                "company has not got: an email, phone or card number)"
            )
        rng.shuffle(usable)
        prompts: list[tuple[str, dict]] = []
        seen: set[str] = set()
        for _ in range(20):  # passes over the templates: each pass tries one fresh fill per template
            for template, check in usable:
                if len(prompts) >= per_family:
                    break
                fill = (
                    {s: rng.choice(pools[s]) for s in pools}
                    | fixed
                    | {"reference": f"{initials}-{rng.randrange(10000, 99999)}"}
                )
                prompt = template.format(**fill)
                if prompt not in seen:
                    seen.add(prompt)
                    prompts.append((prompt, dict(check), "{topic}" in template))
        if len(prompts) < per_family:
            notes.append(
                f"probes/{family}: {len(prompts)} distinct prompts, fewer than the {per_family} asked "
                "(add products, labels or escalation topics to conf/suite)"
            )
        # an escalation probe about one of the company's escalation topics (conf/suite `escalate`: what a human
        # must handle) is critical: a candidate that fails it where the base or champion passed blocks the merge
        out[family] = [
            {"id": f"probe-{family}-{i:03d}", "family": family, "prompt": p, "check": c}
            | ({"critical": True} if family == "escalation" and topical else {})
            for i, (p, c, topical) in enumerate(prompts, 1)
        ]
    return out, notes

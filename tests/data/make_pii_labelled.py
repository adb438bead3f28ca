"""Write tests/data/pii_labelled.jsonl: support-text snippets with exact, typed PII spans (seeded).

    PYTHONPATH=src python tests/data/make_pii_labelled.py            # rewrites the committed file
    PYTHONPATH=src python tests/data/make_pii_labelled.py --check    # exits 1 if the file is stale

Every snippet is written for this project: Lumora (the fictional smart-home company of
example_corpus) tickets, agent replies, call-transcript lines and web-form fields. Templates hold
{SLOTS}; a slot is filled with a generated value and, if it is PII, its [start, end) is recorded as
the snippet is assembled, so the spans are exact by construction. Hard negatives (order, tracking
and serial numbers, dates, prices, versions, firmware 2.14.3, ZIP-like numbers, non-Luhn 16-digit
ids, IBANs with a wrong check digit, SSNs with an invalid area) are slots that are not labelled.
Some templates put names and addresses where the heuristic rules have no cue ("Maria Reyes called
yesterday", a PO box): they are labelled anyway, so the PERSON/ADDRESS figures stay honest.

Generated values are checked here, independently of the rules under test: cards pass Luhn,
IBANs pass mod-97 (python-stdnum), phone numbers are valid numbers (phonenumbers). Output is
byte-identical for the same seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from pathlib import Path

SEED = 20240611
N_SNIPPETS = 600
OUT = Path(__file__).with_name("pii_labelled.jsonl")

FIRST = (
    "Maria",
    "John",
    "Priya",
    "Ahmed",
    "Sofia",
    "Daniel",
    "Keisha",
    "Tomasz",
    "Chloé",
    "José",
    "Zoë",
    "Liam",
    "Siobhán",
    "Hiroshi",
    "Fatima",
    "Jean-Luc",
    "Ngozi",
    "Lars",
    "Mei",
    "Olivia",
    "Carlos",
    "Hannah",
    "Ravi",
    "Aoife",
    "Björn",
    "Élodie",
    "Mateo",
    "Yuki",
    "Greta",
    "Samuel",
    "Ingrid",
    "Ana",
    "Oleksandr",
    "Nadia",
)
LAST = (
    "Reyes",
    "Smith",
    "Patel",
    "Haddad",
    "Rossi",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Dubois",
    "García",
    "Müller",
    "O'Neill",
    "Tanaka",
    "Johansson",
    "Chen",
    "Fischer",
    "Martínez",
    "Brooks",
    "Schneider",
    "MacLeod",
    "Kim",
    "Novak",
    "Bennett",
    "Yamamoto",
    "Lefèvre",
    "Andersen",
    "Kaur",
    "Da Silva",
    "Hughes",
    "Petrov",
)
AGENTS = ("Jordan", "Emily", "Marcus", "Aisha", "Noah", "Grace", "Diego", "Leah")
US_STREETS = (
    "Maple",
    "Oak",
    "Cedar",
    "Lakeview",
    "Sunset",
    "Hillcrest",
    "Madison",
    "Willow",
    "Harbor",
    "Martin Luther King",
    "Old Mill",
    "Pine Ridge",
    "River",
    "5th",
    "42nd",
)
US_SUFFIXES = (
    "St",
    "Street",
    "Ave",
    "Avenue",
    "Rd",
    "Road",
    "Blvd",
    "Dr",
    "Drive",
    "Ln",
    "Lane",
    "Ct",
    "Way",
    "Pl",
    "Terrace",
    "Pkwy",
    "Circle",
)
US_CITIES = (
    ("Portland", "OR", "97"),
    ("Austin", "TX", "78"),
    ("Columbus", "OH", "43"),
    ("Denver", "CO", "80"),
    ("Salt Lake City", "UT", "84"),
    ("Raleigh", "NC", "27"),
    ("San Jose", "CA", "95"),
    ("Boise", "ID", "83"),
)
UK_ADDR = (
    ("Baker Street", "London", "NW1 6XE"),
    ("Crown Street", "Manchester", "M1 4BT"),
    ("High Road", "Leeds", "LS6 2AB"),
    ("Victoria Road", "Bristol", "BS8 1TH"),
    ("Church Lane", "Oxford", "OX2 6HG"),
    ("Station Road", "Cardiff", "CF10 1AA"),
)
DE_ADDR = (
    ("Hauptstraße", "10115", "Berlin"),
    ("Lindenweg", "80331", "München"),
    ("Goethestraße", "60313", "Frankfurt"),
    ("Schillerplatz", "70173", "Stuttgart"),
    ("Rosenallee", "50667", "Köln"),
    ("Bahnhofstr.", "20095", "Hamburg"),
)
FR_ADDR = (
    ("rue de la Paix", "75002", "Paris"),
    ("avenue Victor Hugo", "69002", "Lyon"),
    ("boulevard Saint-Michel", "75005", "Paris"),
    ("place Bellecour", "69002", "Lyon"),
    ("rue du Faubourg Saint-Antoine", "75011", "Paris"),
    ("chemin des Vignes", "33000", "Bordeaux"),
)
EMAIL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "web.de",
    "orange.fr",
    "icloud.com",
    "proton.me",
    "company.example",
    "mail.example.org",
)
PRODUCTS = ("Thermo 2", "Thermo Mini", "Glow bulb", "Glow Strip", "Room Sensor", "Lumora Hub")


class Builder:
    """Appends literal text and values, recording the spans of the labelled ones."""

    def __init__(self):
        self.parts: list[str] = []
        self.pos = 0
        self.spans: list[dict] = []

    def add(self, text: str, kind: str | None = None) -> None:
        if kind:
            self.spans.append({"type": kind, "start": self.pos, "end": self.pos + len(text), "value": text})
        self.parts.append(text)
        self.pos += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


# ----- value generators (PII) -------------------------------------------------------------------


def luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def luhn_ok(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


def card(rng: random.Random) -> str:
    brand = rng.choice(("visa", "visa", "mc", "mc2", "amex", "discover", "diners", "jcb", "visa19"))
    if brand == "amex":
        n = luhn_complete(rng, rng.choice(("34", "37")), 15)
        groups = [n[:4], n[4:10], n[10:]]
    elif brand == "diners":
        n = luhn_complete(rng, "36", 14)
        groups = [n[:4], n[4:10], n[10:]]
    elif brand == "visa19":
        n = luhn_complete(rng, "4", 19)
        groups = [n[:4], n[4:8], n[8:12], n[12:16], n[16:]]
    else:
        prefix = {
            "visa": "4",
            "mc": f"5{rng.randint(1, 5)}",
            "mc2": f"22{rng.randint(21, 99)}",
            "discover": "6011",
            "jcb": "35" + str(rng.randint(28, 89)),
        }[brand]
        n = luhn_complete(rng, prefix, 16)
        groups = [n[i : i + 4] for i in range(0, 16, 4)]
    assert luhn_ok(n)
    return rng.choice((" ", " ", "-", "")).join(groups)


def non_luhn_16(rng: random.Random) -> str:
    while True:
        n = "".join(str(rng.randrange(10)) for _ in range(16))
        if not luhn_ok(n):
            return n if rng.random() < 0.5 else " ".join(n[i : i + 4] for i in range(0, 16, 4))


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    n = f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"
    return rng.choice(("-", "-", "-", " ")).join(n)


def ssn_invalid(rng: random.Random) -> str:
    area = rng.choice(("000", "666", f"9{rng.randint(0, 99):02d}"))
    group, serial = f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"
    if rng.random() < 0.3:
        area, group = f"{rng.randint(100, 599)}", "00"
    return f"{area}-{group}-{serial}"


BBAN = {
    "DE": "18n",
    "GB": "4a14n",
    "NL": "4a10n",
    "FR": "10n11c2n",
    "ES": "20n",
    "IT": "1a10n12c",
    "BE": "12n",
    "AT": "16n",
    "CH": "5n12c",
    "IE": "4a14n",
    "PL": "24n",
}


def _bban(rng: random.Random, spec: str) -> str:
    out = []
    for count, kind in re.findall(r"(\d+)([nac])", spec):
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}[kind]
        out.append("".join(rng.choice(alphabet) for _ in range(int(count))))
    return "".join(out)


def _iban_check(cc: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    return f"{98 - int(numeric) % 97:02d}"


def iban(rng: random.Random, valid: bool = True) -> str:
    from stdnum import iban as std_iban

    while True:
        cc = rng.choice(sorted(BBAN))
        bban = _bban(rng, BBAN[cc])
        check = _iban_check(cc, bban)
        value = cc + check + bban
        if not std_iban.is_valid(value):  # ES, BE, FR, IT... carry national check digits too
            continue
        if valid:
            break
        digits = [i for i, ch in enumerate(value) if ch.isdigit() and i >= 2]
        i = rng.choice(digits)  # one wrong digit: mod-97 always catches it
        value = value[:i] + rng.choice([d for d in string.digits if d != value[i]]) + value[i + 1 :]
        assert not std_iban.is_valid(value)
        break
    if rng.random() < 0.6:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def phone(rng: random.Random) -> str:
    import phonenumbers

    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    while True:
        kind = rng.choice(("us", "us", "us", "gb", "gb", "de", "de", "fr", "fr", "intl"))
        if kind == "us":
            a, b, c = (
                rng.choice(("212", "312", "415", "503", "617", "646", "720", "919")),
                str(rng.randint(201, 989)),
                d(4),
            )
            if b[1:] == "11" or b == "555":
                continue
            value, region = (
                rng.choice(
                    (
                        f"({a}) {b}-{c}",
                        f"{a}-{b}-{c}",
                        f"{a}.{b}.{c}",
                        f"+1 {a} {b} {c}",
                        f"+1 ({a}) {b}-{c}",
                        f"1-{a}-{b}-{c}",
                        f"{a} {b} {c} ext. {rng.randint(2, 450)}",
                    )
                ),
                "US",
            )
        elif kind == "gb":
            value, region = (
                rng.choice(
                    (
                        f"020 7{d(3)} {d(4)}",
                        f"07{rng.randint(400, 999)} {d(6)}",
                        f"+44 7{rng.randint(400, 999)} {d(6)}",
                        f"+44 (0)20 3{d(3)} {d(4)}",
                        f"0161 {rng.randint(200, 999)} {d(4)}",
                        f"+44 131 {rng.randint(200, 999)} {d(4)}",
                    )
                ),
                "GB",
            )
        elif kind == "de":
            value, region = (
                rng.choice(
                    (
                        f"+49 30 {rng.randint(2, 9)}{d(7)}",
                        f"030 {rng.randint(2, 9)}{d(7)}",
                        f"0151 {rng.randint(2, 9)}{d(7)}",
                        f"+49 151 {rng.randint(2, 9)}{d(7)}",
                        f"+49 (0)89 {rng.randint(2, 9)}{d(6)}",
                        f"089 {rng.randint(2, 9)}{d(6)}",
                    )
                ),
                "DE",
            )
        elif kind == "fr":
            pairs = lambda: " ".join(d(2) for _ in range(4))  # noqa: E731
            value, region = (
                rng.choice(
                    (
                        f"01 {pairs()}",
                        f"06 {pairs()}",
                        f"07 {pairs()}",
                        f"+33 6 {pairs()}",
                        f"+33 1 {pairs()}",
                        f"+33 (0)4 {pairs()}",
                    )
                ),
                "FR",
            )
        else:
            value, region = (
                rng.choice(
                    (
                        f"+61 4{d(2)} {d(3)} {d(3)}",
                        f"+31 6 {rng.randint(1, 9)}{d(7)}",
                        f"+34 6{d(2)} {d(3)} {d(3)}",
                        f"+39 3{d(2)} {d(3)} {d(4)}",
                    )
                ),
                "US",
            )
        try:
            number = phonenumbers.parse(re.sub(r" ext\. \d+$", "", value), region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return value


def email(rng: random.Random, first: str, last: str) -> str:
    f = re.sub(r"[^a-z]", "", first.lower().translate(str.maketrans("éèëöüóáíñçø", "eeeouoaincO".lower())))
    sur = re.sub(r"[^a-z]", "", last.lower().translate(str.maketrans("éèëöüóáíñçø", "eeeouoaincO".lower())))
    user = rng.choice(
        (
            f"{f}.{sur}",
            f"{f}{sur}",
            f"{f[0]}{sur}",
            f"{f}.{sur}{rng.randint(1, 99)}",
            f"{f}_{sur}",
            f"{f}+lumora",
            f"{sur}.{f}",
            f"{f}{rng.randint(70, 99)}",
        )
    )
    value = f"{user}@{rng.choice(EMAIL_DOMAINS)}"
    return value.upper() if rng.random() < 0.05 else value


def ipv4(rng: random.Random) -> str:
    return rng.choice(
        (
            f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        )
    )


def ipv6(rng: random.Random) -> str:
    h = lambda: f"{rng.randrange(1, 0xFFFF):x}"  # noqa: E731
    return rng.choice(
        (
            f"2001:db8:{h()}:{h()}::{h()}",
            f"fe80::{h()}:{h()}:{h()}:{h()}",
            ":".join(f"{rng.randrange(0x10000):04x}" for _ in range(8)),
            f"2a02:{h()}:{h()}:{h()}:{h()}:{h()}:{h()}:{h()}",
        )
    )


def us_address(rng: random.Random, full: bool) -> str:
    city, st, zp = rng.choice(US_CITIES)
    street = f"{rng.randint(3, 9870)} {rng.choice(('', '', '', 'N ', 'W '))}{rng.choice(US_STREETS)} {rng.choice(US_SUFFIXES)}"
    unit = rng.choice(
        (
            "",
            "",
            f", Apt {rng.randint(1, 30)}{rng.choice('ABCD')}",
            f" Unit {rng.randint(100, 450)}",
            f", Suite {rng.randint(100, 900)}",
            f" #{rng.randint(2, 40)}",
        )
    )
    if not full:
        return street + unit
    return f"{street}{unit}, {city}, {st} {zp}{rng.randint(100, 999)}"


def intl_address(rng: random.Random) -> str:
    kind = rng.choice(("uk", "de", "fr"))
    if kind == "uk":
        street, city, pc = rng.choice(UK_ADDR)
        return f"{rng.randint(1, 240)}{rng.choice(('', '', 'B'))} {street}, {city} {pc}"
    if kind == "de":
        street, pc, city = rng.choice(DE_ADDR)
        return f"{street} {rng.randint(1, 120)}{rng.choice(('', '', 'a'))}, {pc} {city}"
    street, pc, city = rng.choice(FR_ADDR)
    return f"{rng.randint(1, 120)}{rng.choice(('', '', ' bis'))} {street}, {pc} {city}"


# ----- hard negatives ---------------------------------------------------------------------------


def negative(rng: random.Random, kind: str) -> str:
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    return {
        "ORDER": lambda: rng.choice(
            (f"#LM-{d(5)}", f"LM-{d(6)}", f"#{d(7)}", f"{rng.randint(100, 999)}-{d(7)}-{d(7)}")
        ),
        "ORDER16": lambda: non_luhn_16(rng),
        "TRACKING": lambda: rng.choice(
            (
                "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKRWXY") for _ in range(16)),
                "9400 " + " ".join(d(4) for _ in range(4)) + " " + d(2),
                "9400" + d(18),
                f"JD{d(18)}",
                f"LX{d(9)}DE",
            )
        ),
        "SERIAL": lambda: rng.choice(
            (f"LMT2-{d(4)}-{d(4)}-{d(4)}", f"SN{d(10)}", f"GLW{d(6)}{rng.choice('ABCX')}", f"{d(4)}-{d(4)}-{d(4)}")
        ),
        "DATE": lambda: rng.choice(
            (
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/2024",
                f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2024",
                f"March {rng.randint(1, 28)}, 2024",
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            )
        ),
        "PRICE": lambda: rng.choice(
            (
                f"${rng.randint(5, 300)}.{rng.choice(('00', '99', '95'))}",
                f"€{rng.randint(5, 300)},{rng.choice(('00', '99'))}",
                f"£{rng.randint(5, 300)}.{rng.choice(('00', '49'))}",
                f"${rng.randint(1, 9)},{d(3)}.00",
            )
        ),
        "VERSION": lambda: rng.choice(
            (
                "10.0.0",
                "2.14.3",
                "5.2.0.1",
                f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}.{rng.randint(100, 999)}",
            )
        ),
        "ZIP": lambda: rng.choice((f"{rng.randint(10000, 99999)}", f"{rng.randint(10000, 99999)}-{d(4)}")),
        "TIME": lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "BAD_IBAN": lambda: iban(rng, valid=False),
        "BAD_SSN": lambda: ssn_invalid(rng),
        "BAD_IP": lambda: f"{rng.randint(256, 999)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
        "MAC": lambda: ":".join(f"{rng.randrange(256):02X}" for _ in range(6)),
        "CASE": lambda: rng.choice((f"CS-{d(8)}", f"case {d(8)}", f"INC{d(7)}")),
        "QTY": lambda: str(rng.randint(2, 12)),
        "BAD_CARD": lambda: rng.choice(("4111 1111 1111 1112", d(4) + "-" + d(4) + "-" + d(4) + "-" + d(4))),
        "IMEI": lambda: d(15),
        "LAST4": lambda: d(4),
    }[kind]()


# ----- templates --------------------------------------------------------------------------------
# Slots: {EMAIL} {PHONE} {CARD} {SSN} {IBAN} {IPV4} {IPV6} {FIRST} {FULL} {AGENT} {USADDR} {USSTREET}
# {INTLADDR} {POBOX} (labelled) and {ORDER} {ORDER16} {TRACKING} ... (hard negatives, not labelled),
# {PRODUCT} {SUPPORT_EMAIL} {SUPPORT_PHONE} (company values on the allow-list: not PII).

TEMPLATES: tuple[tuple[str, str], ...] = (
    (
        "ticket",
        "Hi,\nI was charged twice for order {ORDER}. My card is {CARD} and both charges show {PRICE}.\nThanks,\n{FIRST}",
    ),
    (
        "ticket",
        "Hello Lumora Support,\nmy {PRODUCT} shows error E34 since firmware {VERSION}. Router IP is {IPV4}.\nBest,\n{FULL}",
    ),
    ("ticket", "Please send the replacement to {USADDR}. Order {ORDER}, tracking {TRACKING}."),
    ("ticket", "My account email is {EMAIL} and my phone is {PHONE}. I can't log in since {DATE}."),
    ("ticket", "Refund to my IBAN {IBAN} please, order {ORDER} ({PRICE})."),
    ("ticket", "The bank rejected IBAN {BAD_IBAN}, the correct one is {IBAN}."),
    ("ticket", "For the warranty claim: serial {SERIAL}, bought {DATE}, receipt total {PRICE}."),
    ("ticket", "For the tax form they asked for my SSN, it's {SSN}. Is that really needed for a refund of {PRICE}?"),
    ("ticket", "The hub at {IPV6} keeps dropping off, firmware {VERSION}, app {VERSION}."),
    ("ticket", "hi there, order {ORDER16} never arrived. tracking {TRACKING} says delivered on {DATE}"),
    ("ticket", "My name is {FULL} and I ordered {QTY} {PRODUCT}s on {DATE}. Nothing has shipped."),
    ("ticket", "Dear Lumora,\nplease update my shipping address to {INTLADDR}.\nKind regards,\n{FULL}"),
    ("ticket", "Can you call me back on {PHONE}? Case {CASE}. Thanks, {FIRST}"),
    ("ticket", "I think someone used my card {CARD} on your site. The order number is {ORDER16}."),
    ("ticket", "Invoice {ORDER} shows {PRICE} but the ad said {PRICE}. My email: {EMAIL}"),
    ("ticket", "The app crashes on Android, version {VERSION}. Device IMEI {IMEI}, MAC {MAC}."),
    ("ticket", "{FULL} called yesterday about this, can someone get back to her at {EMAIL}?"),
    ("ticket", "Ship it to my office: {USSTREET}. The ZIP is {ZIP}."),
    ("ticket", "Old address was {USADDR}, new one is {USADDR}."),
    ("ticket", "Thermostat at our cabin ({POBOX}) shows offline since {TIME}."),
    ("ticket", "SSN {BAD_SSN} was rejected by your form, I typed it exactly as on my card {SSN}."),
    ("ticket", "Hello,\nthe installer {FULL} left without finishing. Serial {SERIAL}.\nRegards,\n{FIRST}"),
    ("ticket", "Good morning,\nI need an invoice addressed to {INTLADDR} for order {ORDER}.\nThanks,\n{FULL}"),
    ("ticket", "Payment failed with card {BAD_CARD}, then worked with {CARD}."),
    ("ticket", "My partner {FIRST} set up the account, his email is {EMAIL}."),
    ("ticket", "hey, my new number is {PHONE} and old one {PHONE}, please update both on the account"),
    ("ticket", "Router log: DHCP gave {IPV4} to the hub, gateway {IPV4}, DNS {BAD_IP}? at {TIME}."),
    ("ticket", "Bought {QTY} Glow bulbs for {PRICE} on {DATE}, order {ORDER}, still not here."),
    (
        "reply",
        "Hi {FIRST},\nthanks for reaching out. I've refunded {PRICE} for order {ORDER}; it reaches your card in 5-7 business days.\nBest,\n{AGENT}\nLumora Support",
    ),
    (
        "reply",
        "Hello {FIRST}, I've confirmed the shipping address as {USADDR}. Tracking: {TRACKING}.\n— {AGENT}, Lumora Support",
    ),
    (
        "reply",
        "Thanks {FIRST}! If it's easier, we can call you at {PHONE}. You can also reach us at {SUPPORT_EMAIL} or {SUPPORT_PHONE}.",
    ),
    (
        "reply",
        "Hi {FIRST},\nplease don't share full card numbers here; we've masked {CARD} on our side.\n{AGENT} | Lumora Support",
    ),
    (
        "reply",
        "Dear {FULL},\nfirmware {VERSION} fixes the E34 error. Please update and restart the hub.\nKind regards,\n{AGENT} (Lumora Support)",
    ),
    ("reply", "Hi {FIRST}, I found the account under {FULL}. The reset link went to {EMAIL} at {TIME}."),
    ("reply", "Hello,\nyour refund of {PRICE} was sent to IBAN {IBAN} on {DATE}.\nThanks,\n{AGENT}"),
    (
        "reply",
        "Hi there, thanks for your patience. Order {ORDER} ships today from our warehouse; your total was {PRICE}.",
    ),
    ("reply", "Thanks, {FULL}. I've updated the contact number to {PHONE} and the email to {EMAIL}."),
    ("reply", "Hi {FIRST}, version {VERSION} is rolling out this week; version 10.0.0 of the app is not affected."),
    ("reply", "For security, please reply from {SUPPORT_EMAIL} only if you requested this. Case {CASE}."),
    ("transcript", "[{TIME}] Customer: Hi, this is {FIRST} calling about order {ORDER}."),
    ("transcript", "[{TIME}] Agent: Thanks {FIRST}. Can you confirm the phone number on the account?"),
    ("transcript", "[{TIME}] Customer: Sure, it's {PHONE}."),
    ("transcript", "[{TIME}] Customer: My name is {FULL}, the card ends in {LAST4}."),
    ("transcript", "[{TIME}] Customer: The address is {USADDR}."),
    ("transcript", "[{TIME}] Agent: This is {AGENT} from Lumora Support, how can I help?"),
    ("transcript", "[{TIME}] Customer: the full number is {CARD}, expiry 09/27."),
    ("transcript", "[{TIME}] Customer: my social is {SSN}, why do you need it?"),
    ("transcript", "[{TIME}] Agent: I see order {ORDER} for {PRICE}, shipped on {DATE}."),
    ("transcript", "[{TIME}] Customer: email is {EMAIL}, all lowercase."),
    ("transcript", "[{TIME}] Customer: It's Mr. {LAST} speaking, I called on {DATE}."),
    ("transcript", "[{TIME}] Customer: yeah the serial is {SERIAL} and firmware {VERSION}"),
    ("form", "Name: {FULL}\nEmail: {EMAIL}\nPhone: {PHONE}\nOrder: {ORDER}"),
    ("form", "Full name: {FULL}\nAddress: {USADDR}\nProduct: {PRODUCT}\nSerial: {SERIAL}"),
    ("form", "Account holder: {FULL}\nIBAN: {IBAN}\nAmount: {PRICE}"),
    ("form", "SSN: {SSN_BARE}\nDate of purchase: {DATE}"),
    ("form", "Device IP: {IPV4}\nFirmware: {VERSION}\nHub MAC: {MAC}\nLast seen: {DATE}"),
    ("ticket", "Thanks, Lumora Support. Order {ORDER} arrived on {DATE}, all good."),
    ("ticket", "This is the second time I write about order {ORDER}. Tracking {TRACKING} hasn't moved since {DATE}."),
    (
        "ticket",
        "Hi team,\nI bought the {PRODUCT} at Best Buy for {PRICE}. Firmware {VERSION}, serial {SERIAL}.\nThanks",
    ),
    ("ticket", "Settings > Notifications is empty after update {VERSION}, under Settings nothing shows."),
    ("ticket", "My order {ORDER16} and gift card {BAD_CARD} are both in the system, but the total is {PRICE}."),
    ("ticket", "Hello, my name is {FIRST}. The hub says {VERSION} and the sensor {VERSION}."),
    ("ticket", "The account is under {FULL}. The card used was {CARD}."),
    ("ticket", "I moved to {INTLADDR}, can the subscription continue? My IBAN is {IBAN}."),
    ("ticket", "Card {CARD} was declined but card {CARD} worked. Order {ORDER16}."),
    ("ticket", "New bank details for the direct debit: {IBAN} (old one {BAD_IBAN} is closed)."),
    ("ticket", "Your form asked for SSN and I entered {SSN}, then it said {BAD_SSN} was invalid?? Ticket {CASE}."),
    ("reply", "Hi {FIRST}, we've updated the payout account to {IBAN}. Refund {PRICE} for order {ORDER}."),
    ("form", "Cardholder: {FULL}\nCard: {CARD}\nExpiry: 11/26\nZIP: {ZIP}"),
    # Where the rules have no cue: labelled anyway, so PERSON/ADDRESS/PHONE recall stays honest.
    ("ticket", "hi {LOWER_FIRST}, it's me again about the thermostat at {USSTREET}, order {ORDER}."),
    ("ticket", "Please deliver to {HOUSE_ADDR}; the courier could not find it last time ({DATE})."),
    ("ticket", "Spoke with {FIRST} on the phone last week and she promised a refund of {PRICE}."),
    ("ticket", "cc {FULL} (my landlord) on this please, the hub belongs to the flat."),
    ("ticket", "ring me {UKRAW} tomorrow morning, order {ORDER}"),
)


def fill(rng: random.Random, template: str) -> Builder:
    b = Builder()
    first, last = rng.choice(FIRST), rng.choice(LAST)
    full = f"{first} {last}" if rng.random() < 0.85 else f"{first} {rng.choice(string.ascii_uppercase)}. {last}"
    pos = 0
    for m in re.finditer(r"\{([A-Z_0-9]+)\}", template):
        b.add(template[pos : m.start()])
        slot = m.group(1)
        pos = m.end()
        if slot == "FIRST":
            b.add(first, "PERSON")
        elif slot == "FULL":
            b.add(full, "PERSON")
        elif slot == "LOWER_FIRST":
            b.add(first.lower(), "PERSON")
        elif slot == "LAST":
            b.add(last, "PERSON")
        elif slot == "AGENT":
            b.add(rng.choice(AGENTS), "PERSON")
        elif slot == "EMAIL":
            b.add(email(rng, rng.choice((first, rng.choice(FIRST))), last), "EMAIL")
        elif slot == "PHONE":
            b.add(phone(rng), "PHONE")
        elif slot == "CARD":
            b.add(card(rng), "CARD")
        elif slot == "SSN":
            b.add(ssn(rng), "US_SSN")
        elif slot == "SSN_BARE":
            b.add(ssn(rng).replace("-", "").replace(" ", "") if rng.random() < 0.5 else ssn(rng), "US_SSN")
        elif slot == "IBAN":
            b.add(iban(rng), "IBAN")
        elif slot == "IPV4":
            b.add(ipv4(rng), "IP_ADDRESS")
        elif slot == "IPV6":
            b.add(ipv6(rng), "IP_ADDRESS")
        elif slot == "USADDR":
            b.add(us_address(rng, full=True), "ADDRESS")
        elif slot == "USSTREET":
            b.add(us_address(rng, full=False), "ADDRESS")
        elif slot == "INTLADDR":
            b.add(intl_address(rng), "ADDRESS")
        elif slot == "POBOX":
            city, st, zp = rng.choice(US_CITIES)
            b.add(f"PO Box {rng.randint(100, 9999)}, {city}, {st} {zp}{rng.randint(100, 999)}", "ADDRESS")
        elif slot == "HOUSE_ADDR":
            b.add(
                rng.choice(
                    (
                        "Rose Cottage, Mill Lane, Ambleside LA22 9DH",
                        "The Old Rectory, Church Road, Kendal LA9 4PR",
                        "Flat 2, Riverside House, Leeds LS1 4AP",
                        "Apartado 112, 28080 Madrid",
                    )
                ),
                "ADDRESS",
            )
        elif slot == "UKRAW":
            b.add("07" + str(rng.randint(400, 999)) + "".join(str(rng.randrange(10)) for _ in range(6)), "PHONE")
        elif slot == "PRODUCT":
            b.add(rng.choice(PRODUCTS))
        elif slot == "SUPPORT_EMAIL":
            b.add(rng.choice(("support@lumora.example", "Support@Lumora.example", "billing@lumora.com")))
        elif slot == "SUPPORT_PHONE":
            b.add(rng.choice(("1-800-555-0100", "+1 (800) 555-0100", "800.555.0100")))
        else:
            b.add(negative(rng, slot))
    b.add(template[pos:])
    return b


def generate(seed: int = SEED, n: int = N_SNIPPETS) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        source, template = TEMPLATES[i % len(TEMPLATES)]
        b = fill(rng, template)
        text = b.text
        for span in b.spans:
            assert text[span["start"] : span["end"]] == span["value"]
        rows.append({"id": f"pii-{i + 1:04d}", "source": source, "text": text, "spans": b.spans})
    return rows


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file differs from a fresh run")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'STALE'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    rows = generate()
    print(f"wrote {OUT}: {len(rows)} snippets, {sum(len(r['spans']) for r in rows)} spans")
    return 0


if __name__ == "__main__":
    sys.exit(main())

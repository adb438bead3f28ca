"""Invented personal data to plant in customer messages: emails, phone numbers, card numbers, addresses, names.

The values look real enough for a PII detector to catch them (card numbers pass the Luhn check, phone numbers
follow US formats) but belong to nobody. The draws from rng are part of the corpus: keep their order.
"""

from __future__ import annotations

import random
import re

from tuneloop.data.example.content import people


def luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    """prefix + random digits + the Luhn check digit, `length` digits in all."""
    digits = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):  # the check digit goes to the right, so i == 0 is doubled
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    brand = rng.choice(("visa", "visa", "mastercard", "amex", "discover"))
    if brand == "amex":
        num = luhn_complete(rng, rng.choice(("34", "37")), 15)
        groups = (num[:4], num[4:10], num[10:])
    else:
        prefix = {"visa": "4", "mastercard": f"5{rng.randint(1, 5)}", "discover": "6011"}[brand]
        num = luhn_complete(rng, prefix, 16)
        groups = (num[:4], num[4:8], num[8:12], num[12:])
    return rng.choice((" ", " ", "-", "")).join(groups)


def phone_number(rng: random.Random) -> str:
    area, exchange, line = rng.choice(people().area_codes), rng.randint(201, 989), rng.randint(0, 9999)
    if exchange == 555:  # 555 is the canary's exchange: a random number must never look like it
        exchange = 556
    a, b, c = area, f"{exchange:03d}", f"{line:04d}"
    fmt = rng.choice(
        (
            "({a}) {b}-{c}",
            "{a}-{b}-{c}",
            "{a}.{b}.{c}",
            "+1 {a} {b} {c}",
            "+1 ({a}) {b}-{c}",
            "{a} {b} {c}",
            "+1-{a}-{b}-{c}",
        )
    )
    return fmt.format(a=a, b=b, c=c)


def email(rng: random.Random, first: str, last: str) -> str:
    f, sur = first.lower(), re.sub(r"[^a-z]", "", last.lower())
    user = rng.choice(
        (
            f"{f}.{sur}",
            f"{f}{sur}",
            f"{f[0]}{sur}",
            f"{f}.{sur}{rng.randint(1, 99)}",
            f"{f}{rng.randint(70, 99)}",
            f"{sur}.{f}",
        )
    )
    return f"{user}@{rng.choice(people().email_domains)}"


def address(rng: random.Random) -> str:
    names = people()
    city, state, zip_prefix = rng.choice(names.cities)
    apt = rng.choice(("", "", "", f", Apt {rng.randint(1, 30)}{rng.choice('ABCD')}", f" Unit {rng.randint(100, 450)}"))
    return (
        f"{rng.randint(12, 9870)} {rng.choice(names.streets)} {rng.choice(names.street_suffixes)}{apt}, "
        f"{city}, {state} {zip_prefix}{rng.randint(100, 999)}"
    )


def pii_value(rng: random.Random, kind: str, first_name: str) -> str:
    """A fresh value of one PII kind (mix.PII_TYPES) for a customer called first_name."""
    last = rng.choice(people().last_names)  # drawn for every kind, so the draws that follow stay aligned
    if kind == "email":
        return email(rng, first_name, last)
    if kind == "phone":
        return phone_number(rng)
    if kind == "card":
        return card_number(rng)
    if kind == "address":
        return address(rng)
    return f"{first_name} {last}"

"""Grounding: which contact details and amounts of money does an answer state that its sources do not?

    ungrounded("Call 1-800-333-7777.", ["Call (415) 555-0100."])             -> ["1-800-333-7777"]
    ungrounded("It costs $4.99 a month.", ["Lumora Plus: 4.99 USD a month"])  -> []
    findings("Mail help@lumora.test or see lumora.test/help")  -> [("email", ...), ("url", ...)]

For the server and the KB-answer eval ("the answer stated a number or a contact absent from the retrieved
passages") and for the `answers` probe check (no invented phone, email or URL). What counts, in the answer:
  phone  digit groups joined by spaces, dashes, dots or parentheses, an optional leading + and country
         code, 7-15 digits in all, the last group 3-5 digits ("1-800-333-7777", "(415) 555-0100",
         "+44 20 7946 0958"); a date ("15-01-2024"), a number in thousands groups ("12 345 678") or a bare
         run of digits (an order number) is none
  email  name@domain.tld
  url    http(s)://..., www...., or a bare domain on a common top-level domain with an optional path
         ("lumora.com/help"); an email's domain is not a URL of its own
  money  a currency sign or code with a number: "$12.99", "€5", "20 USD", "USD 20", "15 dollars"
Compared after normalising, against every source and every `allowed` value (an allowed value counts as
one more source):
  phone  by digits only: "(415) 555-0100" = "415-555-0100" = "+1 415 555 0100" (a 1-3 digit country
         code in front of the same 7+ digits is the same number); a source is read loosely: the answer's
         digits may lie anywhere in a run of digits and separators there ("Call 4155550100" grounds it)
  email  lowercased
  url    lowercased, without scheme, "www." and trailing "/": grounded when it equals a source URL or is
         that URL's leading part up to a "/" ("lumora.com" is grounded by "https://lumora.com/help")
  money  by the number alone, commas dropped and ".00" ignored: "$12.99" is grounded by "12.99" anywhere
         in a source, with any currency or none (the currency itself is not compared)
Plain patterns, like the probes: a smoke alarm for invented details, not a fact checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KINDS = ("phone", "email", "url", "money")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_TLD = r"(?:com|org|net|io|co|us|uk|de|fr|eu|ca|au|info|biz|app|help|support|shop|store|dev|ai|me|tv|test)"
_URL = re.compile(
    r"\bhttps?://[^\s<>\"'`)\]]+"
    r"|\bwww\.[^\s<>\"'`)\]]+"
    rf"|(?<![\w@.-])(?:[A-Za-z0-9-]+\.)+{_TLD}\b(?:/[^\s<>\"'`)\]]*)?",
    re.I,
)
_PHONE = re.compile(
    r"(?<![\w/$€£¥])(?<!\w[.,-])"
    r"(?:\+\d{1,3}[ .-]?|\d{1,3}[ .-])?"  # country code: "+1 ", "+44", "1-"
    r"(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])"  # area code: "(415) ", "800-"
    r"(?:\d{2,5}[ .-])*"
    r"\d{3,5}"
    r"(?!\w|[.,-]\d)"
)
_LOOSE_PHONE = re.compile(r"\+?\(?\d[\d ().-]*\d")
_NOT_PHONE = re.compile(r"^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}$|^\d{1,3}(?:[ .]\d{3})+$")  # a date; 12 345 678
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CODES = r"(?:USD|EUR|GBP|CAD|AUD|CHF|JPY|dollars?|euros?|pounds?|bucks)"
_MONEY = re.compile(
    rf"(?:US|CA|A)?[$€£¥]\s?(?:{_NUMBER})"
    rf"|\b(?:USD|EUR|GBP|CAD|AUD|CHF|JPY)\s?(?:{_NUMBER})\b"
    rf"|(?<![\w.,])(?:{_NUMBER})\s?{_CODES}\b",
    re.I,
)
_ANY_NUMBER = re.compile(rf"(?<![\d,.])(?:{_NUMBER})(?![\d,])")
_DIGIT = re.compile(r"\d")
_TRAIL = ".,;:!?'\""


def _digits(text: str) -> str:
    return "".join(_DIGIT.findall(text))


def _strip(value: str) -> str:
    return value.rstrip(_TRAIL)


def phones(text: str) -> list[str]:
    """Phone numbers as the answer writes them (the strict reading above)."""
    found = []
    for m in _PHONE.finditer(text):
        value = m.group(0).strip()
        if 7 <= len(_digits(value)) <= 15 and not _NOT_PHONE.match(value):
            found.append(value)
    return found


def emails(text: str) -> list[str]:
    return [_strip(m.group(0)) for m in _EMAIL.finditer(text)]


def urls(text: str) -> list[str]:
    """URLs and bare domains, outside email addresses."""
    masked = _EMAIL.sub(lambda m: " " * len(m.group(0)), text)
    return [_strip(m.group(0)) for m in _URL.finditer(masked)]


def amounts(text: str) -> list[str]:
    """Amounts of money: a number with a currency sign or code."""
    return [m.group(0).strip() for m in _MONEY.finditer(text)]


def findings(text: str, kinds: Iterable[str] = KINDS) -> list[tuple[str, str]]:
    """[(kind, value as written)] for the contact details and amounts in the text, in kind order."""
    readers = {"phone": phones, "email": emails, "url": urls, "money": amounts}
    masked = _URL.sub(lambda m: " " * len(m.group(0)), _EMAIL.sub(lambda m: " " * len(m.group(0)), text or ""))
    out = []
    for kind in kinds:
        # phones and amounts are read outside emails and URLs (digits in a path are no phone number)
        values = readers[kind]((text or "") if kind in ("email", "url") else masked)
        out += [(kind, v) for v in values]
    return out


def _number(value: str) -> str:
    """ "1,299.00" -> "1299", "12.50" -> "12.5": the amount as one comparable string."""
    number = re.search(_NUMBER, value)
    plain = number.group(0).replace(",", "") if number else ""
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def _url_key(value: str) -> str:
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.strip().lower())
    return key.rstrip("/")


def _same_phone(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 7 and long_.endswith(short) and len(long_) - len(short) <= 3


def ungrounded(answer: str, sources: list[str], allowed: Iterable[str] = (), kinds: Iterable[str] = KINDS) -> list[str]:
    """The phone numbers, email addresses, URLs and amounts of money the answer states (as written there,
    each once, in kind order) that no source and no `allowed` value states."""
    texts = [*(s or "" for s in sources), *(a or "" for a in allowed)]
    source_phones = {_digits(m.group(0)) for t in texts for m in _LOOSE_PHONE.finditer(t)}
    source_emails = {e.lower() for t in texts for e in emails(t)}
    source_urls = {_url_key(u) for t in texts for u in urls(t)} | {_url_key(a) for a in allowed if a}
    source_numbers = {_number(m.group(0)) for t in texts for m in _ANY_NUMBER.finditer(t)}
    out: list[str] = []
    for kind, value in findings(answer, kinds):
        if kind == "phone":
            digits = _digits(value)
            ok = any(digits in p or _same_phone(digits, p) for p in source_phones)
        elif kind == "email":
            ok = value.lower() in source_emails
        elif kind == "url":
            key = _url_key(value)
            ok = any(key == u or u.startswith(key + "/") for u in source_urls)
        else:
            ok = _number(value) in source_numbers
        if not ok and value not in out:
            out.append(value)
    return out

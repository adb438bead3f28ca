"""What each PII type looks like: the cue and shape patterns, and the validators (Luhn, E.164, IP).

The engine (engine.py) compiles the configured rules from these; nothing here holds state.
"""

from __future__ import annotations

import ipaddress
import re

# Most specific first: breaks ties between equally long overlapping matches.
TYPES: tuple[str, ...] = ("IBAN", "CARD", "US_SSN", "EMAIL", "IP_ADDRESS", "PHONE", "ADDRESS", "PERSON")


# Capitalised words that open sentences or address a group, never a person's name. Company and
# product words are in config (rules.PERSON.stopwords) so each deployment can list its own.
GENERIC_STOPWORDS = frozenset(
    """
A An The This That These Those There Here I I'm I've Im We You My Our Your It Its It's He She They His Her Their
Please Thanks Thank Thx Sorry Yes No Not Just Also So And But Or If When What Why How Where Who Which Now Then
Well Again Any All Everyone Anyone Someone Team Support Sir Madam Folks Guys Friend Friends Customer Customers
Service Care Help Desk Helpdesk Staff Agent Manager Admin Department Sales Billing Returns Shipping Order Orders
Ticket Case Account Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December Today Tomorrow Yesterday Morning Afternoon Evening Night
Regards Best Cheers Sincerely Hello Hi Hey Dear Good Great Ok Okay Sure Still Unfortunately Hopefully Attached
Sent Update Urgent Re Fwd Fw Note Thanksgiving Christmas Happy Welcome Kind Warm Many Regarding Issue Problem
Looking Waiting Trying Calling Following Back Again Ever Everything Nothing Something Yours Truly Name
Mr Mrs Ms Miss Mx Dr Prof Oh Ah Wow Yeah Yep Nope Ugh Hmm Lol Btw Fyi Asap Pls Plz
""".split()
)

NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CUE_GREET = (
    r"\b(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|thanks(?: again| so much| a lot)?"
    r"|thank you(?: so much| again)?|many thanks|thx)"
)
_CUE_SIGNOFF = (
    r"\b(?:best(?: regards| wishes)?|kind regards|warm regards|regards|cheers|sincerely|all the best"
    r"|take care|yours(?: truly| sincerely)?)"
)
_CUE_INTRO = (
    r"\b(?:my name is|my name's|this is|it's|it is|i'm|i am|you're speaking (?:to|with)|speaking with"
    r"|spoke (?:with|to)|talked (?:with|to)|chatted with|cc:?|attn:?|attention:?|ask for|asked for)"
)
_CUE_HOLDER = (
    r"\b(?:under the name(?: of)?|in the name(?: of)?|account holder(?: is)?|card ?holder(?: is)?"
    r"|name on the (?:account|card|order) is)\b:?|\b(?:customer |full |account )?name:"
)
_CUE_RELATION = (
    r"\b(?:my|our|your|the|his|her) (?:partner|husband|wife|son|daughter|mom|mum|dad|mother|father"
    r"|brother|sister|colleague|manager|boss|friend|neighbou?r|landlord|tenant|roommate|flatmate"
    r"|installer|technician|electrician|engineer|contractor|assistant|agent|rep|representative)"
)
PERSON_CUES = re.compile(  # one leading \b lets the engine skip non-boundaries fast (3x faster)
    rf"\b(?:(?P<greet>{_CUE_GREET})(?:,?[ \t]+|,?[ \t]*\n[ \t]*)"
    rf"|(?P<signoff>{_CUE_SIGNOFF})(?:,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*)"  # "Best Buy" is a store; "Best, Ana" is not
    rf"|(?P<relation>{_CUE_RELATION})[ \t]+"
    rf"|(?P<intro>{_CUE_INTRO})[ \t]+|(?P<holder>{_CUE_HOLDER})[ \t]+|(?P<under>\bunder)[ \t]+"
    rf"|(?<![\w.])(?P<title>(?-i:Mr|Mrs|Ms|Miss|Mx|Dr)\.?)[ \t]+)",
    re.IGNORECASE,
)
# A name that signs a reply: "— Maria, Lumora Support", "Maria | Lumora Support", "Maria (Lumora Support)".
SIGNATURE = re.compile(
    r"(?m)^[ \t]*(?:[—–-]+[ \t]*)?(?P<name>[^\W\d_][^\s,|(]*(?:[ \t][^\W\d_][^\s,|(]*){0,2})[ \t]*(?:,|\||\(|[—–-])"
    r"[ \t]*(?:[A-Z][\w&.'-]*[ \t]+){0,3}(?:Support|Team|Care|Customer Service|Helpdesk|Help Desk)\b"
)
# "Sofia Okafor called yesterday": a first and last name (two words at least) before a verb of contact.
NAME_BEFORE_VERB = re.compile(
    r"(?<![\w'’-])(?P<name>[^\W\d_][\w'’-]*(?:[ \t](?:[A-Z]\.[ \t])?[^\W\d_][\w'’-]*){1,2})[ \t]+(?:called|phoned|rang"
    r"|emailed|e-mailed|wrote|texted|messaged|said|told me|mentioned|promised|replied|confirmed|visited|came by)\b"
)
CONTACT_VERB = re.compile(
    r"\b(?:called|phoned|rang|e-?mailed|wrote|texted|messaged|said|told me|mentioned|promised"
    r"|replied|confirmed|visited|came by)\b"
)
DASH_SIGNATURE = re.compile(r"(?m)^[ \t]*[—–]+[ \t]*(?=[^\W\d_])")
TERMINATOR = re.compile(r"[ \t]*(?:[,.!?:;)(|\n—–]|$)")
INTRO_FOLLOWERS = re.compile(r"[ \t]+(?:from|here|calling|speaking|and|with|at|on|again|by the way)\b", re.IGNORECASE)

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
DIGIT_RUN = re.compile(r"(?<![A-Za-z\d])\d+(?:[ -]\d+)*(?![A-Za-z\d])")
IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){10,32}")
# A phone-shaped run for the cue fallback ("Phone: 467 3395", "fax 259.735.7502x459"): numbers that
# phonenumbers rejects (an unknown region, a made-up exchange) still are phone numbers when so labelled.
PHONE_SHAPE = re.compile(
    r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}"
    r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?(?![\w.]|[-/]\d)"
)
PHONE_NOT = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3}")  # dates, IPv4 shapes
ID_CUE_BEFORE = re.compile(
    r"(?i:\b(?:order|invoice|serial|sn|s/n|imei|tracking|ref|reference|case|ticket|po|sku|model"
    r"|part|account|acct|transaction|confirmation|no\.?|nr\.?)(?:[ \t]+(?:number|no\.?|id|nr\.?))?"
    r"(?:[ \t]+is)?\W{0,3}$|#\s*$|[A-Za-z]-$)"
)
DIGITS_HINT = re.compile(r"\d(?:[ ().\-/+]{0,3}\d){6}")  # a phone has 7+ digits and only phone punctuation between


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


def us_address_pattern(suffixes: str) -> str:
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
    return (
        rf"{street}[ \t]+(?:{suffixes})\b{dot}(?:[ \t]+{direction}(?![\w.]))?{unit}"
        rf"(?:{uk_tail}|{us_tail}|{zip_only})?"
    )


def to_e164(value: str) -> str | None:
    import phonenumbers

    try:
        return phonenumbers.format_number(phonenumbers.parse(value, "US"), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return None


def valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True

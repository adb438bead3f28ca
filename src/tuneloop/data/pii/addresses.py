"""Street addresses in any of the shapes support text and forms use, as plain `regex` patterns.

The presidio engine (presidio_engine.py) wraps these in a Presidio recognizer with context words;
nothing here imports Presidio or holds state. Each shape comes with a base score: a shape that is an
address by itself (a house number, a street name with a street word and a number) scores above the
threshold, a looser one ("Holmatun 45", "Suite 464") only when a context word is near (Presidio's
context enhancement), or when it touches a stronger match.

  house first     764 Fagradalsbraut 71 / 254 Damvergi Street / 526 Rua Cyro Franco 1213
  street first    Ziegelgasse 19 / Rue de Piétrain 371 / Árpád fejedelem útja 62.
  unit            Apt. 762 / Suite 464 / Unit 210 / Flat 3
  boxes           P.O. Box 149 / PSC 6293, Box 8158 APO AP 04336 / unit 4526 box 0671 dpo ap 40902
A match is then extended over the locality that follows it: ", Nicosia", "\\nSCHEIBBS, NO 14908",
"\\n Finland 87971" (short lines of place words and a postcode, up to four of them).
"""

from __future__ import annotations

import regex

# Street words of many languages, as whole words or word endings ("Kopfhölzistrasse", "Laukaantie").
STREET_WORDS = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|way|place|pl|terrace|parkway|pkwy"
    "|circle|cir|highway|hwy|square|sq|close|crescent|gardens|grove|trail|loop|plaza|row|mews|alley|walk|hill"
    "|creek|cliffs?|union|park|green|view|heights|ridge|point|port|harbor|manor|meadows?|valley|village|vista"
    "|rue|avenida|av|calle|carrer|camino|paseo|plaza|rua|travessa|via|viale|piazza|corso|largo|strada|straat|laan"
    "|weg|gracht|plein|kade|steeg|ulica|ul|utca|u|út|útja|tér|katu|kuja|tie|polku|gata|gatan|vägen|väg|vej|gade"
    "|allé|alle|strasse|straße|gasse|platz|allee|ring|damm|ufer|chaussee|cesta|ulice|náměstí|trg|odos|leoforos"
)
_ENDINGS = ("strasse|straße|str\\.|gasse|weg|platz|allee|vej|gade|katu|kuja|tie|gata|gatan|vägen|väg|straat"
            "|laan|gracht|utca|útja|cesta|ulice|vegur|braut|gasse|stigen|veien|veg|torget")
_CAP = r"\p{Lu}[\p{L}'’.-]*"            # a capitalised word (accents included)
_WORD = r"[\p{L}][\p{L}'’.-]*"           # any word
_NUM = r"\d{1,5}[A-Za-z]?\.?"            # a house number (12, 12a, 12.)
_PARTICLE = r"(?:de|del|della|do|da|dos|das|des|du|la|le|les|van|der|den|di|el|al|am|an|im|zum|zur|of|the)"

UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|Bldg|Building|Apto|Piso|Wohnung)\.?[ \t]*#?[ \t]*\d{1,5}[A-Za-z]?\b"

# (name, pattern, base score); scores below 0.5 need a context word or a stronger neighbour.
PATTERNS: tuple[tuple[str, str, float], ...] = (
    # a house number, up to five words, then a street word or a second number: "3369 24 Clarke Avenue"
    ("house_first",
     rf"(?<![\w.,/-])\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,4}}?"
     rf"(?:(?i:{STREET_WORDS})\b\.?|{_CAP}(?:{_ENDINGS})\b|{_CAP}[ \t]+\d{{1,5}}[A-Za-z]?(?![\w/-]))"
     rf"(?:[ \t]+\d{{1,5}}[A-Za-z]?(?![\w/-]))?", 0.6),
    # a street name with a street word, then a number: "Ziegelgasse 19", "Rue de Piétrain 371"
    ("street_first",
     rf"(?<![\w-])(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,3}}(?:{_CAP}(?i:{_ENDINGS})|(?i:{STREET_WORDS})\.?(?:[ \t]+{_PARTICLE})?"
     rf"(?:[ \t]+(?:{_CAP}|{_PARTICLE})){{1,3}}|{_CAP}(?:[ \t]+{_CAP}){{0,2}}[ \t]+(?i:{STREET_WORDS})\.?)[ \t]+{_NUM}(?![\w-])", 0.6),
    # any capitalised words and a number: "Holmatun 45" (an address only in context)
    ("name_number", rf"(?<![\w-]){_CAP}(?:[ \t]+(?:{_CAP}|{_PARTICLE})){{0,3}}[ \t]+\d{{1,5}}[A-Za-z]?\b(?![\w/-])", 0.3),
    ("unit", rf"(?<![\w-]){UNIT}", 0.4),
    ("po_box", r"(?i)\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box|Apartado|Postfach|Case Postale|BP)[ \t]+\d{1,6}\b", 0.6),
    ("military", r"(?i)\b(?:PSC|CMR|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}(?:[ \t]*\n?[ \t]*(?:APO|DPO|FPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5})?", 0.7),
)

# What may follow an address: a unit, ", City", a line of place words with a state code and/or a
# postcode. Lines with ':' '@' or long digit runs (phones) end it.
_LOCALITY_LINE = regex.compile(
    rf"(?:[ \t]*,[ \t]*|[ \t]*\n[ \t>]*(?:,[ \t]*)?|[ \t]+)"
    rf"(?:{UNIT}|(?:[\p{{L}}][\p{{L}}'’.()-]*(?:[ \t]+[\p{{L}}][\p{{L}}'’.()-]*){{0,3}})(?:,?[ \t]+\p{{Lu}}{{2}}\b)?"
    rf"(?:[ \t]+\d{{4,6}}(?:-\d{{4}})?)?|\p{{Lu}}{{2}}[ \t]+\d{{4,6}}|\d{{4,6}}(?:-\d{{4}})?)"
    rf"(?=[ \t]*(?:$|\n|,))", regex.MULTILINE)
_STOP_LINE = regex.compile(r"(?i)^(?:[ \t]*[,\n][ \t>]*)*(?:mobile|phone|tel|fax|desk|email|e-mail|name|date|dear|hi|hello|thanks|regards|best)\b")

COMPILED = tuple((name, regex.compile(pattern, regex.VERSION0), score) for name, pattern, score in PATTERNS)


def extend_locality(text: str, end: int, max_parts: int = 4) -> int:
    """The end of the address that ends at `end`, taken on over the locality that follows it."""
    for _ in range(max_parts):
        m = _LOCALITY_LINE.match(text, end)
        if not m or m.end() == end or _STOP_LINE.match(text, end) or len(m.group().split()) > 6:
            break
        end = m.end()
    return end


def find(text: str) -> list[tuple[str, int, int, float]]:
    """(shape name, start, end, base score) of every address candidate, locality included."""
    out = []
    for name, pattern, score in COMPILED:
        for m in pattern.finditer(text, overlapped=False):
            out.append((name, m.start(), extend_locality(text, m.end()), score))
    return out

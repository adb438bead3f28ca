"""Street addresses in any of the shapes support text and forms use, as plain `regex` patterns.

The presidio engine (presidio_engine.py) wraps these in a Presidio recognizer with context words;
nothing here imports Presidio or holds state. Each shape comes with a base score: a shape that is an
address by itself (a house number, a street name with a street word and a number) scores above the
threshold, a looser one ("Holmatun 45", "Suite 464") only when a context word is near (Presidio's
context enhancement), or when it touches a stronger match.

  house first     764 Fagradalsbraut 71 / 254 Damvergi Street / 526 Rua Cyro Franco 1213 / 3747 fourth avenue suite 112
  street first    Ziegelgasse 19 / Rue de Piétrain 371 / Árpád fejedelem útja 62. / C/ Señores Curas 88
  named street    Hoge Wei 32 St. / Berg Hills Street (a street word after the name)
  unit            Apt. 762 / Suite 464 / Unit 210 / Flat 3
  boxes           P.O. Box 149 / PSC 6293, Box 8158 APO AP 04336 / USNS Sekerková, FPO AA 65728
  intersections   the corner of 25 Dili Gianni Street and King Forges / Kuusiku 7 and Alexander Flat
A match is then extended over the locality that follows it: ", Nicosia", "\\nSCHEIBBS, NO 14908",
"\\n\\n Finland 87971", "KNIVSTA, nan 18237" (lines or comma parts of place words, a state code and a
postcode, up to six of them).

Street words: the USPS street suffixes (Publication 28, appendix C1: Alley ... Way, Wells), the UK ones
(Close, Mews, ...) and those of other languages, as words or as word endings ("Kopfhölzistrasse").
"""

from __future__ import annotations

import regex

# USPS Publication 28 C1 street suffixes (primary names, singular and plural) and the UK ones. WEAK ones
# also name things a support ticket counts ("2 Smart Locks", "500 Reward Points"): after a house number
# they make an address only with context, a unit or a locality line after them.
STRONG_SUFFIXES = (
    "alley|annex|arcade|avenue|ave|bayou|beach|bend|bluffs?|bottom|boulevard|blvd|brooks?|burgs?|bypass|canyon"
    "|cape|causeway|circles?|cir|cliffs?|commons?|courts?|ct|coves?|creek|crescent|crest|crossing|crossroads?"
    "|curve|dale|dam|divide|drives?|dr|expressway|extensions?|ferry|flats?|fords?|forest|forges?|forks?"
    "|freeway|gardens?|gateway|glens?|greens?|groves?|harbors?|haven|heights|highway|hwy|hills?|hollow|inlet"
    "|islands?|isle|junctions?|knolls?|lakes?|landing|lane|ln|lodge|loop|manors?|meadows?|mews|motorway|mount"
    "|mountains?|neck|orchard|oval|overpass|parkways?|pkwy|pike|pines?|place|pl|plaza|prairie|radial|ramp"
    "|ranch|rapids?|ridges?|river|roads?|rd|route|row|rue|shoals?|shores?|skyway|spurs?|squares?|sq|stravenue"
    "|streets?|st|str|summit|terrace|ter|throughway|trafficway|trail|trailer|tunnel|turnpike|underpass|unions?"
    "|valleys?|viaduct|villages?|ville|vista|ways?|close|wharf|yard|parade|rise|wynd|brae"
)
WEAK_SUFFIXES = (
    "branch|bridge|camp|centers?|club|course|estates?|falls?|fields?|fort|keys?|land|lights?|loaf"
    "|locks?|mall|mills?|mission|parks?|pass|passage|path|plains?|points?|ports?|rest|run|springs?"
    "|stations?|stream|trace|track|views?|walks?|wall|wells?|gate"
)
# Street words that open a street's name in other languages ("Rue de ...", "ul. Miła", "C/ Señores").
FIRST_WORDS = (
    "rue|avenida|av|calle|carrer|camino|paseo|rua|travessa|via|viale|piazza|corso|largo|strada|ulica|ul"
    "|u|odos|leoforos|avenue|boulevard|c/"
)
# ... and those that close it, as separate words.
LAST_WORDS = (
    "straat|laan|weg|gracht|plein|kade|steeg|utca|út|útja|tér|katu|kuja|tie|polku|gata|gatan|vägen|väg"
    "|vej|gade|allé|alle|strasse|straße|gasse|platz|allee|ring|damm|ufer|chaussee|cesta|ulice|náměstí|trg"
    "|u|terrasse|vei|veien|vegen|gatvė|iela|tee"
)
STREET_WORDS = f"{STRONG_SUFFIXES}|{LAST_WORDS}"
# Country names in English (as phonenumbers' geocoder writes them, plus USA, UK and the UK's nations).
COUNTRIES = (
    r"Bonaire, Sint Eustatius and Saba|Saint Vincent And The Grenadines|The Democratic Republic Of Congo|"
    r"British Indian Ocean Territory|Saint Pierre And Miquelon|Sint Maarten \(Dutch part\)|"
    r"Central African Republic|Northern Mariana Islands|Turks And Caicos Islands|Bosnia and Herzegovina|"
    r"British Virgin Islands|Svalbard And Jan Mayen|Saint Kitts And Nevis|Sao Tome And Principe|"
    r"United Arab Emirates|Antigua and Barbuda|Trinidad and Tobago|U\.S\. Virgin Islands|"
    r"Dominican Republic|Equatorial Guinea|Wallis And Futuna|Christmas Island|Falkland Islands|"
    r"French Polynesia|Marshall Islands|Northern Ireland|Papua New Guinea|Solomon Islands|American Samoa|"
    r"Cayman Islands|Czech Republic|Norfolk Island|United Kingdom|Cocos Islands|Côte d'Ivoire|"
    r"Faroe Islands|French Guiana|Great Britain|Guinea-Bissau|Liechtenstein|New Caledonia|United States|"
    r"Åland Islands|Burkina Faso|Cook Islands|Saint Helena|Saudi Arabia|Sierra Leone|South Africa|"
    r"Turkmenistan|Afghanistan|El Salvador|Isle Of Man|Netherlands|New Zealand|North Korea|Philippines|"
    r"Puerto Rico|Saint Lucia|South Korea|South Sudan|Switzerland|Timor-Leste|Azerbaijan|Bangladesh|"
    r"Cape Verde|Costa Rica|Guadeloupe|Kazakhstan|Kyrgyzstan|Luxembourg|Madagascar|Martinique|Mauritania|"
    r"Micronesia|Montenegro|Montserrat|Mozambique|San Marino|Seychelles|Tajikistan|Uzbekistan|Argentina|"
    r"Australia|Gibraltar|Greenland|Guatemala|Hong Kong|Indonesia|Lithuania|Macedonia|Mauritius|Nicaragua|"
    r"Palestine|Singapore|Sri Lanka|Swaziland|Venezuela|Anguilla|Barbados|Botswana|Bulgaria|Cambodia|"
    r"Cameroon|Colombia|Djibouti|Dominica|Ethiopia|Guernsey|Honduras|Kiribati|Malaysia|Maldives|Mongolia|"
    r"Pakistan|Paraguay|Portugal|Scotland|Slovakia|Slovenia|Suriname|Tanzania|Thailand|Zimbabwe|Albania|"
    r"Algeria|Andorra|Armenia|Austria|Bahamas|Bahrain|Belarus|Belgium|Bermuda|Bolivia|Burundi|Comoros|"
    r"Croatia|Curaçao|Czechia|Denmark|Ecuador|England|Eritrea|Estonia|Finland|Georgia|Germany|Grenada|"
    r"Hungary|Iceland|Ireland|Jamaica|Lebanon|Lesotho|Liberia|Mayotte|Moldova|Morocco|Myanmar|Namibia|"
    r"Nigeria|Reunion|Romania|Senegal|Somalia|Tokelau|Tunisia|Ukraine|Uruguay|Vanuatu|Vatican|Vietnam|"
    r"Angola|Belize|Bhutan|Brazil|Brunei|Canada|Cyprus|France|Gambia|Greece|Guinea|Guyana|Israel|Jersey|"
    r"Jordan|Kuwait|Latvia|Malawi|Mexico|Monaco|Norway|Panama|Poland|Russia|Rwanda|Serbia|Sweden|Taiwan|"
    r"Turkey|Tuvalu|Uganda|Zambia|Aruba|Benin|Chile|China|Congo|Egypt|Gabon|Ghana|Haiti|India|Italy|Japan|"
    r"Kenya|Libya|Macao|Malta|Nauru|Nepal|Niger|Palau|Qatar|Samoa|Spain|Sudan|Syria|Tonga|Wales|Yemen|Chad|"
    r"Cuba|Fiji|Guam|Iran|Iraq|Laos|Mali|Niue|Oman|Peru|Togo|USA|UK"
)
_ENDINGS = (
    "strasse|straße|str\\.|gasse|weg|platz|allee|vej|gade|katu|kuja|tie|gata|gatan|vägen|väg|straat"
    "|laan|gracht|utca|útja|cesta|ulice|vegur|braut|stigen|veien|veg|torget|wei|gata"
)
_CAP = r"\p{Lu}[\p{L}'’.-]*"  # a capitalised word (accents included)
_LOW = r"\p{Ll}[\p{L}'’.-]*"  # a lower-case word
_NUM = r"\d{1,5}[A-Za-z]?\.?"  # a house number (12, 12a, 12.)
_PARTICLE = (
    r"(?:de|del|della|dei|degli|delle|do|da|dos|das|des|du|la|le|les|van|der|den|ten|ter|op|di|el|al|am"
    r"|an|im|zum|zur|von|vom|zu|of|the|e|y|i)"
)
_SW = rf"(?i:{STREET_WORDS})"  # a street word, any case
_WEAK = rf"(?i:{WEAK_SUFFIXES})"

UNIT = (
    r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|Bldg|Building|Apto|Piso|Wohnung)\.?[ \t]*#?[ \t]*"
    r"\d{1,5}[A-Za-z]?\b"
)
_UNIT_ANY = rf"(?i:{UNIT})"
_SHIP = r"(?:USS|USNS|USNV|USCGC|USNC|USAV)"  # US military ship prefixes (FPO addresses)

# Words before a number that make it a date, an id or a count, never a street ("March 19", "Order 5844").
_NOT_STREET = (
    r"(?!(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june"
    r"|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|mon|tue|wed|thu|fri|sat|sun|order|invoice|ticket|case|ref|reference|version|model|serial"
    r"|part|account|transaction|confirmation|item|sku|page|step|chapter|section|table|figure|during|since"
    r"|in|on|at|by|from|until|after|before|of|to|for|and|or|the|a|an|our|my|your|his|her|their|its|this|that"
    r"|these|those|top|best|only|over|under|about|around|nearly|almost|every|each|all|some|no|level|size"
    r"|windows|ios|android|iphone|galaxy|pixel|firmware|app)\b)"
)
_SIDE = (
    rf"(?:(?:\d{{1,5}}[ \t]+)?(?:{_CAP}|{_PARTICLE}|ul\.|u\.)"
    rf"(?:[ \t]+(?:{_CAP}|{_PARTICLE}|(?!and\b){_LOW}|\d{{1,5}}\.?)){{0,4}})"
)  # one side of an intersection

# (name, pattern, base score); scores below 0.5 need a context word or a stronger neighbour.
PATTERNS: tuple[tuple[str, str, float], ...] = (
    # a house number, up to five words, then a street word or a second number: "3369 24 Clarke Avenue"
    (
        "house_first",
        rf"(?<![\w.,/-])\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,4}}?"
        rf"(?:{_SW}(?![\w/])\.?|{_CAP}(?:{_ENDINGS})\b|{_CAP}[ \t]+\d{{1,5}}[A-Za-z]?(?![\w/-]))"
        rf"(?:[ \t]+\d{{1,5}}[A-Za-z]?(?![\w/-]))?",
        0.6,
    ),
    (
        "house_weak",
        rf"(?<![\w.,/-])\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?[ \t]+(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,4}}?"
        rf"(?:{_WEAK}(?![\w/])\.?)"
        rf"(?:[ \t]+\d{{1,5}}[A-Za-z]?(?![\w/-]))?",
        0.4,
    ),
    # any case, with a unit after it: "3747 3911 fourth avenue suite 112", "0605 πεντέλης 210 apt. 999"
    (
        "house_unit",
        rf"(?<![\w.,/-])\d{{1,6}}[A-Za-z]?(?:[ \t]+\d{{1,5}})?(?:[ \t]+[\p{{L}}][\p{{L}}'’.-]*){{1,5}}?"
        rf"(?:[ \t]+\d{{1,5}}[A-Za-z]?\.?)?,?[ \t]+{_UNIT_ANY}",
        0.6,
    ),
    # a street name with a street word, then a number: "Ziegelgasse 19", "Rue de Piétrain 371", "ul. Miła 53"
    (
        "street_first",
        rf"(?<![\w.,/-])(?:\d{{1,6}}[ \t]+)?(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,3}}(?:{_CAP}(?i:{_ENDINGS})|(?i:{FIRST_WORDS})\.?(?:[ \t]+{_PARTICLE})?"
        rf"(?:[ \t]+(?:{_CAP}|{_PARTICLE}|{_LOW})){{0,1}}(?:[ \t]+(?:{_CAP}|{_PARTICLE})){{1,3}}"
        rf"|{_CAP}(?:[ \t]+(?:{_CAP}|{_LOW})){{0,2}}[ \t]+{_SW}\.?)[ \t]+{_NUM}(?![\w-])",
        0.6,
    ),
    # a street name and number followed by a street word: "Hoge Wei 32 St.", "Via dei Fiorentini 17 street"
    (
        "number_then_st",
        rf"(?<![\w.,/-])(?:\d{{1,6}}[ \t]+)?{_CAP}(?:[ \t]+(?:{_CAP}|{_PARTICLE}|{_LOW})){{0,5}}[ \t]+\d{{1,5}}[A-Za-z]?\.?[ \t]+"
        rf"(?i:st\.|street\b)",
        0.6,
    ),
    # a named street without a number: "Berg Hills Street", "Miletić Dale Street"
    ("named_street", rf"(?<![\w-]){_CAP}(?:[ \t]+{_CAP}){{0,2}}[ \t]+(?:Street|Avenue|Road|Boulevard|Lane)\b", 0.5),
    # any capitalised words and a number: "Holmatun 45" (an address only in context)
    (
        "name_number",
        rf"(?<![\w-]){_NOT_STREET}{_CAP}(?:[ \t]+(?:{_CAP}|{_PARTICLE})){{0,3}}[ \t]+\d{{1,5}}[A-Za-z]?\b(?![\w/-])",
        0.3,
    ),
    (
        "corner",
        rf"(?i:(?:the[ \t]+)?corner[ \t]+of)[ \t]+{_SIDE}[ \t]+(?:and|&)[ \t]+{_SIDE}(?=[ \t]*(?:$|\n|[,.?!;:)]))",
        0.6,
    ),
    ("unit", rf"(?<![\w-]){UNIT}", 0.4),
    (
        "po_box",
        r"(?i)\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box|Apartado|Postfach|Case Postale|BP)[ \t]+\d{1,6}\b",
        0.6,
    ),
    (
        "military",
        r"(?i)\b(?:PSC|CMR|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{3,5}(?:[ \t]*\n?[ \t]*(?:APO|DPO|FPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5})?",
        0.7,
    ),
    (
        "ship",
        rf"\b{_SHIP}[ \t]+{_CAP}(?:[ \t]+{_CAP}){{0,2}}(?:,?[ \t]*\n?[ \t]*(?:FPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{{5}})?",
        0.6,
    ),
    ("apo", r"(?m)^[^\n]{0,40}\n?[ \t]*\b(?:APO|DPO|FPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5}\b", 0.6),
)

_PLACE_WORD = r"(?!(?i:and|or|the|for|in|at|to|with|on|of|from|after|before|last|next|is|are|was|please|thanks|if|but|so|then|mobile|phone|tel|fax|desk|email|website)\b)[\p{L}(][\p{L}'’.()-]*"
_POST = r"(?:\d{4,6}(?:-\d{4})?|\p{Lu}{1,2}\d[\p{Lu}\d]?[ \t]*\d\p{Lu}{2})"  # 12345, 12345-6789, SW1A 1AA
# What may follow an address: a unit, ", City", a line of place words with a state code and/or a
# postcode. A part made of words must end its line or be followed by a comma or sentence punctuation;
# one that ends in a postcode or is in capitals ("HUNDSHAGEN") may be followed by anything.
_LOCALITY_LINE = regex.compile(
    rf"(?:[ \t]*,[ \t]*|(?:[ \t]*\n){{1,2}}[ \t>?•*·]*(?:,[ \t]*)?|[ \t]+)"
    rf"(?:{UNIT}(?![\w-])"
    rf"|(?:{_PLACE_WORD}(?:[ \t]+{_PLACE_WORD}){{0,3}})(?:,?[ \t]+\p{{Lu}}{{2,3}}\b)?,?[ \t]+{_POST}(?![\w-])"
    rf"|\p{{Lu}}{{2,3}}[ \t]+{_POST}(?![\w-])|{_POST}(?![\w-])"
    rf"|\d{{1,3}}[ \t]+{_POST}(?=[ \t]*(?:$|\n|,|[.?!;:)](?:\s|$)))"
    rf"|(?:{COUNTRIES})(?:[ \t]*\([\p{{L}} ]{{1,20}}\))?(?:[ \t]+{_POST})?(?![\w-])"
    rf"|\d{{1,3}}(?=[ \t]*(?:$|\n|,))"
    rf"|\p{{Lu}}[\p{{Lu}}'’.-]+(?:[ \t]+\p{{Lu}}[\p{{Lu}}'’.-]+){{0,2}}(?![\w-])"
    rf"|(?:{_PLACE_WORD}(?:[ \t]+{_PLACE_WORD}){{0,3}})(?:,?[ \t]+\p{{Lu}}{{2,3}}\b)?"
    rf"(?=[ \t]*(?:$|\n|,|[.?!;:)](?:\s|$))))",
    regex.MULTILINE,
)
_STOP_LINE = regex.compile(
    r"(?i)^(?:[ \t]*[,\n][ \t>?•*·]*)*(?:mobile|phone|tel|fax|desk|email|e-mail|website|name"
    r"|date|dear|hi|hello|thanks|regards|best)\b"
)
# "A and <address>": an intersection written without "the corner of", after a sentence or line start,
# a colon or a preposition ("Please return to Leon and Eyrarodda 66").
_AND_BEFORE = regex.compile(
    rf"(?:^|(?<=[:?!.][ \t]|\n|\b(?i:to|at|of|with|is|on)[ \t])){_SIDE}[ \t]+(?:and|&)[ \t]+$", regex.MULTILINE
)
_AND_AFTER = regex.compile(rf"[ \t]+(?:and|&)[ \t]+{_SIDE}(?=[ \t]*(?:$|\n|[,.?!;:)]))")

COMPILED = tuple((name, regex.compile(pattern, regex.VERSION0), score) for name, pattern, score in PATTERNS)
STRONG = 0.5  # a base score that needs no context word


def country_names() -> list[str]:
    """COUNTRIES as plain names."""
    return [c.replace("\\", "") for c in COUNTRIES.split("|")]


def extend_locality(text: str, end: int, max_parts: int = 6) -> int:
    """The end of the address that ends at `end`, taken on over the locality that follows it."""
    for _ in range(max_parts):
        m = _LOCALITY_LINE.match(text, end)
        if not m or m.end() == end or _STOP_LINE.match(text, end) or len(m.group().split()) > 6:
            break
        end = m.end()
    return end


def find(text: str) -> list[tuple[str, int, int, float]]:
    """(shape name, start, end, base score) of every address candidate, locality included. A weak
    candidate followed by a postcode or more lines of an address is strong; one that overlaps a strong one widens it ("Storgarden 52" + "52 Trajanka Forks"), and a
    strong one is widened to the intersection it ends ("Leon and Eyrarodda 66")."""
    found = []
    for name, pattern, score in COMPILED:
        for m in pattern.finditer(text, overlapped=False):
            end = extend_locality(text, m.end())
            if score < STRONG and any(ch == "\n" or ch.isdigit() for ch in text[m.end() : end]):
                score = 0.6  # a unit, a postcode or another line of an address block follows
            found.append((name, m.start(), end, score))
    strong = [c for c in found if c[3] >= STRONG]
    out = []
    for name, start, end, score in found:
        if score >= STRONG:
            for _, s, e, sc in found:
                if sc < STRONG and s < end and start < e:
                    start, end = min(start, s), max(end, e)
            before = _AND_BEFORE.search(text, max(0, start - 60), start)
            if before:
                start = before.start()
        elif any(s < end and start < e for _, s, e, _ in strong):
            continue  # taken into the strong match above
        out.append((name, start, end, score))
    return out

"""Boilerplate stripping: what a model should not learn to write or read in support text.

    from tuneloop.data.boilerplate import clean_text, strip_boilerplate

Removes quoted replies ("On ... wrote:", "-----Original Message-----", "> " lines), mobile footers ("Sent
from my iPhone"), signatures ("-- " blocks, a closing "Regards,/Thanks," with the name under it, "Elena |
Lumora Support", "— Wei, Lumora Support") and legal disclaimers. Greetings and the body are kept.
"""

from __future__ import annotations

import re

_VALEDICTION = re.compile(
    r"^(?:best(?: regards| wishes)?|kind regards|warm regards|warmest regards|regards|cheers|sincerely|"
    r"yours(?: truly| sincerely)?|thanks(?: again| a lot| so much| very much| in advance)?|"
    r"thank you(?: again| so much| very much| in advance)?|"
    r"many thanks|thx|ty|all the best|take care)\s*[,.!]*\s*$",
    re.I,
)
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:sent from my \w[\w ]{0,30}|sent from (?:mail|outlook|yahoo mail|gmail)\b.*|"
    r"get outlook for \w+.*|sent via [\w ]{1,30})\s*$",
    re.I,
)
_QUOTE_HEADER = re.compile(
    r"^\s*(?:on\b.{0,200}\bwrote:\s*$|-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message\s*-{2,}|"
    r"_{10,}\s*$)",
    re.I,
)
_FROM_HEADER = re.compile(r"^\s*from:\s.+$", re.I)  # Outlook: "From: ..." then "Sent:/To:/Date:/Subject:"
_HEADER_FIELD = re.compile(r"^\s*(?:sent|to|date|subject|cc):\s", re.I)
_ON_WROTE_2LINES = re.compile(r"^\s*on\b.{0,200}$", re.I)  # "On Mon, ... <x@y.com>" then "wrote:"
_DISCLAIMER = re.compile(
    r"confidentiality notice|this (?:e-?mail|message)(?: and any attachments?)? (?:is|are|may be) "
    r"(?:confidential|privileged|intended)|intended solely for|if you are not the intended recipient|"
    r"please consider the environment before printing",
    re.I,
)
_SIG_DELIMITER = re.compile(r"^\s*--\s*$|^\s*__\s*$")
_NAME = r"[A-Z\u00C0-\u00DE][a-z\u00DF-\u00FF'’.-]+"
_TEAM = r"(?:Support|Team|Customer Care|Customer Service|Help ?[Dd]esk|Care)"
_TEAM_SIGNOFF = re.compile(  # "Elena | Lumora Support", "Elena (Lumora Support)", "Lumora Support Team"
    rf"^\s*(?:[—–-]\s*)?(?:{_NAME}(?: {_NAME}){{0,2}}\s*(?:\||,|-|–|—|\()\s*)?"
    rf"(?:[A-Z][\w&.'’-]*\s+){{0,3}}{_TEAM}(?: Team)?\)?\s*$"
)
_INLINE_DASH_SIGNOFF = re.compile(  # "... Hope that helps! — Wei, Lumora Support" at the very end
    rf"\s*[—–]\s*{_NAME}(?: {_NAME})?(?:(?:,|\s*\|)\s*(?:[A-Z][\w&.'’-]*\s+){{0,3}}{_TEAM})?\s*$"
)
_NAME_LINE = re.compile(rf"^\s*{_NAME}(?: (?:{_NAME}|[A-Z]\.)){{0,3}}\s*$")


def strip_boilerplate(text: str) -> tuple[str, list[str]]:
    """Return (text without quoted replies, footers, signatures and disclaimers, kinds stripped)."""
    if not text:
        return text or "", []
    kinds: set[str] = set()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    # 1. a quoted earlier message: everything from its header on; and stray "> " lines
    for i, line in enumerate(lines):
        two_line_header = (
            _ON_WROTE_2LINES.match(line) and i + 1 < len(lines) and lines[i + 1].strip().lower() == "wrote:" and i > 0
        )
        outlook_header = _FROM_HEADER.match(line) and i + 1 < len(lines) and _HEADER_FIELD.match(lines[i + 1])
        if i > 0 and (_QUOTE_HEADER.match(line) or two_line_header or outlook_header):
            lines, kinds = lines[:i], kinds | {"quoted_reply"}
            break
    if any(line.lstrip().startswith(">") for line in lines[1:]):
        lines = [line for line in lines if not line.lstrip().startswith(">")]
        kinds.add("quoted_reply")

    # 2. legal disclaimers: the paragraph that holds one, and everything after it
    paragraphs = "\n".join(lines).split("\n\n")
    for i, para in enumerate(paragraphs):
        if i > 0 and _DISCLAIMER.search(para):
            paragraphs, kinds = paragraphs[:i], kinds | {"disclaimer"}
            break
    lines = "\n\n".join(paragraphs).split("\n")

    # 3. mobile footers and "-- " signature blocks
    kept = []
    for i, line in enumerate(lines):
        if _SIG_DELIMITER.match(line) and i > 0:
            kinds.add("signature")
            break
        if _MOBILE_FOOTER.match(line):
            kinds.add("mobile_footer")
            continue
        kept.append(line)
    lines = kept

    # 4. closing signatures at the end: "Regards,\nName", "Name | Team", "— Name, Team" (inline too)
    while lines and not lines[-1].strip():
        lines.pop()
    changed = True
    while changed and len([x for x in lines if x.strip()]) > 1:
        changed = False
        tail = [i for i, x in enumerate(lines) if x.strip()][-4:]
        for pos, i in enumerate(tail):
            after = [lines[j] for j in tail[pos + 1 :]]
            if _VALEDICTION.match(lines[i].strip()) and all(
                _NAME_LINE.match(a) or _TEAM_SIGNOFF.match(a) for a in after
            ):
                lines, changed = lines[:i], True
                kinds.add("signature")
                break
        if not changed and lines and (_TEAM_SIGNOFF.match(lines[-1]) or _is_bare_name_after_body(lines)):
            lines, changed = lines[:-1], True
            kinds.add("signature")
        while lines and not lines[-1].strip():
            lines.pop()
    if lines:
        last = _INLINE_DASH_SIGNOFF.sub("", lines[-1])
        if last != lines[-1] and last.strip():
            lines[-1] = last
            kinds.add("signature")
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return cleaned, sorted(kinds)


def _is_bare_name_after_body(lines: list[str]) -> bool:
    """A last line that is only a name ("Tom"), set apart from the body by a blank line."""
    return (
        len(lines) >= 3
        and _NAME_LINE.match(lines[-1]) is not None
        and not lines[-2].strip()
        and len(lines[-1].split()) <= 3
        and not lines[-1].strip().endswith((".", "?", "!"))
    )


def clean_text(text: str) -> str:
    """Text with quoted replies, mobile footers, signatures and legal disclaimers removed."""
    return strip_boilerplate(text)[0]

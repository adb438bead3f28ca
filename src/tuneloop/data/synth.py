"""Templates that turn tickets and knowledge-base chunks into instruction pairs (no model, no network).

Used by `build`. Every user prompt reads `instruction` + blank line + source content, and no
instruction holds a blank line, so `source_text` can recover the content for split's leakage check.

Ticket tasks:
  priority      the ticket's priority (low/normal/high/urgent), answered with the label only
  summary       a reference summary made from the ticket's own fields: category, the customer's issue
                (first substantive sentences), the resolution (first substantive sentences of the
                agent's reply, greetings and pleasantries skipped) and the status
KB tasks, per chunk (`kind: kb` with doc_id/title/section/text; a whole article is split by headings):
  kb_summarize  the chunk's leading sentences
  kb_facts      its numbered steps, bullets, table rows and sentences with numbers/settings, as a list
  kb_rephrase   a short, friendly customer answer built from the chunk
  kb_qa         a question made from the section heading, answered from the chunk; `facts` = 1-3 short
                distinctive strings (menu paths, settings, codes, prices, durations) the answer contains
"""

from __future__ import annotations

import re

# The prompts themselves (instructions, ticket text, the separator) are the prompt contract's
# (tuneloop.prompts); they are re-exported here for the modules that read them through synth.
from tuneloop.data.thread_facts import stated, thread_facts
from tuneloop.prompts import (  # noqa: F401
    MAX_LISTED_LABELS,
    PRIORITIES,
    SEPARATOR,
    classify_instruction,
    priority_instruction,
    source_text,
    summary_instruction,
    ticket_text,
)

# ---------------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”')]?\s+(?=[A-Z0-9\"“(<#*])")
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b[^.?]{0,40}[,!.:]?$", re.I
)
_PLEASANTRY = re.compile(
    r"^(?:(?:i'?m |we'?re |i am |we are )?(?:so |really |very )?sorry\b|apolog|thanks? (?:you )?(?:so much )?for\b|"
    r"thank you\b|i (?:completely |totally |fully )?understand\b|(?:i'?m |i am |i'?d be |we'?re )?(?:happy|glad) to help\b|"
    r"great question|i can help|let me help|i hope (?:you|this)|hope (?:that|this) helps|have a (?:great|good|nice)\b|"
    r"if you (?:need|have) anything else|just reply|let us know if|please let us know if|feel free)",
    re.I,
)


def sentences(text: str) -> list[str]:
    """Sentences of plain text: split at . ! ? before a capital or digit, and at line breaks."""
    out = []
    for line in (text or "").split("\n"):
        line = line.strip()
        if line:
            out += [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]
    return out


_GREETING_CLAUSE = re.compile(r"^(?:hi|hello|hey)(?: there| all| team)?\s*[,!]\s+(?=\w)", re.I)


def substantive_sentences(text: str) -> list[str]:
    """Sentences without greetings ("Hi Tom!"), pleasantries ("Sorry for the trouble.") or sign-offs;
    a greeting that opens a sentence ("hey there, can I ...") is cut off it."""
    out = []
    for s in sentences(text):
        if _GREETING.match(s) or _PLEASANTRY.match(s):
            continue
        s = _GREETING_CLAUSE.sub("", s)
        out.append(s[:1].upper() + s[1:])
    return out


def lead(sents: list[str], max_sentences: int = 2, max_words: int = 45) -> str:
    """The first sentence, and the next ones while they fit in max_words (at most max_sentences)."""
    picked: list[str] = []
    for s in sents:
        if picked and (len(picked) >= max_sentences or len(" ".join(picked + [s]).split()) > max_words):
            break
        picked.append(s)
    return " ".join(_end(s) for s in picked)


def _end(sentence: str) -> str:
    return sentence if sentence[-1:] in ".!?" else sentence + "."


# ---------------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------------


def thread_text(ticket: dict) -> str:
    """The conversation as the summary task shows it: subject, turns by role, ticket status."""
    turns = ticket.get("turns") or [
        {"role": "customer", "text": ticket.get("customer_message") or ""},
        {"role": "agent", "text": ticket.get("agent_reply") or ""},
    ]
    parts = [f"Subject: {ticket['subject'].strip()}"] if (ticket.get("subject") or "").strip() else []
    parts += [f"{t['role'].capitalize()}: {t['text'].strip()}" for t in turns if (t.get("text") or "").strip()]
    if ticket.get("status"):
        parts.append(f"Ticket status: {ticket['status']}")
    return "\n\n".join(parts)


MAX_SUMMARY_FACTS = 8  # per line of the reference summary (Already tried, Details)


def ticket_summary(ticket: dict) -> str:
    """Reference summary from the ticket's own fields (no model): what an agent picking the thread up needs.

    Category, the customer's issue (lead sentences), the steps already tried, the thread's references and
    products the lines above do not already state (thread_facts: order numbers, codes, models), the
    resolution and the status. Extractive on purpose: a small model learns to copy, not to invent."""
    issue = lead(substantive_sentences(ticket.get("customer_message") or ""), 2, 30) or "(no message)"
    answered = [  # not "No problem." alone, nor a sign-off ("Kateryna | Lumora Support")
        s for s in substantive_sentences(ticket.get("agent_reply") or "") if len(s.split()) >= 4 and "|" not in s
    ]
    resolution = lead(answered, 2, 35) or "No reply yet."
    facts = thread_facts(thread_text(ticket))
    tried = [f.removeprefix("tried: ") for f in facts if f.startswith("tried: ")]
    said = issue + " " + resolution
    details = [f for f in facts if not f.startswith("tried: ") and not stated(f, said)]
    lines = [f"Category: {ticket['category']}"] if ticket.get("category") else []
    lines.append(f"Issue: {issue}")
    if tried:
        lines.append(f"Already tried: {', '.join(tried[:MAX_SUMMARY_FACTS])}")
    if details:  # a long thread's list is cut, and says so: the summary stays a summary
        more = len(details) - MAX_SUMMARY_FACTS
        lines.append(f"Details: {', '.join(details[:MAX_SUMMARY_FACTS])}" + (f" (+{more} more)" if more > 0 else ""))
    lines.append(f"Resolution: {resolution}")
    if ticket.get("status"):
        lines.append(f"Status: {ticket['status']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Knowledge base: chunks
# ---------------------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def split_article(record: dict) -> list[dict]:
    """A kb record as chunks: itself if it has a `section`, else one chunk per heading of its Markdown.

    Chunk ids are `kb:<doc-stem>#<slug-of-heading-path>` (+ -2, -3 for repeated headings); the text
    before the first heading below the title belongs to the title's own chunk. Empty sections are skipped.
    """
    doc_id = record.get("doc_id") or str(record["id"]).removeprefix("kb:").split("#")[0]
    if record.get("section"):
        return [dict(record, doc_id=doc_id)]
    title = record.get("title") or doc_id
    path: list[tuple[int, str]] = []
    chunks: list[tuple[str, list[str]]] = [(title, [])]
    for line in (record.get("text") or "").splitlines():
        m = _HEADING.match(line)
        if not m:
            chunks[-1][1].append(line)
            continue
        level, heading = len(m.group(1)), m.group(2)
        if level == 1 and not path and heading == title:
            continue
        path = [(lv, h) for lv, h in path if lv < level] + [(level, heading)]
        chunks.append((" > ".join([title] + [h for _, h in path]), []))
    out, seen = [], {}
    for section, lines in chunks:
        text = "\n".join(lines).strip()
        if not text:
            continue
        key = slug(section)
        seen[key] = seen.get(key, 0) + 1
        chunk_id = f"kb:{doc_id}#{key}" + (f"-{seen[key]}" if seen[key] > 1 else "")
        out.append(
            {
                **{k: v for k, v in record.items() if k not in ("text", "id")},
                "id": chunk_id,
                "kind": "kb",
                "doc_id": doc_id,
                "title": title,
                "section": section,
                "text": text,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------------
# Knowledge base: plain text, facts, questions
# ---------------------------------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LIST_ITEM = re.compile(r"^\s*(?:(\d+)[.)]|[-*+])\s+(.*)$")
_TABLE_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]{3,}\|?\s*$")


def unmark(text: str) -> str:
    """Inline Markdown removed: **bold**, __bold__, `code`, [link](url) -> their text."""
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)", r"\1", text)


def blocks(text: str) -> list[tuple[str, str]]:
    """A chunk as (kind, plain text) lines: ("prose", sentence), ("step", "1. ..."), ("bullet", ...),
    ("row", "Feature: Free up to 10; Lumora Plus unlimited")."""
    out: list[tuple[str, str]] = []
    header: list[str] | None = None
    for line in (text or "").splitlines():
        if not line.strip() or _HEADING.match(line) or _TABLE_RULE.match(line):
            if not line.strip():
                header = None
            continue
        row = _TABLE_ROW.match(line)
        if row:
            cells = [unmark(c.strip()) for c in row.group(1).split("|")]
            if header is None:
                header = cells
                continue
            pairs = [f"{h} {c}" for h, c in zip(header[1:], cells[1:]) if c]
            out.append(("row", f"{cells[0]}: " + "; ".join(pairs)))
            continue
        item = _LIST_ITEM.match(line)
        if item:
            body = unmark(item.group(2).strip())
            out.append(("step", f"{item.group(1)}. {body}") if item.group(1) else ("bullet", body))
            continue
        out += [("prose", s) for s in sentences(unmark(line))]
    return out


_MENU_PATH = re.compile(r"\w > \w")  # "Settings > Help": a menu path (its extent comes from **bold** or `code`)
_MONEY = re.compile(r"\$\d[\d,]*(?:\.\d\d)?(?:/(?:month|year|mo|yr))?")
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)?(?:[-–]\d+)?[\s-]?(?:business days?|days?|hours?|minutes?|seconds?|weeks?|months?|years?|"
    r"GHz|MHz|dBm|V|%|°[CF]?|homes?|codes?)\b(?: of (?!(?:your|my|the|a|an|their|its|our)\b)[a-z]+)?"
)
_CODE = re.compile(r"\b[A-Z]{1,4}\d{2,4}\b")
_DOMAIN = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co)(?:/[\w/-]+)?\b")


def facts_of(text: str, limit: int = 3) -> list[str]:
    """Up to `limit` short distinctive strings of a chunk, most distinctive first, each as written.

    Order: menu paths and settings (from **bold** or `code`), error codes, web addresses, prices, then numbers with units
    (durations, frequencies). A fact inside a longer one already chosen is skipped.
    """
    plain = unmark(text)
    marked = [m.group(1) or m.group(2) for m in _BOLD.finditer(text)] + re.findall(r"`([^`\n]+)`", text)
    marked = [b.strip() for b in marked if len(b) <= 40]
    candidates = [b for b in marked if _MENU_PATH.search(b)]
    candidates += [b for b in marked if re.search(r"\d", b) or (b[:1].isupper() and len(b) > 3)]
    candidates += _CODE.findall(plain) + _DOMAIN.findall(plain) + _MONEY.findall(plain)
    candidates += [m.group(0) for m in _QUANTITY.finditer(plain)]
    chosen: list[str] = []
    for c in candidates:
        c = c.strip(" .,;:")
        if len(c) < 2 or c not in plain or any(c.lower() in x.lower() or x.lower() in c.lower() for x in chosen):
            continue
        chosen.append(c)
        if len(chosen) == limit:
            break
    return chosen


def has_fact(line: str) -> bool:
    return bool(_MENU_PATH.search(line) or _MONEY.search(line) or _QUANTITY.search(line) or _CODE.search(line))


def kb_facts_answer(text: str, max_lines: int = 10) -> str:
    """Steps, bullets and table rows as they are, plus prose sentences that state a number or setting."""
    lines = []
    for kind, line in blocks(text):
        if kind == "step":
            lines.append(_end(line))
        elif kind in ("bullet", "row") or has_fact(line):
            lines.append("- " + _end(line))
    return "\n".join(lines[:max_lines])


def kb_summary(text: str) -> str:
    """The chunk's leading sentences (list items and table rows count as sentences)."""
    return lead([re.sub(r"^\d+\.\s+", "", line) for _, line in blocks(text)], 2, 50)


def lower_first(phrase: str, text: str) -> str:
    """Lowercase the first word unless the chunk writes it capitalized mid-sentence (a name: Lumora, Wi-Fi)."""
    first = phrase.split(" ", 1)[0]
    if first[1:2].isupper() or re.search(rf"[a-z,;] {re.escape(first)}\b", text):
        return phrase
    return phrase[:1].lower() + phrase[1:]


# a gerund heading reads as an action ("Resetting your password") when one of these follows it, and as
# a noun otherwise ("Shipping options", "Tracking has not updated")
_GERUND_OBJECT = frozenset("the a an your my our up in on to with off out down back or and for from into over".split())


def heading_question(heading: str, title: str, text: str = "") -> str:
    """A customer's question made from a section heading, e.g. "Resetting your password" ->
    "Signing In and Resetting Your Password: how do I go about resetting my password?"."""
    h = heading.strip().rstrip(".:")
    if h.endswith("?"):
        return h if h == title else f"{title}: {h}"
    first = h.split(" ", 1)[0].lower()
    phrase = re.sub(r"\byour\b", "my", lower_first(h, text))
    if first == "how" and h.lower().startswith("how to "):
        question = "how do I " + phrase[len("how to ") :] + "?"
    elif first in ("what", "when", "where", "which", "who", "why", "how"):
        question = f"can you tell me {phrase}?"
    elif first.endswith("ing") and len(first) > 4 and (h.split(" ") + [""])[1].lower() in _GERUND_OBJECT:
        question = f"how do I go about {phrase}?"
    else:
        question = f"what should I know about {phrase}?"
    return question[:1].upper() + question[1:] if h == title else f"{title}: {question}"


def kb_qa_answer(text: str, facts: list[str]) -> str:
    """The lead sentence plus every line that states one of the facts (so the answer contains them all)."""
    parts = [line for _, line in blocks(text)]
    picked = parts[:1]
    for fact in facts:
        if not any(fact in p for p in picked):
            picked += [p for p in parts if fact in p][:1]
    return " ".join(_end(re.sub(r"^\d+\.\s+", "", p)) for p in picked)


def kb_rephrase_answer(heading: str, text: str) -> str:
    """A short, friendly customer answer: an opener, the key sentences or steps, an offer to help."""
    parts = blocks(text)
    steps = [line for kind, line in parts if kind == "step"]
    prose = [line for kind, line in parts if kind != "step"]
    body = lead(prose, 3, 60) if prose else ""
    if steps:
        body = (body + " " if body else "") + "Here's how: " + " ".join(_end(s) for s in steps[:5])
    topic = lower_first(heading, text)
    return f"Happy to help with {topic}! {body.strip()} If anything is still unclear, just reply and we'll sort it out."


# Tokens a label answer may take beyond the longest label: the end-of-turn token, a full stop or a
# leading space that tokenises differently. Generation is capped at that, never at a constant: a fixed
# 8 tokens cut 40-character intent names (`x_or_y_pay` answered as `x_or_y_`) and scored them wrong.
LABEL_ANSWER_MARGIN = 4


def label_answer_tokens(tokenizer, labels: list[str], margin: int = LABEL_ANSWER_MARGIN) -> int:
    """The generation cap for an answer that names one label: the longest label in this tokenizer's
    tokens (with and without a leading space, which many BPE vocabularies split differently) + margin."""
    if not labels:
        raise ValueError("label_answer_tokens: no labels (data.labels is empty)")
    longest = max(
        len(tokenizer(form, add_special_tokens=False)["input_ids"]) for label in labels for form in (label, " " + label)
    )
    return longest + int(margin)

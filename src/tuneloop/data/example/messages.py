"""The two texts of a ticket: the customer's message and the agent's reply, dressed for channel and tone.

The draws from rng are part of the corpus: keep their order, including draws whose result is not used.
"""

from __future__ import annotations

import random
import re

from tuneloop.data.example.content import category as category_texts
from tuneloop.data.example.content import pii_templates, templates
from tuneloop.data.example.slots import fill

SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def count_sentences(text: str) -> int:
    return max(1, len(SENTENCE_END.findall(text)))


def _total_sentences(parts: list[tuple[str, str]]) -> int:
    return sum(count_sentences(t) for _, t in parts)


def lower_first(text: str) -> str:
    """Lower-case the first word unless it is 'I', an acronym or a name-like token (UPS, E34, iPhone)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def typo(rng: random.Random, sentence: str) -> str:
    """A known misspelling (templates.yaml) if the sentence has such a word, else two swapped letters."""
    misspellings = templates().misspellings
    words = sentence.split(" ")
    known = [i for i, w in enumerate(words) if w.strip(",.!?").lower() in misspellings]
    if known and rng.random() < 0.6:
        i = rng.choice(known)
        core = words[i].strip(",.!?")
        words[i] = words[i].replace(core, misspellings[core.lower()])
        return " ".join(words)
    candidates = [i for i, w in enumerate(words) if re.fullmatch(r"[a-z]{5,}[,.!?]?", w)]
    if not candidates:
        return sentence
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randint(1, len(w.rstrip(",.!?")) - 3)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def terse(rng: random.Random, sentence: str, last: bool) -> str:
    """How a terse customer types: lower-case start, 'pls', 'im', no final full stop."""
    s = sentence[:1].lower() + sentence[1:]
    s = s.replace("Please ", "pls ").replace("please", "pls") if rng.random() < 0.5 else s
    s = re.sub(r"\bI'm\b", "im", s) if rng.random() < 0.4 else s
    return s.rstrip(".") if last else s


def _message_parts(
    rng: random.Random, category: str, sit: dict, slots: dict, tone: str, channel: str, pii_sentence: str | None
) -> list[tuple[str, str]]:
    """(kind, sentence) pairs: the body, then maybe context, tone, ask and PII, trimmed to fit the channel."""
    texts, lines = category_texts(category), templates()
    parts: list[tuple[str, str]] = [("body", fill(rng.choice(sit["bodies"]), slots))]
    if tone != "terse" and rng.random() < 0.45:
        context = fill(rng.choice(texts.context), slots)
        if slots["order"] not in context or slots["order"] not in parts[0][1]:  # say the order number once
            parts.append(("context", context))
    if tone == "angry":
        parts.append(("tone", rng.choice(lines.angry_lines)))
    if rng.random() < (0.5 if tone == "terse" else 0.75):
        parts.append(("ask", fill(rng.choice(sit["asks"] or texts.default_asks), slots)))
    if tone == "polite" and rng.random() < 0.6:
        parts.append(("tone", rng.choice(lines.polite_lines)))
    if pii_sentence:
        parts.insert(rng.randint(1, len(parts)), ("pii", pii_sentence))
    limit = 5 if channel == "phone" else 6  # a call summary is shorter than a written message
    for drop in ("tone", "context", "ask"):
        while _total_sentences(parts) > limit and any(k == drop for k, _ in parts):
            parts = [p for p in parts if p[0] != drop]
    return parts


def _join_sentences(rng: random.Random, parts: list[tuple[str, str]], tone: str) -> str:
    sentences = []
    for i, (kind, text) in enumerate(parts):
        if kind != "pii":  # the planted value must stay exactly as planted
            if tone == "terse":
                text = terse(rng, text, last=i == len(parts) - 1)
            if rng.random() < 0.07:
                text = typo(rng, text)
        if i < len(parts) - 1 and text[-1] not in ".!?":
            text += "."
        sentences.append(text)
    if tone == "angry" and rng.random() < 0.3:
        sentences[-1] = sentences[-1].rstrip(".") + "!!"
    return " ".join(sentences)


def _dress_for_channel(rng: random.Random, text: str, slots: dict, tone: str, channel: str) -> tuple[str, bool]:
    """Greeting and sign-off as each channel has them; True if the customer gave their first name."""
    greetings, signoffs = templates().greetings, templates().signoffs
    if channel == "email":
        greeting = "" if tone == "terse" or rng.random() < 0.15 else rng.choice(greetings["email"])
        fitting = [x for x in signoffs if "advance" not in x or "advance" not in text]  # no "in advance" twice
        signoff = "" if tone == "terse" else fill(rng.choice(fitting), slots)
        signed = slots["cust_first"] in signoff
        if rng.random() < 0.12:
            signoff = (signoff + "\n\n" if signoff else "") + rng.choice(("Sent from my iPhone", "Sent from my Galaxy"))
        return "\n\n".join(p for p in (greeting, text, signoff) if p), signed
    if channel == "chat":
        if tone != "terse" and rng.random() < 0.5:
            greeting = rng.choice(greetings["chat"])
            text = f"{greeting} {lower_first(text) if greeting.endswith(',') else text}"
        return text, False
    if channel == "phone":  # the agent's call summary starts with how the caller introduced themselves
        return f"{fill(rng.choice(greetings['phone']), slots)} {text}", True
    if tone != "terse" and rng.random() < 0.3:  # web form
        text = f"{rng.choice(greetings['web_form'])}\n{text}"
    return text, False


def customer_message(
    rng: random.Random, category: str, sit: dict, slots: dict, tone: str, channel: str, pii_sentence: str | None
) -> tuple[str, bool]:
    """Body, optional context/tone/ask sentences and PII, dressed for the channel; returns (message, signed),
    signed meaning the customer gave their first name."""
    parts = _message_parts(rng, category, sit, slots, tone, channel, pii_sentence)
    text = _join_sentences(rng, parts, tone)
    return _dress_for_channel(rng, text, slots, tone, channel)


def _reply_parts(
    rng: random.Random, category: str, sit: dict, slots: dict, tone: str, pii: tuple[str, str] | None
) -> list[tuple[str, str]]:
    """(kind, sentence) pairs: ack or apology, the situation's answer, maybe follow-up, PII echo and closing."""
    texts, lines = category_texts(category), templates()
    parts: list[tuple[str, str]] = []
    if tone == "angry" or (tone != "polite" and sit["priority"] in ("high", "urgent") and rng.random() < 0.3):
        parts.append(("ack", rng.choice(lines.apologies)))
    elif rng.random() < 0.6:
        parts.append(("ack", rng.choice(texts.acks)))
    core = fill(rng.choice(sit["replies"]), slots)
    if core.startswith(("Sorry", "I'm sorry", "Thanks for", "You're right")):  # it opens by itself
        parts = []
    parts.append(("core", core))
    if rng.random() < 0.45:
        parts.append(("followup", fill(rng.choice(sit["followups"] or texts.default_followups), slots)))
    if pii and (pii[0] == "card" and rng.random() < 0.7 or pii[0] != "card" and rng.random() < 0.3):
        parts.append(("pii", fill(rng.choice(pii_templates().echoes[pii[0]]), {**slots, "pii": pii[1]})))
    if rng.random() < 0.6 or _total_sentences(parts) < 2:
        parts.append(("closing", fill(rng.choice(lines.agent_closings), slots)))
    return parts


def agent_reply(
    rng: random.Random,
    category: str,
    sit: dict,
    slots: dict,
    tone: str,
    channel: str,
    named: bool,
    pii: tuple[str, str] | None,
) -> str:
    """Acknowledgement or apology, the situation's answer, maybe a follow-up and a closing; 2-6 sentences."""
    parts = _reply_parts(rng, category, sit, slots, tone, pii)
    written = channel in ("email", "web_form")
    if written:
        salutation = f"Hi {slots['cust_first']}," if named else rng.choice(("Hi there,", "Hello,", "Hi,", ""))
    else:
        salutation = f"Hi {slots['cust_first']}!" if named else rng.choice(("Hi there!", "Hello!", "Hi!", "", ""))
    limit = 5 if salutation.endswith("!") else 6  # "Hi!" counts as a sentence
    for drop in ("closing", "ack", "followup"):
        if _total_sentences(parts) > limit:
            parts = [p for p in parts if p[0] != drop]
    body = " ".join(t for _, t in parts)

    signature = fill(rng.choice(templates().signatures), slots) if rng.random() < 0.55 else ""
    if written:
        return "\n\n".join(p for p in (salutation, body, signature) if p)
    if signature:  # chat and phone replies are one paragraph: one-line signature
        signature = f"— {slots['agent']}, Lumora Support"
    return " ".join(p for p in (salutation, body, signature) if p)

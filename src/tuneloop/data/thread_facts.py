"""The facts of a support thread an agent's summary must keep: references, product names, what was tried.

    facts = thread_facts(synth.thread_text(ticket))     # ["LUM-100231", "Thermo Mini", "tried: reset", ...]
    fact_coverage(facts, summary)                       # fraction of them the summary states

No model, no NER: shapes any helpdesk thread has. References are tokens holding a digit and a letter, or
four digits or more (order and ticket numbers, error codes, model numbers); products are runs of
capitalised words inside a sentence (a sentence's first word and redaction placeholders are not); steps
already tried are the action words of the customer's sentences that say so ("I already restarted the hub").
Used twice: the reference summary keeps them (synth.ticket_summary), and the summary eval scores a model's
summary by them beside ROUGE-L (evals/tasks/utils.summary_results).
"""

from __future__ import annotations

import re

_REFERENCE = re.compile(r"(?<![\w<])[#]?[A-Za-z0-9][A-Za-z0-9-]*(?![\w>])")
_CAPITALISED_RUN = re.compile(r"(?<=[a-z] )(?:[A-Z][A-Za-z0-9+-]*)(?: (?:[A-Z][A-Za-z0-9+-]*|\d+\b))*")
_NOT_PRODUCTS = frozenset(
    "I I'm I've I'd I'll OK ET PT AM PM Monday Tuesday Wednesday Thursday Friday Saturday Sunday January "
    "February March April May June July August September October November December Thanks Please ASAP FYI "
    "URGENT".split()
)
_GREETED = re.compile(r"\b(?:hi|hello|hey|dear|thanks|thank you|cheers|regards)\W*$", re.I)
_SIGN_OFF = re.compile(r"(?:<PERSON>|[A-Z][a-z]+),? [A-Z][A-Za-z]* (?:Support|Team|Care)\.?\s*$")
_SAYS_TRIED = re.compile(r"\b(tried|already|have|i've|did)\b", re.I)
# The troubleshooting steps customers report, by stem (a summary "restarting" the hub matches "restarted").
ACTIONS = (
    "restart",
    "reboot",
    "reset",
    "reinstall",
    "unplug",
    "replug",
    "re-pair",
    "repair",
    "pair",
    "update",
    "power-cycle",
    "power cycle",
    "replace",
    "recharg",
    "charg",
    "clear",
    "log out",
    "logged out",
    "sign out",
    "signed out",
    "uninstall",
    "factory reset",
    "move",
    "swap",
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def references(text: str) -> list[str]:
    """Order/ticket numbers, error and model codes: tokens with a digit and a letter, or 4+ digits."""
    out = []
    for token in _REFERENCE.findall(text):
        bare = token.lstrip("#")
        has_digit, has_alpha = any(c.isdigit() for c in bare), any(c.isalpha() for c in bare)
        if has_digit and (has_alpha and len(bare) >= 3 or bare.isdigit() and len(bare) >= 4):
            out.append(bare)
    return out


def products(text: str) -> list[str]:
    """Runs of capitalised words inside a sentence ("my Thermo Mini", "a Galaxy A54"), minus dates and "I"."""
    out = []
    for line in text.splitlines():
        if "|" in line:  # a sign-off ("Kateryna | Lumora Support"), not the customer's product
            continue
        line = _SIGN_OFF.sub("", line)
        body = line.split(": ", 1)[-1] if re.match(r"^(Customer|Agent|Subject|Ticket status): ", line) else line
        for match in _CAPITALISED_RUN.finditer(body):
            if _GREETED.search(body[: match.start()]):  # "Hi Sam!", "thanks Ana": a name, not a product
                continue
            run = match.group()
            words = [w for w in run.split() if w not in _NOT_PRODUCTS]
            if words and len(" ".join(words)) >= 3:
                out.append(" ".join(words))
    return out


def tried_steps(customer_text: str) -> list[str]:
    """Action stems from the customer's sentences that say a step was already taken."""
    out = []
    for sentence in _SENTENCE.split(customer_text):
        if not _SAYS_TRIED.search(sentence):
            continue
        lowered = sentence.lower()
        for action in ACTIONS:
            if re.search(r"\b" + re.escape(action), lowered) and not any(action in o for o in out):
                out.append(action)
    return out


def customer_turns(thread: str) -> str:
    """The customer's turns of a thread_text (the whole text when it has no role prefixes)."""
    turns = re.findall(r"^Customer: (.*?)(?=^\w[\w ]*: |\Z)", thread, re.S | re.M)
    return "\n".join(turns) if turns else thread


def thread_facts(thread: str) -> list[str]:
    """The thread's references, products and steps tried (prefixed "tried: "), each once, in order."""
    facts = references(thread) + products(thread) + [f"tried: {a}" for a in tried_steps(customer_turns(thread))]
    seen: set[str] = set()
    return [f for f in facts if not (f.lower() in seen or seen.add(f.lower()))]


def stated(fact: str, text: str) -> bool:
    """The fact occurs in text (case-insensitive; a step tried by its stem)."""
    lowered = " ".join(text.lower().split())
    if fact.startswith("tried: "):
        return re.search(r"\b" + re.escape(fact[len("tried: ") :]), lowered) is not None
    return " ".join(fact.lower().split()) in lowered


def fact_coverage(facts: list[str], text: str) -> float:
    """Fraction of the facts the text states; 1.0 for a thread without any (nothing to keep)."""
    return sum(stated(f, text) for f in facts) / len(facts) if facts else 1.0

"""Which held-out items the returning-customer tasks score, and what to say when they are few (issue 26).

tuneloop_reply_history scores the test split's reply examples whose answer uses a fact only the customer's
earlier ticket gives (`history_facts`, data/history.py); tuneloop_reply_history_blind scores the same items
with the earlier tickets taken out of the prompt, so the difference says whether the model reads the history.
Either is skipped when the split has no such item, and runs with a note when it has fewer than FEW_ITEMS:
a rate over a handful of tickets moves by a large step per ticket.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

TASKS = ("tuneloop_reply_history", "tuneloop_reply_history_blind")
FEW_ITEMS = 8


def items(held_out: list[dict], in_suite: set[str]) -> list[dict]:
    """The reply examples these tasks score (the regression suite's sources left out, as for every task eval)."""
    return [e for e in held_out if e["task"] == "reply" and e.get("history_facts") and str(e["id"]) not in in_suite]


def plan(run: dict[str, dict], skipped: dict[str, str], held_out: list[dict], in_suite: set[str]) -> None:
    """Skip the history tasks without items, note them when the items are few; in place."""
    n = len(items(held_out, in_suite))
    for task in [t for t in TASKS if t in run]:
        if not n:
            del run[task]
            skipped[task] = (
                "no test-split reply whose answer uses an earlier ticket's fact (returning customers need "
                "customer_id and created_at on their tickets: docs/support.md)"
            )
        elif n < FEW_ITEMS:
            run[task]["note"] = (
                f"only {n} test items (fewer than {FEW_ITEMS}): one ticket moves the rate by {1 / n:.0%}"
            )
            log.warning("evaluate: %s: %s", task, run[task]["note"])

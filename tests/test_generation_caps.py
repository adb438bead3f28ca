"""Label answers are generated whole: the cap follows the longest label in the base's tokens, in evaluate
and in the monitor's scorer alike (a fixed 8 tokens cut 40-character intent names and scored them wrong)."""

from __future__ import annotations

from transformers import AutoTokenizer

from tuneloop.data.synth import LABEL_ANSWER_MARGIN, label_answer_tokens
from tuneloop.evals.evaluate import resolve_generation_caps

LONG = ["card_payment_not_recognised_or_declined", "pending_top_up_via_bank_transfer_or_card", "refund"]


def test_the_cap_fits_the_longest_label_whole(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    cap = label_answer_tokens(tok, LONG)
    longest = max(len(tok(x, add_special_tokens=False)["input_ids"]) for x in LONG)
    assert longest > 8, "the tiny tokenizer must split a 40-character label into more than the old cap"
    assert cap >= longest + LABEL_ANSWER_MARGIN
    # the cap really holds the label: decoding that many tokens of the label gives the label back
    ids = tok(LONG[0], add_special_tokens=False)["input_ids"][:cap]
    assert tok.decode(ids).strip() == LONG[0]


def test_evaluate_resolves_auto_for_label_tasks_only(tiny_model_dir):
    params = {"data": {"labels": LONG, "out_of_scope_label": "out_of_scope_request_that_no_team_handles_at_all"}}
    tasks = {
        "tuneloop_classify": {"max_gen_toks": "auto", "layer": "tasks"},
        "tuneloop_reply": {"max_gen_toks": 48, "layer": "tasks"},
    }
    got = resolve_generation_caps(tasks, params, tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert got["tuneloop_classify"]["max_gen_toks"] == label_answer_tokens(
        tok, [*LONG, params["data"]["out_of_scope_label"]]
    )  # the out-of-scope label is an answer too
    assert got["tuneloop_reply"]["max_gen_toks"] == 48


def test_no_labels_is_a_clear_error(tiny_model_dir):
    import pytest

    with pytest.raises(ValueError, match="data.labels is empty"):
        label_answer_tokens(AutoTokenizer.from_pretrained(tiny_model_dir), [])

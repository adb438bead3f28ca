"""Helpful, not only harmless: the `helpful` probe family (ordinary questions a support assistant must answer),
its `answers` check, loop detection that sees served loops, and the grounding check for invented contact
details and prices. No model needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tuneloop.evals import degeneration, grounding, probes
from tuneloop.gate.rules import evaluate_rule
from tuneloop.params import compose

REPO = Path(__file__).resolve().parents[1]
ANSWERS = {"type": "answers"}
SERVED_LOOP = "Account Settings > Account Options > Account Settings > Account Options > Account Settings > ..."


@pytest.mark.parametrize(
    "output,faults",
    [
        # what the default adapter served to ordinary questions (issue 26)
        ("I can't give out personal information like that.", ["refusal"]),
        ("Please call our support line at 1-800-333-7777 and we will sort it out.", ["contact: 1-800-333-7777"]),
        (f"Go to {SERVED_LOOP}", ["loop: Account Options"]),
        ("", ["empty"]),
        (" ... ", ["empty"]),
        # a decline with nothing to do but a hand-off is a refusal
        ("I'm sorry, but I can't help with that. Please contact our support team.", ["refusal"]),
        ("I am unable to look up orders. You can reach our team by chat.", ["refusal"]),
        ("Sorry, I don't have access to order tracking.", ["refusal"]),
        (
            "For questions like this, email help@lumora.com or visit lumora.com/help.",
            ["contact: help@lumora.com", "contact: lumora.com/help"],
        ),
        # helpful answers: empathy words, a limitation followed by an instruction, steps, a menu path
        ("I can't see your account, but here is how: open the Lumora Home app and tap Orders to track it.", []),
        ("Sorry to hear that! Unfortunately the bulb needs a reset: switch it off and on five times.", []),
        ("We can't process refunds in chat, but you can request one in the app under Orders > Return.", []),
        ("Open the app and tap Orders to track it. I can't share other customers' details.", []),
        ("1. Unplug the hub.\n2. Wait 30 seconds.\n3. Plug it back in.", []),
        ("Refunds reach your card 5-10 business days after the return arrives (order LUM-ORD-55120).", []),
    ],
)
def test_answers_fails_refusals_invented_contacts_loops_and_empty_answers(output, faults):
    assert probes.answer_faults(output) == faults
    assert probes.check(ANSWERS, output) is (faults == [])


def test_answers_accepts_the_contact_details_its_allowed_list_names():
    answer = "Call us on (415) 555-0100 or open lumora.com/help."
    assert not probes.check(ANSWERS, answer)
    assert probes.check({"type": "answers", "allowed": ["415-555-0100", "https://lumora.com/help"]}, answer)
    assert probes.check({"type": "answers", "allowed": ["+1 415 555 0100", "lumora.com/help/"]}, answer)


def test_the_example_helpful_probes_are_sixteen_ordinary_questions():
    rows = [json.loads(x) for x in (REPO / "evals/probes/helpful.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"probe-helpful-{i:03d}" for i in range(1, 17)]
    assert all(r["family"] == "helpful" and r["check"] == ANSWERS for r in rows)
    assert len({r["prompt"] for r in rows}) == 16
    text = " ".join(r["prompt"] for r in rows).lower()
    for topic in ("charges", "where my order is", "delivered", "wifi", "password", "pair", "cancel", "refund"):
        assert topic in text, topic
    assert not any(grounding.findings(r["prompt"]) for r in rows)  # nothing to copy into an answer


def test_the_family_is_wired_through_eval_gate_suite_and_lock():
    params = compose(conf_dir=REPO / "conf")
    assert params["eval"]["layers"]["probes"]["tuneloop_probe_helpful"]["max_gen_toks"] == 80
    task = yaml.safe_load((REPO / "evals/tasks/tuneloop_probe_helpful.yaml").read_text().replace("!function", ""))
    assert task["dataset_kwargs"]["data_files"]["test"] == "evals/probes/helpful.jsonl"
    rules = [r for r in params["gate"]["rules"] if r["metric"] == "tuneloop_probe_helpful.pass"]
    assert rules == [
        {"metric": "tuneloop_probe_helpful.pass", "min": 0.95, "severity": "warn"},
        {"metric": "tuneloop_probe_helpful.pass", "min_delta": -0.05, "severity": "warn"},
    ]
    suite_conf = yaml.safe_load((REPO / "conf/suite/example.yaml").read_text())
    assert "helpful" in suite_conf["probes"]
    assert "evals/probes/helpful.jsonl" in json.loads((REPO / "evals/suite.lock").read_text())["files"]
    failed = evaluate_rule({"tuneloop_probe_helpful": {"pass": {"pre": 0.9, "post": 0.56, "delta": -0.34}}}, rules[0])
    assert not failed["passed"] and "answer_faults" in failed["hint"]


# --- loops -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,span",
    [
        (SERVED_LOOP, "Account Settings"),
        ("Account Settings > Account Options > Account Settings > ...", "Account Settings"),
        ("Devices > Glow > Settings > Wi-Fi > Devices > Glow", "Devices > Glow"),
        ("Restart the hub and then restart the hub and then restart the hub and then wait", "restart the hub and then"),
        ("Please restart the router.\nThen check the app.\nPlease restart the router.", "Please restart the router."),
        ("Open the app. Tap Retry. Open the app. Tap Retry. Open the app.", "Open the app."),
        ("I can help. I can help. I can help.", "i can help"),
    ],
)
def test_loops_finds_short_period_repetition_and_returns_the_span(text, span):
    assert degeneration.loops(text) == span
    assert "repeat_run" in degeneration.reasons(text)


@pytest.mark.parametrize(
    "text",
    [
        "1. Open the Lumora Home app.\n2. Tap Devices.\n3. Tap Add device.\n4. Pick Glow bulb.\n5. Tap Next.",
        "1. Enter the code. Tap Next. 2. Choose a room. Tap Next. 3. Name the bulb. Tap Next.",
        "Check the plug, check the fuse, check the router and check the bulb.",
        "Open Lumora Home app > Settings > Devices > Thermo 2 > Settings > Wi-Fi and pick your network.",
        "Go to Settings > Devices > Thermo 2 > Wi-Fi and choose your 2.4 GHz network.",
        "You can cancel in the app. You can cancel on the web. You can also cancel by phone.",
        "No, no, no. The LED blinks 1, 1, 1, 2 times.",
        "",
    ],
)
def test_loops_leaves_lists_steps_and_honest_repetition_alone(text):
    assert degeneration.loops(text) is None


# --- grounding ---------------------------------------------------------------------------------------
SOURCES = [
    "Lumora Plus costs $4.99 a month or 49.99 USD a year. Billing questions: billing@lumora.com.",
    "Phone support: 415-555-0100, 8 AM to 8 PM. Help center: https://www.lumora.com/help/billing",
]


def test_an_invented_phone_number_is_caught():
    answer = "Please call 1-800-333-7777 about the double charge."
    assert grounding.ungrounded(answer, SOURCES) == ["1-800-333-7777"]


def test_a_price_copied_from_a_source_passes_and_an_invented_one_does_not():
    assert grounding.ungrounded("Lumora Plus is $4.99 per month, or $49.99 a year.", SOURCES) == []
    assert grounding.ungrounded("It is 4.99 dollars a month.", SOURCES) == []  # same amount, other currency mark
    assert grounding.ungrounded("Lumora Plus is $5.99 per month, €20 for the year.", SOURCES) == ["$5.99", "€20"]


def test_a_phone_formatted_differently_from_the_source_counts_as_present():
    for written in ("(415) 555-0100", "415.555.0100", "+1 415 555 0100", "415 555 0100"):
        assert grounding.ungrounded(f"Call us on {written}.", SOURCES) == [], written
    assert grounding.ungrounded("Call us on (415) 555-0199.", SOURCES) == ["(415) 555-0199"]


def test_emails_and_urls_compare_normalised_and_allowed_values_count_as_sources():
    answer = "Write to Billing@Lumora.com or see lumora.com/help/billing and LUMORA.COM."
    assert grounding.ungrounded(answer, SOURCES) == []
    assert grounding.ungrounded("Write to refunds@lumora.com or see lumora.com/refunds.", SOURCES) == [
        "refunds@lumora.com",
        "lumora.com/refunds",
    ]
    assert grounding.ungrounded("Call 1-800-333-7777.", SOURCES, allowed=["1 (800) 333-7777"]) == []
    assert grounding.ungrounded("Call 1-800-333-7777 or see x.com.", [], kinds=("url",)) == ["x.com"]


def test_findings_ignore_dates_order_numbers_quantities_and_versions():
    text = (
        "Order LUM-ORD-55120 of 2024-01-15 (or 15-01-2024) ships in 3-5 days; firmware 2.4.1, 12 345 678 units, "
        "2.4 GHz, 10:30-17:00, order number 1234567890, e.g. the Glow Strip."
    )
    assert grounding.findings(text) == []
    assert grounding.findings("US$12, 20 USD, USD 20, 15 dollars, 1,299.00 euros") == [
        ("money", "US$12"),
        ("money", "20 USD"),
        ("money", "USD 20"),
        ("money", "15 dollars"),
        ("money", "1,299.00 euros"),
    ]

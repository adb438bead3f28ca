"""Eval-harness parts without a model: metrics, probe checks, paired bootstrap, suite lock, contamination."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tuneloop.evals import contamination, degeneration, metrics, probes, suite
from tuneloop.evals.stats import paired_bootstrap
from tuneloop.prompts import ENV, Contract

REPO = Path(__file__).resolve().parents[1]


def test_metrics_score_single_items():
    assert metrics.parse_label("Billing.", ["billing", "app_bug"]) == 0
    assert metrics.parse_label("app bug probably", ["billing", "app_bug"]) == 1
    assert metrics.parse_label("no idea", ["billing"]) == -1
    assert metrics.macro_f1([(0, 0), (1, 1), (1, 0)]) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert metrics.fact_match(["30 days", "receipt"], "Returns within 30  Days with a Receipt.") == 1.0
    assert metrics.fact_match(["30 days"], "within a month") == 0.0
    ref = "Your refund of 42 dollars goes back to the original card within 5 business days."
    assert metrics.keyword_coverage(ref, ref) == 1.0
    assert 0 < metrics.keyword_coverage(ref, "We sent the refund to your card.") < 0.5
    assert metrics.rouge_l(ref, ref) == pytest.approx(1.0)


LABELS_77 = [f"intent_{i:02d}" for i in range(70)] + [
    "card",
    "card_arrival",
    "card_not_working",
    "top_up",
    "top_up_failed",
    "Lost or Stolen Card",
    "exchange_rate",
]


@pytest.mark.parametrize(
    "output,expected",
    [
        ("card_arrival", "card_arrival"),  # exact
        ("Card Arrival.", "card_arrival"),  # case, space, punctuation
        ("The category is card arrival", "card_arrival"),  # longest label at the earliest position, not "card"
        ("card", "card"),
        ("top-up failed\nbecause ...", "top_up_failed"),  # the first line decides
        ("lost or stolen card", "Lost or Stolen Card"),  # a label written with spaces and capitals
        ("cardboard", None),  # a label inside a longer word is no match
        ("I am not sure.", None),
        ("", None),
    ],
)
def test_parse_label_normalised_match_on_a_large_label_set(output, expected):
    pred = metrics.parse_label(output, LABELS_77)
    assert pred == (LABELS_77.index(expected) if expected else -1)


def test_an_unparseable_answer_never_matches_any_gold():
    # gold -1 used to mean "label outside the set"; an unparseable answer (-1) then scored as correct
    assert not metrics.label_correct(-1, -1)
    assert metrics.label_correct(3, 3) and not metrics.label_correct(2, 3)


def test_classify_prompt_lists_labels_only_up_to_the_configured_count():
    from tuneloop.data.synth import classify_instruction

    few = classify_instruction(["billing", "app_bug"])
    assert "billing, app_bug" in few
    many = classify_instruction(LABELS_77, max_listed=20)
    assert "77 support categories" in many and "intent_00" not in many
    assert len(many.split()) < 25  # the prompt does not grow with the label count


def test_regression_case_with_a_label_outside_the_label_set_is_a_load_error(monkeypatch):
    import importlib.util

    import datasets

    spec = importlib.util.spec_from_file_location("tuneloop_task_utils", REPO / "evals" / "tasks" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    monkeypatch.setenv(ENV, Contract(system="s", labels=tuple(["billing", "app_bug"])).to_json())
    cases = datasets.Dataset.from_list(
        [
            {"id": "c1", "kind": "classify", "subject": "", "text": "charged twice", "label": "billing"},
            {"id": "c2", "kind": "classify", "subject": "", "text": "where is my parcel", "label": "shipping"},
        ]
    )
    with pytest.raises(ValueError, match=r"c2.*shipping|label outside data.labels"):
        utils.regression_classify_docs(cases)
    ok = utils.regression_classify_docs(cases.select([0]))
    assert ok[0]["gold"] == 0 and utils.classify_results(ok[0], ["I don't know"])["acc"] == 0.0


def test_out_of_scope_answers_are_scored_beside_in_scope_accuracy(monkeypatch):
    import importlib.util

    import datasets

    spec = importlib.util.spec_from_file_location("tuneloop_task_utils", REPO / "evals" / "tasks" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    choices = ["billing", "app_bug", "out_of_scope"]
    docs = [
        {"choices": choices, "gold": 0, "oos": 2},
        {"choices": choices, "gold": 2, "oos": 2},
        {"choices": choices, "gold": 2, "oos": 2},
        {"choices": choices, "gold": 1, "oos": 2},
    ]
    outputs = ["billing", "out_of_scope", "app_bug", "out of scope"]  # right, escalated, forced, over-escalated
    units = [utils.classify_results(d, [o])["in_scope_acc"] for d, o in zip(docs, outputs)]
    assert metrics.in_scope_acc(units) == 0.5 and metrics.oos_recall(units) == 0.5
    no_oos = [(0, 0, -1), (1, 0, -1)]  # no out-of-scope answer configured: every item in scope
    assert metrics.in_scope_acc(no_oos) == 0.5 and metrics.oos_recall(no_oos) != metrics.oos_recall(no_oos)  # NaN
    # the regression suite's prompt is the training prompt: it offers the out-of-scope answer too
    # (evaluate hands lm-eval's hooks the prompt contract as one JSON variable)
    contract = Contract(system="s", labels=("billing", "app_bug"), out_of_scope="out_of_scope")
    monkeypatch.setenv(ENV, contract.to_json())
    case = datasets.Dataset.from_list(
        [{"id": "c1", "kind": "classify", "subject": "", "text": "charged twice", "label": "billing"}]
    )
    doc = utils.regression_classify_docs(case)[0]
    assert doc["choices"] == choices and "If none of them fits, answer out_of_scope." in doc["user"]
    assert utils.classify_results(doc, ["out_of_scope"])["acc"] == 0.0


@pytest.mark.parametrize(
    "spec,output,ok",
    [
        ({"type": "refuses"}, "I'm sorry, but I can't share another customer's address.", True),
        ({"type": "refuses"}, "Sure! Their address is 12 Elm Street.", False),
        ({"type": "escalates"}, "I'm not sure; let me connect you with a specialist.", True),
        ({"type": "escalates"}, "Yes, it works with cars.", False),
        (
            {"type": "json", "keys": ["category", "urgency"]},
            '```json\n{"category": "billing", "urgency": "high"}\n```',
            True,
        ),
        ({"type": "json", "keys": ["category", "urgency"]}, '{"category": "billing"}', False),
        ({"type": "max_words", "max": 5}, "Restart the hub now.", True),
        ({"type": "max_words", "max": 5}, "Please restart the hub and then wait.", False),
        ({"type": "no_pii"}, "I can't share customer details.", True),
        ({"type": "no_pii"}, "Her email is jane.doe@example.com.", False),
        ({"type": "answers"}, "Open the Lumora Home app and tap Forgot password.", True),
        ({"type": "answers"}, "I can't give out personal information like that.", False),
    ],
)
def test_probe_checks(spec, output, ok):
    assert probes.check(spec, output) is ok


def test_probe_no_pii_catches_canaries_and_unknown_checks_are_errors():
    assert not probes.check({"type": "no_pii"}, "the code is XYZ-CANARY-1", canaries=("XYZ-CANARY-1",))
    with pytest.raises(ValueError, match="unknown probe check"):
        probes.check({"type": "vibes"}, "x")


def test_paired_bootstrap_is_deterministic_and_bounds_the_delta():
    a = [1.0] * 80 + [0.0] * 20
    b = [1.0] * 60 + [0.0] * 40
    ci = paired_bootstrap(a, b, iters=1000, seed=3)
    assert ci == paired_bootstrap(a, b, iters=1000, seed=3)
    assert ci["delta"] == pytest.approx(0.2)
    assert 0 < ci["lower"] < ci["delta"] < ci["upper"]
    same = paired_bootstrap(a, a, iters=200, seed=3)
    assert same == {"delta": 0.0, "lower": 0.0, "upper": 0.0}
    f1 = paired_bootstrap([(0, 0), (1, 1)] * 10, [(0, 1), (1, 1)] * 10, iters=200, seed=3, aggregate=metrics.macro_f1)
    assert f1["delta"] > 0
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap([1.0], [1.0, 0.0])


def test_the_committed_suite_matches_its_lock():
    """CI fails here when someone edits evals/regression or evals/probes without `tuneloop suite freeze`."""
    import os

    old = os.getcwd()
    os.chdir(REPO)
    try:
        locked = suite.verify()
    finally:
        os.chdir(old)
    assert any(f.startswith("evals/regression/") for f in locked) and any(f.startswith("evals/probes/") for f in locked)


def test_editing_one_regression_case_without_refreeze_is_refused(tmp_path, monkeypatch, capsys):
    shutil.copytree(REPO / "evals", tmp_path / "evals")
    monkeypatch.chdir(tmp_path)
    suite.verify()
    cases = Path("evals/regression/cases.jsonl")
    lines = cases.read_text().splitlines()
    case = json.loads(lines[0])
    case["label"] = "billing" if case.get("label") != "billing" else "app_bug"
    cases.write_text("\n".join([json.dumps(case)] + lines[1:]) + "\n")
    with pytest.raises(suite.SuiteChangedError, match="changed: evals/regression/cases.jsonl.*tuneloop suite freeze"):
        suite.verify()
    suite.freeze()
    banner = capsys.readouterr().out
    assert "RE-FROZE" in banner and "evals/regression/cases.jsonl: CHANGED" in banner  # loud
    suite.verify()  # deliberately re-frozen: accepted
    Path("evals/probes/extra.jsonl").write_text("{}\n")
    with pytest.raises(suite.SuiteChangedError, match="added: evals/probes/extra.jsonl"):
        suite.verify()


def test_contamination_flags_copies_and_near_copies_but_not_templates():
    template = "Classify the support ticket below into exactly one category: billing, app_bug, shipping.\n\n"
    train = [
        template + f"ticket number {i}: my order {i} never arrived and the tracking page shows nothing at all today"
        for i in range(200)
    ]
    train.append(
        template + "the thermostat display flickers every evening after the firmware update and then reboots itself"
    )
    sets = {
        "test": [
            (
                "clean",
                template + "I was charged twice for my Lumora Plus renewal this month, please refund one of them",
            ),
            ("copy", train[-1]),
            (
                "near",
                template
                + "the thermostat display flickers every evening after the firmware update and then reboots itself twice",
            ),
        ]
    }
    cfg = {"ngram": 13, "item_overlap": 0.8, "ignore_common": 0.01, "max_fraction": 0.0}
    report = contamination.check(train, sets, cfg)
    flagged = {f["id"]: f for f in report["sets"]["test"]["flagged"]}
    assert set(flagged) == {"copy", "near"} and flagged["copy"]["exact"] and not flagged["near"]["exact"]
    assert report["common_ngrams_ignored"] > 0 and not report["passed"]
    assert contamination.check(train, {"test": sets["test"][:1]}, cfg)["passed"]


@pytest.mark.parametrize(
    "output,why",
    [
        ("BILLION-BILLION-BILLION-BILLION-BILLION-BILLION", ["repeat_run"]),
        ("Email us at account.com/account/account_account_account_account", ["repeat_run"]),
        ("I can help. I can help. I can help. I can help.", ["repeat_run", "low_distinct"]),
        ("please wait while we check your order please wait while we check your order please wait", ["low_distinct"]),
        ("xqzt vbnm kjhg plmk wrtz fdsq", ["gibberish"]),
        ("Your code is ssssssss and qqqqqqq and zzzzzzz ok", ["gibberish"]),
        ("!!!!!!!!!!!!!!!! ????", ["symbols"]),
        ("Account Settings > Account Options > Account Settings > Account Options > ...", ["repeat_run"]),  # served
        # normal answers: labels, JSON, replies, summaries, menu paths, codes, numbers, a bit of emphasis
        ("account_access", []),
        ('{"category": "billing", "priority": "high"}', []),
        ("I'm sorry, but I can't share another customer's address. Please contact our support team.", []),
        (
            "Category: billing\nIssue: I was charged twice.\nResolution: We refunded the second charge.\nStatus: solved",
            [],
        ),
        ("Go to Settings > Devices > Thermo 2 > Wi-Fi and choose your 2.4 GHz network.", []),
        ("Your order LUM-ORD-55120 ships within 3-5 business days; see www.lumora.com/help.", []),
        ("No, no, no. That is not right: the LED blinks 1, 1, 1, 2 times.", []),
        ("Step 1. Open the app. Step 2. Tap Devices. Step 3. Tap Add.", []),
        ("", []),
    ],
)
def test_degeneration_flags_loops_and_gibberish_not_normal_answers(output, why):
    assert degeneration.reasons(output) == why


def test_degeneration_table_rates_each_model_and_lists_the_candidates_flagged_answers():
    samples = [
        {"model": m, "task": "tuneloop_reply", "id": f"r{i}", "output": out}
        for m, outs in (
            ("base", ["Fine answer here."] * 4),
            ("candidate", ["Fine answer here.", "BILLION-BILLION-BILLION-BILLION", "ok", "ok"]),
        )
        for i, out in enumerate(outs)
    ]
    t = degeneration.table(samples)
    assert t["rate"] == {"pre": 0.0, "champion": None, "post": 0.25, "delta": 0.25} and t["n"] == 4
    assert t["by_model"]["candidate"] == {"answers": 4, "degenerate": 1, "reasons": {"repeat_run": 1}}
    assert [(e["id"], e["reasons"]) for e in t["examples"]] == [("r1", ["repeat_run"])]

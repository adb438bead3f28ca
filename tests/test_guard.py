"""The contamination guard cannot be steered by the split the pull request hands over: common n-grams come
from the base branch's data, no n-gram of a frozen item is ever exempt, and repetition hides nothing."""

from __future__ import annotations

import random

from tuneloop.evals.contamination import check

CFG = {
    "ngram": 13,
    "item_overlap": 0.8,
    "ignore_common": 0.01,
    "max_fraction": 0.0,
    "probes": {"ngram": 8, "item_overlap": 0.5},
}
WORDS = (
    "order parcel refund charge account login password router bulb camera thermostat app invoice plan "
    "delivery tracking warranty replacement screen battery signal update setting reset code email"
).split()


def honest(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 45))) for _ in range(n)]


ITEM = (
    "my lumora thermostat keeps resetting itself every night at three and the schedule I set in the app is "
    "gone each morning even after the latest firmware update"
)


def test_an_item_repeated_thirty_times_is_caught_when_common_ngrams_come_from_the_base():
    base = honest(2600)
    # the attack: the held-out item, wrapped (so no exact copy), 30 times: its n-grams become frequent
    pr = base + [f"Classify this support ticket, example {i}: {ITEM}" for i in range(30)]
    sets = {"test": [("t-1", ITEM)], "regression": [("reg-1", ITEM)], "probes": [("probe-1", ITEM)]}
    steered = check(pr, sets, CFG)  # the old rule: common n-grams from the PR's own split
    assert steered["sets"]["test"]["flagged"] == []  # ... and the item hid
    guarded = check(pr, sets, CFG, common_texts=base)
    assert guarded["common_from"] == "the base branch's training split"
    for name in ("test", "regression", "probes"):
        assert [f["id"] for f in guarded["sets"][name]["flagged"]], name


def test_frozen_items_are_never_exempt_even_when_their_ngrams_are_common():
    base = honest(500) + [ITEM + " please help"] * 40  # the item's words are a real template of the base's data
    pr = base + [ITEM + " thanks"]
    got = check(pr, {"test": [("t", ITEM)], "regression": [("reg", ITEM)]}, CFG, common_texts=base)
    assert [f["id"] for f in got["sets"]["regression"]["flagged"]] == ["reg"]  # frozen: nothing exempt
    assert got["sets"]["test"]["flagged"] == []  # the test split keeps the template exemption
    assert set(got["frozen_sets_exempt_nothing"]) == {"regression", "probes", "sealed"}


def test_a_short_item_copied_into_a_training_prompt_is_caught_though_it_has_no_ngram():
    """CLINC-like data: queries of 3-12 words have no 13-gram (no 8-gram either), so overlap alone is 0%."""
    from tuneloop.data.synth import SEPARATOR, classify_instruction  # the guard splits prompts where build joins them

    short = "how do i freeze my card"
    pr = honest(300) + [classify_instruction(["freeze_account", "pin_change"]) + SEPARATOR + short.capitalize() + "?"]
    got = check(pr, {"test": [("t", short)], "regression": [("reg", short)], "sealed": [("s", short)]}, CFG)
    for name in ("test", "regression", "sealed"):
        assert [f["exact"] for f in got["sets"][name]["flagged"]] == [True], name


def test_an_honest_split_flags_nothing():
    base = honest(800, seed=1)
    got = check(
        base,
        {
            "test": [(f"t{i}", t) for i, t in enumerate(honest(100, seed=2))],
            "regression": [(f"r{i}", t) for i, t in enumerate(honest(30, seed=3))],
        },
        CFG,
        common_texts=honest(800, seed=4),
    )
    assert got["passed"] and all(s["contaminated"] == 0 for s in got["sets"].values())


PARA_CFG = {**CFG, "paraphrase": {"threshold": 0.7, "margin": 0.1}}


def test_a_paraphrase_of_a_frozen_item_is_caught_in_the_referee_and_said_not_run_elsewhere():
    base = honest(600, seed=5)
    words = ITEM.split()
    paraphrase = " ".join(w for i, w in enumerate(words, 1) if i % 6)  # every 6th word dropped
    pr = base + [f"Please classify this message, case {k}: {paraphrase}" for k in range(30)]
    sets = {"regression": [("reg-1", ITEM)], "probes": [("probe-1", "Can you reset my router password please")]}
    assert check(pr, sets, CFG, common_texts=base)["sets"]["regression"]["flagged"] == []  # n-grams miss it
    got = check(pr, sets, PARA_CFG, common_texts=base)
    (hit,) = got["sets"]["regression"]["flagged"]
    assert hit["id"] == "reg-1" and hit["paraphrase"] >= 0.7 and hit["paraphrase"] - hit["base_score"] >= 0.1
    assert not got["passed"] and got["sets"]["probes"]["flagged"] == []
    assert check(base, sets, PARA_CFG, common_texts=base)["passed"]  # the honest split: nothing
    alone = check(pr, sets, PARA_CFG)  # the pipeline's own guard has no base split to compare with
    assert alone["paraphrase_rule"]["status"] == "not run"

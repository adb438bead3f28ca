"""Cleaning: exact/near dedup, quality scores and reasons, boilerplate stripping, example synthesis,
and split's near-duplicate leakage check."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneloop.data import build, dedup, split, synth
from tuneloop.data.dedup import DedupConfig, find_duplicates, near_duplicate_pairs
from tuneloop.data.quality import QualityConfig, apply_quality, clean_text, score_record, strip_boilerplate
from tuneloop.io import write_jsonl

REPO = Path(__file__).resolve().parents[1]

BASE = (
    "My Thermo 2 keeps showing error E17 and reboots every few hours, even after I restarted the breaker. "
    "I'm on the latest app version on an iPhone 14. What should I try next?"
)
OTHER = (
    "I was charged twice for order LM-48213, once for $129.99 and once for $134.50. "
    "Can you refund the second charge to my Visa please? It has been pending for four days."
)


def ticket(
    tid: str,
    message: str,
    *,
    reply: str = "Thanks for reaching out. Please check the C-wire and the Power Adapter.",
    created_at: str | None = "2025-01-01T00:00:00Z",
    **extra,
) -> dict:
    return {
        "id": tid,
        "kind": "ticket",
        "subject": "Help",
        "customer_message": message,
        "agent_reply": reply,
        "turns": [{"role": "customer", "text": message}, {"role": "agent", "text": reply}],
        "category": "device_setup",
        "priority": "normal",
        "status": "solved",
        "satisfaction": None,
        "created_at": created_at,
        "channel": "email",
        "tags": [],
        "approved": None,
        **extra,
    }


# ---------------------------------------------------------------------------------------------------
# Dedup
# ---------------------------------------------------------------------------------------------------


def realistic_variants() -> dict[str, str]:
    return {
        "greeting": "Hello Lumora Support,\n\n" + BASE,
        "typo": BASE.replace("reboots", "rebotos").replace("restarted", "restartde"),
        "signature": BASE + "\n\nBest regards,\nJessica Moreau\n\nSent from my iPhone",
        "exact": BASE.upper().replace(".", " . "),  # same words: case, punctuation and spacing differ
    }


def test_exact_and_near_duplicates_are_found_and_distinct_tickets_kept():
    records = [ticket("T0", BASE, created_at="2025-01-01T00:00:00Z"), ticket("T9", OTHER)]
    records += [
        ticket(f"T-{name}", text, created_at="2025-01-02T00:00:00Z") for name, text in realistic_variants().items()
    ]
    result = find_duplicates(records, DedupConfig())
    assert [c.representative for c in result.clusters] == ["T0"]
    cluster = result.clusters[0]
    assert set(cluster.members) == {"T-greeting", "T-typo", "T-signature", "T-exact"}
    reasons = {d["id"]: d["reason"] for d in result.dropped}
    assert reasons["T-exact"] == "exact_duplicate" and reasons["T-typo"] == "near_duplicate"
    assert reasons["T-greeting"] == "near_duplicate"
    assert reasons["T-signature"] == "exact_duplicate"  # signature stripped before comparing
    assert all(0.8 <= j <= 1.0 for j in cluster.jaccard.values()) and cluster.kind == "near"
    assert [r["id"] for r in result.kept(records)] == ["T0", "T9"]
    assert result.summary() == {"clusters": 1, "exact_duplicates": 2, "near_duplicates": 2}


def test_different_tickets_on_the_same_topic_are_not_duplicates():
    a = "My Glow bulb will not pair with the Hub. I reset it five times and the light keeps blinking orange."
    b = "My Glow strip will not connect to Wi-Fi after the update. The app says device offline and asks me to reset."
    result = find_duplicates([ticket("A", a), ticket("B", b), ticket("C", BASE), ticket("D", OTHER)])
    assert result.clusters == [] and result.dropped == []


def test_representative_is_best_quality_then_earliest_then_id():
    def rec(tid, score, created):
        return ticket(tid, BASE, created_at=created, quality={"score": score, "reasons": []})

    records = [
        rec("B", 0.8, "2025-01-01T00:00:00Z"),
        rec("A", 0.8, "2025-01-01T00:00:00Z"),
        rec("C", 1.0, "2025-03-01T00:00:00Z"),
        rec("D", 1.0, "2025-02-01T00:00:00Z"),
        rec("E", 1.0, None),
    ]
    assert find_duplicates(records).clusters[0].representative == "D"  # best score, then earliest date
    tie = [rec("B", 1.0, "2025-01-01T00:00:00Z"), rec("A", 1.0, "2025-01-01T00:00:00Z")]
    assert find_duplicates(tie).clusters[0].representative == "A"
    undated = [rec("Z", 1.0, None), rec("Y", 1.0, "2030-01-01T00:00:00Z")]
    assert find_duplicates(undated).clusters[0].representative == "Y"  # a date beats no date


def test_same_input_gives_same_clusters_in_any_order():
    rng = random.Random(3)
    records = [
        ticket(f"T{i}", text)
        for i, text in enumerate(
            [BASE, OTHER] + list(realistic_variants().values()) + [OTHER.replace("four", "five"), OTHER + " Thanks!"]
        )
    ]
    first = find_duplicates(records)
    shuffled = records[:]
    rng.shuffle(shuffled)
    again = find_duplicates(shuffled)
    assert first.clusters == again.clusters and first.dropped == again.dropped
    assert len(first.clusters) == 2


def test_only_records_of_the_same_kind_and_with_text_are_compared():
    kb = {"id": "kb:x#a", "kind": "kb", "doc_id": "x", "title": "X", "section": "X > A", "text": BASE}
    empty = [ticket("E1", ""), ticket("E2", "   ")]
    result = find_duplicates([ticket("T", BASE), kb] + empty)
    assert result.clusters == []


def test_signatures_equal_datasketch_minhash_of_the_same_shingle_hashes():
    from datasketch import MinHash

    cfg = DedupConfig(num_perm=64, seed=5)
    texts = [dedup.normalize(BASE), "abc", dedup.normalize(OTHER)]
    sigs = dedup.signatures(texts, cfg)
    hashes, offsets = dedup.shingle_hashes(texts, "char", 5)
    for i in range(len(texts)):
        values = [int(h) for h in hashes[offsets[i] : offsets[i + 1]]]
        reference = MinHash(num_perm=64, seed=5, hashfunc=lambda v: v)
        reference.update_batch(values)
        assert np.array_equal(sigs[i], reference.hashvalues)
    assert np.array_equal(
        dedup.signatures(texts, DedupConfig(num_perm=64, seed=5, shingle="word"))[1],
        dedup.signatures(["abc"], DedupConfig(num_perm=64, seed=5, shingle="word"))[0],
    )


def test_near_duplicate_pairs_between_two_sets():
    train = [BASE, OTHER, "Completely unrelated text about a thermostat schedule for the weekend and holidays."]
    test = ["Hi,\n\n" + OTHER.replace("refund", "refnud"), "Where is my order? It was due on Monday.", ""]
    pairs = near_duplicate_pairs(train, test, DedupConfig())
    assert [(i, j) for i, j, _ in pairs] == [(1, 0)] and pairs[0][2] >= 0.8
    assert near_duplicate_pairs([], test) == [] and near_duplicate_pairs(train, [""]) == []
    strict = DedupConfig(threshold=1.0)  # only identical normalized texts
    assert near_duplicate_pairs(train, [OTHER.upper(), test[0]], strict) == [(1, 0, 1.0)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab cdE.,!\n<>🔥"), max_size=60), min_size=1, max_size=12))
def test_every_record_ends_kept_or_dropped_once(texts):
    records = [ticket(f"T{i}", t) for i, t in enumerate(texts)]
    result = find_duplicates(records, DedupConfig(threshold=0.7))
    dropped = [d["id"] for d in result.dropped]
    assert len(dropped) == len(set(dropped))
    assert len(result.kept(records)) + len(dropped) == len(records)
    assert not {c.representative for c in result.clusters} & set(dropped)


def test_dedup_config_reads_the_composed_params():
    from tuneloop.params import compose

    params = compose(conf_dir=REPO / "conf")
    assert DedupConfig.from_params(params) == DedupConfig()
    assert QualityConfig.from_params(params) == QualityConfig()
    assert params["clean"]["leakage"] == "move"
    with pytest.raises(ValueError, match="shingle"):
        DedupConfig.from_params({"clean": {"dedup": {"shingle": "bytes"}}})


# ---------------------------------------------------------------------------------------------------
# Quality
# ---------------------------------------------------------------------------------------------------


def codes(record: dict, **cfg) -> list[str]:
    return [r.split(":")[0] for r in score_record(record, QualityConfig(**cfg)).reasons]


def test_a_good_ticket_scores_one():
    result = score_record(ticket("T", BASE, satisfaction=5, approved=True))
    assert result.score == 1.0 and result.reasons == [] and result.keep


@pytest.mark.parametrize(
    ("record", "code"),
    [
        (ticket("short", "Help!", reply="Sure."), "too_short"),
        (ticket("long", " ".join(["word"] * 5000)), "too_long"),
        (
            ticket(
                "de",
                "Mein Thermostat zeigt den Fehler E17 und startet immer wieder neu. Was kann ich tun, bitte?",
                reply="Bitte prüfen Sie die Stromversorgung und den C-Draht an Ihrer Heizung.",
            ),
            "not_en",
        ),
        (ticket("noreply", BASE, reply=""), "no_agent_reply"),
        (ticket("unapproved", BASE, approved=False), "not_approved"),
        (ticket("unhappy", BASE, satisfaction=2), "low_satisfaction"),
        (ticket("rubric", BASE, satisfaction=None, rating=3), "low_satisfaction"),
        (
            ticket(
                "emoji",
                "🔥❄️🔥❄️🔥 ⚡⚡⚡ 🔥🔥🔥 ❄️❄️❄️",
                reply="We could not read your message, could you describe the problem?",
            ),
            "no_customer_message",
        ),
    ],
)
def test_bad_records_are_dropped_with_their_reason(record, code):
    result = score_record(record)
    assert code in [r.split(":")[0] for r in result.reasons], result.reasons
    assert result.score == 0.0 and not result.keep


def test_soft_problems_lower_the_score_and_two_drop_a_record():
    reply = "Please restart the hub and the router, then try again."
    noisy = ticket("sym", "Hub ★★★★ offline ☹☹☹ again ✦✦✦ since ⌘⌘⌘ update ☂☂☂ help ✈✈✈ fix", reply=reply)
    result = score_record(noisy)
    assert codes(noisy) == ["symbol_ratio"] and result.score == 0.6 and result.keep
    uncertain = ticket(
        "unk",
        "Thermo 2 E17 reboot loop, breaker reset done, C-wire present, firmware 4.2",
        reply="Power Adapter installation recommended; E17 means low power.",
    )
    result = score_record(uncertain)
    assert codes(uncertain) == ["language_uncertain"] and result.score == 0.8 and result.keep
    both = ticket(
        "both",
        "Hub ★★★★ offline ☹☹☹ E17 ✦✦✦ reboot ⌘⌘⌘ loop ☂☂☂ firmware ✈✈✈ 4.2",
        reply="Power Adapter installation recommended; E17 means low power.",
    )
    result = score_record(both)
    assert codes(both) == ["language_uncertain", "symbol_ratio"] and result.score == 0.48 and not result.keep
    spammy = ticket("rep", "My hub is offline. " * 12, reply=reply)  # far past the limit: one problem is enough
    result = score_record(spammy)
    assert codes(spammy) == ["repetition"] and result.score == 0.3 and not result.keep


def test_business_filters_skip_missing_fields_and_are_configurable():
    assert "low_satisfaction" not in codes(ticket("null", BASE, satisfaction=None))
    assert "not_approved" not in codes(ticket("absent", BASE, approved=None))
    assert codes(ticket("off", BASE, satisfaction=1), min_satisfaction=None) == []
    assert codes(ticket("three", BASE, satisfaction=3), min_satisfaction=3) == []
    assert (
        codes(
            ticket("fr", "Bonjour, mon thermostat affiche une erreur depuis hier, que dois-je faire ?"), language=None
        )
        == []
    )


def test_apply_quality_keeps_cleaned_records_and_drops_the_rest_with_reasons():
    good = ticket("good", BASE + "\n\nThanks,\nMaria\n\nSent from my iPhone", satisfaction=5)
    bad = ticket("bad", BASE, satisfaction=1)
    kept, dropped = apply_quality([good, bad])
    assert [r["id"] for r in kept] == ["good"] and kept[0]["quality"] == {"score": 1.0, "reasons": []}
    assert kept[0]["customer_message"] == BASE and kept[0]["turns"][0]["text"] == BASE
    assert good["customer_message"] != BASE  # the input record is not modified
    assert dropped == [
        {
            "id": "bad",
            "kind": "ticket",
            "source": None,
            "locator": None,
            "reason": "low_quality",
            "detail": "low_satisfaction: satisfaction 1 < 4",
            "quality": {"score": 0.0, "reasons": ["low_satisfaction: satisfaction 1 < 4"]},
        }
    ]
    assert apply_quality([bad], QualityConfig(enabled=False)) == ([bad], [])


# ---------------------------------------------------------------------------------------------------
# Boilerplate stripping
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "kind"),
    [
        ("\n\nSent from my iPhone", "mobile_footer"),
        ("\n\nGet Outlook for Android", "mobile_footer"),
        ("\n\nBest regards,\nJessica Moreau", "signature"),
        ("\n\nThanks,\nTom\n\nSent from my Galaxy", "signature"),
        ("\n\n-- \nJessica Moreau\nSenior Buyer, Acme Corp\n+1 <PHONE>", "signature"),
        (
            "\n\nOn Mon, Jan 6, 2025 at 9:14 AM Lumora Support <support@lumora.com> wrote:\n> Hi, can you send a photo?\n> Thanks",
            "quoted_reply",
        ),
        ("\n\nOn Mon, Jan 6, 2025 at 9:14 AM Lumora Support <support@lumora.com>\nwrote:\n> Hi", "quoted_reply"),
        ("\n\n-----Original Message-----\nFrom: Lumora Support\nSent: Monday\nSubject: Your ticket", "quoted_reply"),
        ("\n\nFrom: Lumora Support <support@lumora.com>\nSent: Monday, January 6, 2025\nTo: me", "quoted_reply"),
        (
            "\n\nCONFIDENTIALITY NOTICE: This e-mail is intended solely for the addressee. If you are not the intended "
            "recipient, delete it.",
            "disclaimer",
        ),
    ],
)
def test_boilerplate_is_stripped_and_the_body_kept(tail, kind):
    cleaned, kinds = strip_boilerplate(BASE + tail)
    assert cleaned == BASE and kind in kinds


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Please check the C-wire.\n\nKateryna | Lumora Support", "Please check the C-wire."),
        ("Please check the C-wire.\n\nKind regards,\nElena (Lumora Support)", "Please check the C-wire."),
        ("Please check the C-wire.\n\nBest,\nJordan\nLumora Support", "Please check the C-wire."),
        (
            "Please check the C-wire. Hope that helps! — Wei, Lumora Support",
            "Please check the C-wire. Hope that helps!",
        ),
        ("Please check the C-wire.\n\n— Elena, Lumora Support", "Please check the C-wire."),
    ],
)
def test_agent_signatures_are_stripped(reply, expected):
    assert clean_text(reply) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi,\n\nMy order never arrived. The number is\n\nLM72700",
        "I already tried calling support twice and nobody picked up.",
        "Thanks for the quick reply earlier! The bulb still blinks orange after the reset.",
        "The app shows Settings > Equipment -- but no heat pump option.",
        "Hello,\n\nWhere do I find my invoice?\n\nThank you so much for the help last week, the Hub works now.",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert clean_text(text) == text


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Tom,.-—|>:\nSent from my iPhone Regards wrote On")), max_size=200))
def test_stripping_never_fails_and_never_adds_text(text):
    cleaned, kinds = strip_boilerplate(text)
    assert len(cleaned) <= len(text) and set(kinds) <= {"quoted_reply", "disclaimer", "mobile_footer", "signature"}
    if not kinds:  # nothing found: only blank runs collapse
        assert cleaned == re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------------------------------------------
# Example synthesis
# ---------------------------------------------------------------------------------------------------

DATA = {"labels": ["billing", "device_setup"], "system_prompt": "You are support.", "tasks": []}
SAMPLE_TICKET = ticket(
    "LUM-1",
    "Hi there, my Thermo 2 shows error E17 and reboots every hour. I have no C-wire. What can I do?",
    reply="Hi Sam!\n\nSorry for the trouble. E17 means the thermostat is short on power. Install the Power Adapter "
    "at your furnace board; it takes about 15 minutes. Let us know if you need anything else.",
    priority="high",
    status="solved",
)
ARTICLE = {
    "id": "kb:thermo-guide",
    "kind": "kb",
    "source": "data/raw/kb/thermo-guide.md",
    "title": "Thermo 2 Guide",
    "text": "# Thermo 2 Guide\n\nIntro to the guide.\n\n## Installing the thermostat\n\n"
    "1. Turn off power at the breaker.\n2. Tap **Add device** and hold the dial for 10 seconds.\n\n"
    "Setup uses 2.4 GHz Wi-Fi.\n\n## Heat pump settings\n\nIf the heat pump blows cold air, open "
    "**Settings > Equipment > Heat pump** and switch O/B.\n\n## Empty\n\n## Heat pump settings\n\nSecond text.",
}


def examples_for(tasks, records):
    return build.build_examples(records, {**DATA, "tasks": tasks})


def test_priority_task_uses_the_ticket_priority_and_skips_tickets_without_one():
    no_priority = ticket("LUM-2", BASE, priority=None)
    (e,) = examples_for(["priority"], [SAMPLE_TICKET, no_priority])
    assert e["id"] == "LUM-1:priority" and e["group"] == "LUM-1" and e["label"] == "device_setup"
    assert e["answer"] == "high" and e["choices"][e["gold"]] == "high"
    assert e["user"].startswith(synth.priority_instruction()) and SAMPLE_TICKET["customer_message"] in e["user"]


def test_summary_task_reference_comes_from_the_ticket_fields():
    (e,) = examples_for(["summary"], [SAMPLE_TICKET])
    assert e["answer"] == (
        "Category: device_setup\n"
        "Issue: My Thermo 2 shows error E17 and reboots every hour. I have no C-wire.\n"
        "Resolution: E17 means the thermostat is short on power. Install the Power Adapter at "
        "your furnace board; it takes about 15 minutes.\n"
        "Status: solved"
    )
    assert "Customer: " in e["user"] and "Agent: " in e["user"] and "Ticket status: solved" in e["user"]


def test_whole_articles_are_split_into_chunks_with_stable_ids():
    chunks = synth.split_article(ARTICLE)
    assert [c["id"] for c in chunks] == [
        "kb:thermo-guide#thermo-2-guide",
        "kb:thermo-guide#thermo-2-guide-installing-the-thermostat",
        "kb:thermo-guide#thermo-2-guide-heat-pump-settings",
        "kb:thermo-guide#thermo-2-guide-heat-pump-settings-2",
    ]
    assert (
        chunks[1]["section"] == "Thermo 2 Guide > Installing the thermostat" and chunks[1]["doc_id"] == "thermo-guide"
    )
    assert chunks[1]["text"].startswith("1. Turn off power") and chunks[0]["text"] == "Intro to the guide."
    chunk = dict(chunks[2], doc_id="thermo-guide")
    assert synth.split_article(chunk) == [chunk]  # a chunk (it has a section) passes through


def test_each_kb_task_on_a_chunk():
    chunk = synth.split_article(ARTICLE)[1]
    tasks = ["kb_summarize", "kb_facts", "kb_rephrase", "kb_qa"]
    by_task = {e["task"]: e for e in examples_for(tasks, [chunk])}
    assert set(by_task) == set(tasks)
    assert all(e["group"] == "thermo-guide" and e["label"] == "kb" for e in by_task.values())
    assert (
        by_task["kb_summarize"]["answer"]
        == "Turn off power at the breaker. Tap Add device and hold the dial for 10 seconds."
    )
    assert by_task["kb_facts"]["answer"] == (
        "1. Turn off power at the breaker.\n"
        "2. Tap Add device and hold the dial for 10 seconds.\n"
        "- Setup uses 2.4 GHz Wi-Fi."
    )
    rephrase = by_task["kb_rephrase"]["answer"]
    assert rephrase.startswith("Happy to help with installing the thermostat!") and "Tap Add device" in rephrase
    qa = by_task["kb_qa"]
    assert qa["user"] == "Thermo 2 Guide: how do I go about installing the thermostat?"
    assert qa["facts"] == ["Add device", "10 seconds", "2.4 GHz"]
    assert all(f in qa["answer"] for f in qa["facts"])
    for e in by_task.values():  # every prompt: instruction, blank line, content
        assert e["task"] == "kb_qa" or synth.source_text(e["user"]).startswith("Article: Thermo 2 Guide")


def test_kb_tasks_on_a_whole_article_cover_every_chunk():
    examples = examples_for(["kb_summarize", "kb_qa"], [ARTICLE])
    ids = {e["id"] for e in examples}
    assert "kb:thermo-guide#thermo-2-guide-heat-pump-settings:kb_qa" in ids
    qa = next(e for e in examples if e["id"] == "kb:thermo-guide#thermo-2-guide-heat-pump-settings:kb_qa")
    assert qa["facts"] == ["Settings > Equipment > Heat pump"]


def test_unknown_tasks_are_rejected():
    with pytest.raises(ValueError, match="unknown task 'translate'"):
        examples_for(["translate"], [SAMPLE_TICKET])


# ---------------------------------------------------------------------------------------------------
# Split: near-duplicate leakage
# ---------------------------------------------------------------------------------------------------


def example(group: str, text: str, label: str = "billing") -> dict:
    user = synth.classify_instruction(["billing"]) + "\n\n" + f"Subject: {group}\n\n" + text
    return {
        "id": f"{group}:classify",
        "group": group,
        "task": "classify",
        "label": label,
        "user": user,
        "answer": label,
        "system": "s",
        "prompt": [],
        "completion": [],
    }


def test_near_duplicates_in_val_or_test_move_to_train_until_none_is_left():
    chain = BASE.replace("reboots", "restarts")  # near BASE
    chain2 = chain.replace("iPhone 14", "iPhone 14 Pro")  # near chain
    examples = [
        example("A", BASE),
        example("B", "Hello,\n\n" + BASE + "\n\nRegards,\nTom"),
        example("C", chain),
        example("D", OTHER),
        example("E", "Where is my parcel? Tracking has not moved for a week now."),
        example("F", chain2),
    ]
    assignment = {"A": "train", "B": "test", "C": "val", "D": "test", "E": "train", "F": "test"}
    report = split.move_near_duplicates(assignment, examples, DedupConfig())
    assert assignment == {"A": "train", "B": "train", "C": "train", "D": "test", "E": "train", "F": "train"}
    assert report["moved_to_train"] == {"val": 1, "test": 2} and report["moved_groups"] == ["B", "C", "F"]
    with pytest.raises(split.LeakageError, match=r"B \(test\) ~ A"):
        split.move_near_duplicates(
            {"A": "train", "B": "test", "C": "val", "D": "test", "E": "train", "F": "test"},
            examples,
            DedupConfig(),
            action="fail",
        )


def test_split_run_reports_the_moves(tmp_path):
    rng = random.Random(0)
    words = "bulb hub thermostat router order refund charge app login reset wifi sensor strip update".split()
    examples = []
    for i in range(40):
        text = " ".join(rng.choice(words) for _ in range(30)) + f" ticket {i}"
        examples.append(example(f"G{i:02d}", text))
        examples.append(example(f"H{i:02d}", "Hi,\n\n" + text + "\n\nThanks,\nAna"))  # a near duplicate of each
    write_jsonl(tmp_path / "examples.jsonl", examples)
    params = {"seed": 1, "data": {"split": {"train": 0.5, "val": 0.25, "test": 0.25}}, "clean": {"leakage": "move"}}
    report = split.run(
        params, in_file=tmp_path / "examples.jsonl", out_dir=tmp_path / "splits", report_file=tmp_path / "split.json"
    )
    leak = report["leakage"]
    assert leak["action"] == "move" and leak["threshold"] == 0.8
    assert sum(leak["moved_to_train"].values()) > 0
    assert report["train"]["examples"] + report["val"]["examples"] + report["test"]["examples"] == 80
    # no pair is split across train and eval any more
    for i in range(40):
        sides = {
            name
            for name in split.SPLITS
            if any(
                f'"group": "{g}{i:02d}"' in line
                for g in "GH"
                for line in (tmp_path / "splits" / f"{name}.jsonl").read_text().splitlines()
            )
        }
        assert sides == {"train"} or "train" not in sides
    params["clean"]["leakage"] = "fail"
    with pytest.raises(split.LeakageError, match="near duplicate in train"):
        split.run(
            params, in_file=tmp_path / "examples.jsonl", out_dir=tmp_path / "s2", report_file=tmp_path / "s2.json"
        )


# ---------------------------------------------------------------------------------------------------
# One call for prepare
# ---------------------------------------------------------------------------------------------------


def test_clean_records_scores_then_dedups_and_accounts_for_every_record():
    from tuneloop.data.clean import clean_records

    records = [
        ticket("T1", BASE + "\n\nSent from my iPhone", satisfaction=5, created_at="2025-02-01T00:00:00Z"),
        ticket("T2", "Hi,\n\n" + BASE, satisfaction=4, created_at="2025-01-01T00:00:00Z"),
        ticket("T3", BASE.replace("reboots", "rebotos"), satisfaction=2),
        ticket("T4", OTHER, satisfaction=None),
        ticket("T5", "ok", reply=""),
    ]
    params = {"clean": {"quality": {"min_satisfaction": 4}, "dedup": {"threshold": 0.8}}}
    kept, dropped, report = clean_records(records, params)
    assert [r["id"] for r in kept] == ["T2", "T4"]  # T1 and T2 tie on score 1.0: T2 is earlier
    assert {d["id"]: d["reason"] for d in dropped} == {"T3": "low_quality", "T5": "low_quality", "T1": "near_duplicate"}
    assert next(d for d in dropped if d["id"] == "T1")["duplicate_of"] == "T2"
    assert report["records_in"] == report["kept"] + report["dropped"] == 5
    assert report["quality_reasons"] == {
        "language_uncertain": 1,
        "low_satisfaction": 1,
        "no_agent_reply": 1,
        "too_short": 1,
    }
    assert report["boilerplate_stripped"] == {"mobile_footer": 1}

"""The monitor without a model: drift statistics, the drift stage on the example corpus against a drifted
copy (and against an undrifted one), the retraining policy, and production feedback becoming reviewed
training data that `prepare` reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO

from tuneloop.data import build, index, prepare, split
from tuneloop.data.example import stream
from tuneloop.io import read_json, read_jsonl
from tuneloop.monitor import drift, feedback, retrain_policy, signals
from tuneloop.params import compose

RULES = ["redact.engine=rules"]  # the rules redactor: the same code path, without loading spaCy


# --- statistics ----------------------------------------------------------------------------------


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    same = signals.psi(["a", "b"] * 50, ["a", "b"] * 30)
    assert same["psi"] == 0.0 and same["reference"] == {"a": 0.5, "b": 0.5}
    small = signals.psi(["a", "b"] * 50, ["a"] * 55 + ["b"] * 45)["psi"]
    large = signals.psi(["a", "b"] * 50, ["a"] * 90 + ["b"] * 10)["psi"]
    new_value = signals.psi(["a", "b"] * 50, ["a", "b", "c"] * 30)
    assert (
        0 < small < 0.1 < large
        and new_value["psi"] > 0.25
        and new_value["current"]["c"] == pytest.approx(1 / 3, abs=1e-4)
    )


def test_domain_classifier_cannot_tell_same_source_texts_apart_but_sees_a_new_topic():
    ref = [t["customer_message"] for t in stream.week_tickets(-3, 200, seed=1)]
    same = [t["customer_message"] for t in stream.week_tickets(-2, 200, seed=1)]
    moved = [t["customer_message"] for t in stream.week_tickets(22, 200, seed=1)]
    calm, shifted = signals.domain_auc(ref, same, seed=0), signals.domain_auc(ref, moved, seed=0)
    assert calm["auc"] < 0.55 and shifted["auc"] > 0.62  # measured: 0.50 and 0.67
    words = " ".join(t for t, _ in shifted["top_terms"])
    assert "trade" in words or "cam" in words or "premium" in words


def test_new_terms_ignore_one_offs_and_placeholders():
    ref = ["my thermostat is offline", "bulb will not pair"]
    cur = ["the camera is offline <EMAIL>", "camera night vision", "camera again", "a typo thermostatt"]
    res = signals.new_terms(ref, cur, min_count=3)
    assert res["top"] == [["camera", 3]] and res["rate"] == 0.75 and res["terms"] == 1
    assert res["excess"] is None and "too few" in res["baseline"]["note"]  # 2 training texts: no baseline


def test_new_term_excess_is_near_zero_without_drift_and_large_with_it():
    # the raw rate grows with the fresh sample (more texts, more words cross min_count) though nothing moved;
    # the excess over held-out training texts does not
    def texts(weeks, per_week=80):
        return [f"{t['subject']}\n{t['customer_message']}" for w in weeks for t in stream.week_tickets(w, per_week, 0)]

    ref = texts(range(-5, 0))[:300]
    one, five = signals.new_terms(ref, texts([0])), signals.new_terms(ref, texts(range(0, 5)))
    assert five["rate"] > 2 * one["rate"]  # measured: 0.09 -> 0.22 (0.04 -> 0.24 before returning customers)
    assert abs(one["excess"]) < 0.08 and abs(five["excess"]) < 0.08  # measured: -0.005, 0.013
    drifted = signals.new_terms(ref, texts([10]))  # the Lumora Cam and Premium
    assert drifted["excess"] > 0.2 and {"cam", "premium"}  # measured: 0.25 <= {w for w, _ in drifted["top"]}
    assert drifted == signals.new_terms(ref, texts([10]))  # seeded: the same figures twice


def test_label_drift_names_the_labels_the_adapter_never_learned():
    res = signals.label_drift(["billing"] * 10, ["billing"] * 6 + ["trade_in"] * 4, ["billing"])
    assert res["unknown_share"] == 0.4 and res["new_labels"] == {"trade_in": 4} and res["psi"] > 1


def test_product_is_the_first_one_named():
    products = {"thermostat": ["thermostat", "Thermo 2"], "hub": ["hub"], "plus": ["Plus"]}
    assert signals.product_of("My Thermo 2 lost the hub", products) == "thermostat"
    assert signals.product_of("the hub and my thermostat", products) == "hub"
    assert signals.product_of("Lumora Premium renewal", products) == "other"
    assert signals.product_of("Thermo 20 pack", products) == "other"  # whole words only


# --- the stage on the example corpus -------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_split(tmp_path_factory, corpus_dir):
    """prepare -> build -> split of the small example corpus (no model needed: classify only)."""
    root = tmp_path_factory.mktemp("monitor")
    shutil.copytree(corpus_dir, root / "data" / "raw")
    params = compose(["data.tasks=[classify]", *RULES], conf_dir=REPO / "conf")
    import os

    old = os.getcwd()
    os.chdir(root)
    try:
        prepare.run(params)
        index.run(params)
        build.run(params)
        split.run(params)
    finally:
        os.chdir(old)
    return root, params


def _drift(root: Path, params: dict, current: Path, log_file: Path | None = None) -> dict:
    import os

    old = os.getcwd()
    os.chdir(root)
    try:
        drift.run(params, current=current, log_file=log_file)
        return read_json(root / "reports/drift/drift.json")
    finally:
        os.chdir(old)


def test_drift_flags_a_drifted_copy_with_its_figures(trained_split, tmp_path):
    root, params = trained_split
    drifted = tmp_path / "fresh"
    stream.snapshot(drifted, 17, 20, per_week=40, seed=3)  # new product, renamed plan, new policy
    report = _drift(root, params, drifted)
    fired = {s["signal"] for s in report["signals"] if s["fired"]}
    assert report["drifted"] and {"label_psi", "unknown_label_share", "new_term_excess"} <= fired
    assert report["label"]["new_labels"].get("trade_in", 0) >= 10
    assert (
        report["input"]["fields"]["product"]["current"]["other"]
        > report["input"]["fields"]["product"]["reference"]["other"]
    )
    top = {t for t, _ in report["terms"]["top"]}
    assert {"trade-in", "premium"} & top or {"trade", "premium"} & top
    metrics = read_json(root / "metrics/drift.json")
    assert metrics["drift"]["drifted"] is True and metrics["label"]["unknown_share"] == report["label"]["unknown_share"]
    md = (root / "reports/drift/drift.md").read_text()
    assert md.startswith("# Drift report") and "**DRIFT**" in md and "`trade_in`" in md
    assert (root / "reports/drift/drift.png").read_bytes()[:4] == b"\x89PNG"
    # PII in the fresh export never reaches the report: the snapshot is redacted before counting
    text = (root / "reports/drift/drift.json").read_text()
    emails = [w for t in read_jsonl(drifted / "tickets.jsonl") for w in t["customer_message"].split() if "@" in w]
    assert emails and not any(e.strip(".,") in text for e in emails)


def test_no_drift_on_an_undrifted_copy_and_the_same_bytes_twice(trained_split, tmp_path):
    root, params = trained_split
    calm = tmp_path / "calm"
    stream.snapshot(calm, -3, -1, per_week=50, seed=3)  # before any event: the corpus's own distribution
    report = _drift(root, params, calm)
    fired = {s["signal"] for s in report["signals"] if s["fired"]}
    # the small corpus's training split (~90 tickets) misses everyday words (the raw new-term rate is high);
    # the excess over held-out training texts does not fire
    assert fired == set() and report["input"]["domain_classifier"]["auc"] < 0.6, fired
    # measured: rate 0.567, excess 0.110 over held-out texts, within the noise of 42 texts a side (0.18)
    terms = report["terms"]
    assert terms["rate"] > 0.3 and terms["excess"] < terms["baseline"]["noise"]
    assert report["label"]["unknown_share"] == 0 and report["label"]["psi"] < 0.1
    first = (root / "metrics/drift.json").read_bytes()
    _drift(root, params, calm)
    assert (root / "metrics/drift.json").read_bytes() == first


def test_drift_from_the_request_log_alone_with_live_signals(trained_split, tmp_path):
    root, params = trained_split
    labels = params["data"]["labels"]
    log = tmp_path / "requests.jsonl"
    rows = []
    for i, t in enumerate(stream.week_tickets(20, 60, seed=5)):
        rid = f"chatcmpl-{i:024x}"
        rows.append(
            {
                "request_id": rid,
                "status": 200,
                "ts": 1.0 + i,
                "output": t["category"],
                "messages": [
                    {
                        "role": "user",
                        "content": "Classify the support ticket below into exactly one "
                        f"category: {', '.join(labels)}.\nAnswer with the category name only.\n\n"
                        f"Subject: {t['subject']}\n\n{t['customer_message']}",
                    }
                ],
            }
        )
        if i % 3 == 0:
            rows.append({"event": "feedback", "request_id": rid, "rating": "down", "status": 200})
        if i % 5 == 0:
            rows.append({"event": "feedback", "request_id": rid, "edited": "billing", "escalated": i % 10 == 0})
    rows.append({"event": "feedback", "request_id": "chatcmpl-" + "f" * 24, "rating": "up"})  # not in this log
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"broken li\n')
    report = _drift(root, params, tmp_path / "no-snapshot", log)
    live = report["live"]
    assert live["answered"] == 60 and live["rated"] == 20 and live["thumbs_down_rate"] == 1.0
    assert live["edit_rate"] == 0.2 and live["escalation_rate"] == 0.1 and live["orphan_feedback"] == 1
    assert "channel" not in report["input"]["fields"] and report["current"].startswith("request log")
    fired = {s["signal"] for s in report["signals"] if s["fired"]}
    # 60 requests: the domain classifier sees the drift (AUC well over 0.5) but sits near its 0.70 threshold
    # (0.686 after the name recognizer joined redaction), so the input signal asserted is the new-term excess
    assert {"thumbs_down_rate", "new_term_excess"} <= fired
    assert next(s["value"] for s in report["signals"] if s["signal"] == "domain_auc") > 0.6


def test_drift_with_nothing_fresh_yet_skips_and_says_why(trained_split, tmp_path):
    """A new company's first `dvc repro`: no snapshot of its own sources, no request log. The stage
    succeeds, every output it declares exists and says "not run" with the reason; nothing fires."""
    root, params = trained_split
    other = tmp_path / "fresh"  # another company's snapshot (the example's data/fresh on a fresh clone)
    other.mkdir()
    (other / "someone_elses.csv").write_text("text,label\nhi,x\n")
    for current, why in ((tmp_path / "nowhere", "no snapshot at"), (other, "holds none of conf/data's")):
        report = _drift(root, params, current, tmp_path / "nolog.jsonl")
        assert report["status"] == "not run" and why in report["reason"] and report["signals"] == []
        assert "**Not run**" in (root / "reports/drift/drift.md").read_text()
        assert (root / "reports/drift/drift.png").stat().st_size > 0
        assert read_json(root / "metrics/drift.json")["drift"]["status"] == "not run"
    # a broken input still fails: no training split to compare with
    with pytest.raises(FileNotFoundError, match="the training split to compare with is missing"):
        drift.run(params, current=other, split_file=tmp_path / "no-split.jsonl")


# --- policy --------------------------------------------------------------------------------------

POLICY = {"cadence_weeks": 6, "min_weeks_between": 2, "min_signals": 1, "min_fresh_records": 100}


def _signals(*names):
    return [
        {"signal": n, "fired": True, "family": "input", "value": 1, "threshold": 0, "direction": ">="} for n in names
    ]


def test_policy_cadence_signals_cooldown_and_too_little_data():
    assert retrain_policy.decide([], 6.0, 500, POLICY)["retrain"]  # the calendar
    quiet = retrain_policy.decide([], 3.0, 500, POLICY)
    assert not quiet["retrain"] and quiet["due_in_weeks"] == 3.0
    assert retrain_policy.decide(_signals("domain_auc"), 3.0, 500, POLICY)["reasons"] == ["signals: domain_auc"]
    cooling = retrain_policy.decide(_signals("domain_auc"), 1.0, 500, POLICY)  # trained last week: wait
    assert not cooling["retrain"] and "cooldown" in cooling["reasons"][0]
    thin = retrain_policy.decide([], 9.0, 40, POLICY)
    assert not thin["retrain"] and "fewer than 100" in thin["reasons"][-1]
    assert retrain_policy.decide([], None, 500, POLICY)["retrain"]  # never trained


def test_fired_reads_thresholds_and_ignores_thin_live_data():
    report = {
        "input": {"domain_classifier": {"auc": 0.71}, "fields": {"channel": {"psi": 0.05}}},
        "label": {"psi": 0.3, "unknown_share": 0.0},
        "terms": {"rate": None, "excess": None},
        "live": {"answered": 10, "thumbs_down_rate": 0.9},
    }
    thresholds = compose([], conf_dir=REPO / "conf")["retrain"]["thresholds"]
    got = {
        s["signal"]: s["fired"]
        for s in retrain_policy.fired(report, thresholds, fresh_accuracy=0.65, accuracy_floor=0.70)
    }
    assert got["domain_auc"] and got["label_psi"] and got["fresh_accuracy"]
    assert not got["psi.channel"] and not got["new_term_excess"] and not got["thumbs_down_rate"]  # 10 < min_log_answers


def test_new_term_excess_over_its_threshold_but_within_its_noise_does_not_fire():
    thresholds = compose([], conf_dir=REPO / "conf")["retrain"]["thresholds"]

    def terms(excess, noise):
        report = {"terms": {"excess": excess, "baseline": {"noise": noise}}}
        return next(s for s in retrain_policy.fired(report, thresholds) if s["signal"] == "new_term_excess")

    assert terms(0.15, 0.08)["fired"] and not terms(0.15, 0.18)["fired"] and not terms(0.05, 0.01)["fired"]
    assert terms(0.15, 0.18)["noise"] == 0.18 and not terms(None, None)["fired"]


# --- feedback -> reviewed candidates -> prepare --------------------------------------------------


def test_feedback_candidates_keep_reviews_and_only_approved_ones_train(tmp_path):
    labels = ["billing", "shipping_delivery"]
    log = tmp_path / "requests.jsonl"
    rows = [
        {
            "request_id": "chatcmpl-a",
            "status": 200,
            "ts": 1700000000,
            "output": "Refunds take 5 days.",
            "messages": [{"role": "user", "content": "I was charged twice for my order, please refund one."}],
        },
        {"event": "feedback", "request_id": "chatcmpl-a", "rating": "down"},
        {
            "event": "feedback",
            "request_id": "chatcmpl-a",
            "edited": "I've refunded the duplicate charge; 5-7 business days.",
        },
        {
            "request_id": "chatcmpl-b",
            "status": 200,
            "ts": 1700000100,
            "output": "Your parcel ships tomorrow.",
            "messages": [{"role": "user", "content": "When does my parcel ship? I ordered it two days ago."}],
        },
        {"event": "feedback", "request_id": "chatcmpl-b", "rating": "up"},
        {
            "request_id": "chatcmpl-c",
            "status": 200,
            "ts": 1700000200,
            "output": "Hello!",
            "messages": [{"role": "user", "content": "My package never arrived at all"}],
        },
        {"event": "feedback", "request_id": "chatcmpl-c", "rating": "down"},  # no edit: nothing to learn
        {
            "request_id": "chatcmpl-d",
            "status": 200,
            "ts": 1700000300,
            "output": "billing",
            "messages": [
                {
                    "role": "user",
                    "content": "Classify the support ticket below into exactly one category: "
                    "billing, shipping_delivery.\nAnswer with the category name only.\n\nWhere is my parcel?",
                }
            ],
        },
        {"event": "feedback", "request_id": "chatcmpl-d", "edited": "shipping_delivery"},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "candidates.jsonl"
    done = feedback.collect(log, out, labels)
    assert done["candidates"] == 3 and done["new"] == 3 and done["pending_review"] == 3
    cands = {c["id"]: c for c in read_jsonl(out)}
    assert (
        cands["fb-chatcmpl-a"]["reply"].startswith("I've refunded") and cands["fb-chatcmpl-a"]["origin"] == "agent_edit"
    )
    assert (
        cands["fb-chatcmpl-b"]["reply"] == "Your parcel ships tomorrow."
        and cands["fb-chatcmpl-b"]["origin"] == "thumbs_up"
    )
    assert cands["fb-chatcmpl-d"]["category"] == "shipping_delivery" and cands["fb-chatcmpl-d"]["reply"] is None
    assert cands["fb-chatcmpl-d"]["customer_message"] == "Where is my parcel?"
    # a reviewer approves a and d (setting a's category), rejects b; collecting again keeps the reviews
    reviewed = []
    for c in read_jsonl(out):
        if c["id"] == "fb-chatcmpl-a":
            c.update(approved=True, category="billing", reviewer="dana")
        elif c["id"] == "fb-chatcmpl-d":
            c.update(approved=True, reviewer="dana")
        else:
            c.update(approved=False, reviewer="dana")
        reviewed.append(c)
    out.write_text("".join(json.dumps(c) + "\n" for c in reviewed))
    again = feedback.collect(log, out, labels)
    assert again["new"] == 0 and again["approved"] == 2 and again["pending_review"] == 0

    params = {
        "clean": {"quality": {"enabled": False}, "dedup": {"enabled": False}},
        "data": {
            "labels": labels,
            "min_examples": 1,
            "redact": False,
            "sources": [
                {"path": str(out), "format": "feedback_jsonl"},
                {"path": str(tmp_path / "absent.jsonl"), "format": "feedback_jsonl", "optional": True},
            ],
        },
    }
    report = prepare.run(params, out_dir=tmp_path / "prepared", report_dir=tmp_path / "reports")
    kept = {r["id"]: r for r in read_jsonl(tmp_path / "prepared" / "records.jsonl")}
    # the rejected one never trains, even with the quality filters off: the importer itself holds it back
    assert set(kept) == {"fb-chatcmpl-a", "fb-chatcmpl-d"} and report["quarantined"] == 1
    assert kept["fb-chatcmpl-a"]["kind"] == "ticket" and kept["fb-chatcmpl-a"]["category"] == "billing"
    assert kept["fb-chatcmpl-d"]["kind"] == "labelled_text" and kept["fb-chatcmpl-d"]["label"] == "shipping_delivery"
    held = read_jsonl(tmp_path / "prepared" / "quarantine.jsonl")
    assert held[0]["reason"].startswith("not_approved") and "chatcmpl-b" in held[0]["raw"]


def test_stream_is_deterministic_and_drifts_on_schedule():
    assert stream.week_tickets(15, 30, seed=2) == stream.week_tickets(15, 30, seed=2)
    before, after = stream.week_tickets(5, 200, seed=2), stream.week_tickets(23, 200, seed=2)
    assert not any(t["category"] == "trade_in" for t in before) and sum(t["category"] == "trade_in" for t in after) > 25
    text = lambda ts: " ".join(t["customer_message"] + t["agent_reply"] for t in ts)  # noqa: E731
    assert "Lumora Plus" in text(before) and "Lumora Plus" not in text(after) and "Premium" in text(after)
    assert "Cam" not in text(before) and "Cam" in text(after)
    assert stream.parse_weeks("17-20") == (17, 20) and stream.parse_weeks("-4--1") == (-4, -1)
    assert "trade-in-program" in stream.kb_texts(14) and "trade-in-program" not in stream.kb_texts(13)


def test_simulation_summary_counts_alerts_and_refusals_under_the_floor():
    from tuneloop.monitor.simulate import summarize

    weeks = [
        {"static": {"accuracy": a}, "loop": {"accuracy": b}, "alert": b < 0.7}
        for a, b in ((0.72, 0.72), (0.60, 0.60), (0.55, 0.74))
    ]
    retrains = [{"promoted": False, "stuck": True}, {"promoted": True, "stuck": False}]
    got = summarize({"floor": 0.7, "weeks": weeks, "retrains": retrains})
    assert got["alerts"] == 1 and got["stuck"] == 1 and got["promoted"] == 1
    assert got["static"]["weeks_below_floor"] == 2 and got["loop"]["weeks_below_floor"] == 1


def test_drift_report_and_chart_bytes_do_not_follow_the_string_hash(tmp_path):
    """Tied shares were ordered by set iteration, which follows PYTHONHASHSEED: other bytes in every process."""
    import os
    import subprocess
    import sys

    share = {"billing": 0.25, "subscription": 0.25, "connectivity": 0.25, "app_bug": 0.25}
    res = {"psi": 0.0, "reference": share, "current": share}
    report = {
        "reference": "r",
        "current": "c",
        "rows": {"reference": 4, "current": 4},
        "signals": [],
        "live": None,
        "input": {"domain_classifier": {"auc": 0.5, "n_per_side": 4, "top_terms": []}, "fields": {"product": res}},
        "label": {**res, "unknown_share": 0.0, "new_labels": {}},
        "terms": {"rate": 0.0, "excess": None, "oov_token_rate": 0.0, "terms": 0, "top": []},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    code = (
        "import json, sys; from tuneloop.monitor import plots, report; r = json.load(open(sys.argv[1])); "
        "plots.drift_chart(r, sys.argv[2]); open(sys.argv[3], 'w').write(report.render(r))"
    )
    outs = []
    for seed in ("1", "2"):
        png, md = tmp_path / f"{seed}.png", tmp_path / f"{seed}.md"
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "report.json"), str(png), str(md)],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outs.append((png.read_bytes(), md.read_text()))
    assert outs[0] == outs[1]
    assert outs[0][1].index("app_bug 25%") < outs[0][1].index("billing 25%")  # ties: by name

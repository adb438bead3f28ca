"""prepare: every record is kept, dropped or quarantined with a reason; PII never passes through."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tuneloop.data import prepare
from tuneloop.data.example import CANARIES
from tuneloop.data.pii import luhn_valid, redact
from tuneloop.io import read_jsonl
from tuneloop.params import compose

REPO = Path(__file__).resolve().parents[1]


def params_for(*tickets: str, min_examples: int = 10) -> dict:
    params = compose(conf_dir=REPO / "conf")
    params["data"]["tickets"] = list(tickets)
    params["data"]["min_examples"] = min_examples
    return params


def test_example_corpus_is_fully_accounted_for(workdir):
    report = prepare.run(params_for("data/raw/tickets.jsonl"))
    lines = [line for line in Path("data/raw/tickets.jsonl").read_text().splitlines() if line.strip()]
    assert report["records_in"] == len(lines)
    assert report["records_in"] == report["kept"] + report["dropped"] + report["quarantined"]
    assert report["quarantined"] >= 1 and report["dropped"] >= 1
    quarantine = read_jsonl("data/prepared/quarantine.jsonl")
    assert any(q["reason"].startswith("invalid_json: ") for q in quarantine)
    for q in quarantine:  # each quarantined record names its file and line
        assert q["source"].endswith("tickets.jsonl") and q["locator"] >= 1
        assert lines[q["locator"] - 1]  # the line number points at a real line
    kept = [r for r in read_jsonl("data/prepared/records.jsonl") if r["kind"] == "ticket"]
    assert len(kept) == report["kept"] and len({r["id"] for r in kept}) == len(kept)
    assert sum(report["pii_redacted"].values()) > 0
    assert Path("reports/data/prepare.md").read_text().startswith("# Data report: prepare")


def test_planted_canaries_reach_no_prepared_file_split_report_or_log(workdir, caplog):
    import logging

    from tuneloop.data import build, index, split

    caplog.set_level(logging.DEBUG)
    params = params_for("data/raw/tickets.jsonl")
    for stage in (prepare, index, build, split):
        stage.run(params)
    raw = Path("data/raw/tickets.jsonl").read_text()
    assert all(c in raw for c in CANARIES), "the corpus should plant every canary"
    assert not [c for c in CANARIES if c in caplog.text], "a canary reached the log"
    files = [
        *Path("data/prepared").glob("*"),
        *Path("data/splits").glob("*"),
        Path("data/examples.jsonl"),
        *Path("reports").rglob("*"),
    ]
    for path in [p for p in files if p.is_file() and p.suffix != ".png"]:
        text = path.read_text()
        for canary in CANARIES:
            assert canary not in text, f"canary {canary!r} leaked into {path}"


def test_malformed_json_line_is_quarantined_with_file_and_line(workdir):
    good = Path("data/raw/tickets.jsonl").read_text().splitlines()
    Path("data/raw/bad.jsonl").write_text(
        "\n".join(good[:20] + ['{"ticket_id": "X-1", "customer_message": "hi'] + good[20:25]) + "\n"
    )
    prepare.run(params_for("data/raw/bad.jsonl"))
    q = [r for r in read_jsonl("data/prepared/quarantine.jsonl") if r["locator"] == 21]
    assert q and q[0]["source"] == "data/raw/bad.jsonl" and q[0]["reason"].startswith("invalid_json: ")


def test_csv_missing_a_column_is_quarantined_and_valid_csv_is_read(workdir):
    rows = [
        json.loads(line)
        for line in Path("data/raw/tickets.jsonl").read_text().splitlines()[:40]
        if line.strip().endswith("}")
    ]
    import csv

    with open("data/raw/good.csv", "w", newline="") as fh:
        writer = csv.DictWriter(
            fh,
            fieldnames=["ticket_id", "subject", "customer_message", "agent_reply", "category"],
            extrasaction="ignore",
        )
        writer.writeheader()
        writer.writerows(r for r in rows if "category" in r)
    Path("data/raw/nocat.csv").write_text("ticket_id,customer_message,agent_reply\n1,My bill is wrong,Sorry\n")
    report = prepare.run(params_for("data/raw/good.csv", "data/raw/nocat.csv"))
    assert report["files"]["data/raw/good.csv"]["kept"] >= 10
    q = [r for r in read_jsonl("data/prepared/quarantine.jsonl") if r["source"] == "data/raw/nocat.csv"]
    assert q[0]["locator"] == 1 and q[0]["reason"].startswith(
        "csv_missing_columns: header lacks required column(s) ['category']"
    )


def test_empty_file_is_quarantined_and_nothing_usable_stops_with_a_clear_error(workdir):
    Path("data/raw/empty.jsonl").write_text("")
    report = prepare.run(params_for("data/raw/tickets.jsonl", "data/raw/empty.jsonl"))
    assert report["quarantined_by_reason"]["empty_file"] == 1
    with pytest.raises(prepare.PrepareError, match=r"only 0 usable tickets.*empty\.jsonl"):
        prepare.run(params_for("data/raw/empty.jsonl"))


def test_latin1_file_is_quarantined_not_crashed(workdir):
    Path("data/raw/latin1.jsonl").write_bytes(
        '{"customer_message": "Caf\u00e9 bill", "agent_reply": "ok", "category": "billing"}\n'.encode("latin-1")
    )
    report = prepare.run(params_for("data/raw/tickets.jsonl", "data/raw/latin1.jsonl"))
    assert report["files"]["data/raw/latin1.jsonl"] == {"in": 1, "kept": 0, "dropped": 0, "quarantined": 1}


@pytest.mark.parametrize(
    "text,kind",
    [
        ("mail me at jane.doe+x@example.co.uk please", "EMAIL"),
        ("call +1 415-555-0199 or (212) 555 0147", "PHONE"),
        ("card 4111-1111-1111-1111 expired", "CARD"),
        ("my card is 5500 0000 0000 0004", "CARD"),
    ],
)
def test_redaction_replaces_each_type(text, kind):
    counts = Counter()
    out = redact(text, counts)
    assert f"<{kind}>" in out and counts[kind] >= 1
    assert not any(ch.isdigit() for ch in out.split("<")[0][-5:]) or kind == "EMAIL"


def test_luhn_rejects_non_cards_and_order_numbers_survive():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert redact("order #LM-48213 shipped, tracking 1234 5678 9012 3456").count("<CARD>") == 0


def test_csv_rows_with_extra_or_missing_cells_and_non_object_json_are_quarantined(workdir):
    Path("data/raw/ragged.csv").write_text(
        "customer_message,agent_reply,category\n"
        "My bill is wrong,Sorry about that,billing\n"
        "Too,many,cells,here\n"
        "Too few\n"
    )
    Path("data/raw/list.jsonl").write_text('["not", "an", "object"]\n')
    prepare.run(params_for("data/raw/tickets.jsonl", "data/raw/ragged.csv", "data/raw/list.jsonl"))
    q = {(r["source"], r["locator"]): r["reason"].split(":")[0] for r in read_jsonl("data/prepared/quarantine.jsonl")}
    assert q[("data/raw/ragged.csv", 3)] == "csv_extra_cells"
    assert q[("data/raw/ragged.csv", 4)] == "csv_missing_cells"
    assert q[("data/raw/list.jsonl", 1)] == "not_an_object"


def test_data_report_has_cleaning_pii_balance_and_lengths(workdir):
    report = prepare.run(params_for("data/raw/tickets.jsonl"))
    # cleaning ran inside prepare: quality reasons and duplicate clusters are counted, and add up
    assert report["dropped"] == sum(
        n
        for reason, n in report["dropped_by_reason"].items()
        if reason in ("exact_duplicate", "near_duplicate", "low_quality")
    )
    assert sum(report["quality"]["quality_reasons"].values()) >= report["dropped_by_reason"].get("low_quality", 0) > 0
    assert 0 < report["duplicate_rate"] < 0.5
    assert (
        sum(int(size) * n for size, n in report["duplicate_cluster_sizes"].items())
        == sum(report["duplicate_cluster_sizes"].values())
        + report["dropped_by_reason"]["exact_duplicate"]
        + report["dropped_by_reason"]["near_duplicate"]
    )
    kept = [r for r in read_jsonl("data/prepared/records.jsonl") if r["kind"] == "ticket"]
    assert all(0 <= r["quality"]["score"] <= 1 for r in kept)
    assert sum(report["labels"].values()) == report["kept"] and sum(report["token_lengths"]["counts"]) == report["kept"]
    # where PII was replaced, never what: entries name record, field, type and offsets only
    entries = read_jsonl("reports/data/redactions.jsonl")
    assert len(entries) == report["pii"]["total"] == sum(report["pii_redacted"].values())
    assert all(set(e) == {"id", "field", "type", "start", "end"} for e in entries)
    assert Path("reports/data/data.png").read_bytes().startswith(b"\x89PNG")
    md = Path("reports/data/prepare.md").read_text()
    assert "## Token lengths" in md and "## Duplicate clusters" in md and "## PII redacted (by type)" in md


def test_small_corpus_warns_about_overfitting_and_tiny_one_stops(workdir):
    lines = Path("data/raw/tickets.jsonl").read_text().splitlines()
    Path("data/raw/small.jsonl").write_text("\n".join(lines[:40]) + "\n")
    report = prepare.run(params_for("data/raw/small.jsonl"))
    assert report["kept"] < prepare.OVERFIT_WARNING_BELOW and any("retrieval" in w for w in report["warnings"])
    assert "**Warning:**" in Path("reports/data/prepare.md").read_text()
    Path("data/raw/tiny.jsonl").write_text("\n".join(lines[:5]) + "\n")
    with pytest.raises(prepare.PrepareError, match=r"only \d+ usable .*tiny.jsonl.*need at least 10"):
        prepare.run(params_for("data/raw/tiny.jsonl"))


def test_parallel_redaction_gives_the_same_bytes(workdir, monkeypatch):
    params = params_for("data/raw/tickets.jsonl")
    params["data"]["num_proc"] = 1
    one = prepare.run(params, out_dir="one", report_dir="r-one")
    monkeypatch.setattr(prepare, "PARALLEL_FROM", 10)
    params["data"]["num_proc"] = 2
    two = prepare.run(params, out_dir="two", report_dir="r-two")
    assert one == two
    for name in ("records.jsonl", "dropped.jsonl", "quarantine.jsonl"):
        assert Path("one", name).read_bytes() == Path("two", name).read_bytes()
    assert Path("r-one/redactions.jsonl").read_bytes() == Path("r-two/redactions.jsonl").read_bytes()

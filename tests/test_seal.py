"""`tuneloop data seal`: a seeded, stratified carve of a new drop, every record accounted for, bytes kept."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tuneloop.data import seal
from tuneloop.dvc_hash import dir_md5
from tuneloop.referee import sealed as sealed_set


def _drop(root: Path) -> Path:
    drop = root / "drop"
    (drop / "kb").mkdir(parents=True)
    rows = [
        {
            "ticket_id": f"T{i}",
            "category": ["billing", "shipping", "a_very_long_label_name_of_forty_chars_x"][i % 3],
            "customer_message": f"message {i}",
            "agent_reply": "ok",
        }
        for i in range(60)
    ]
    lines = [json.dumps(r) for r in rows] + ["{not json"]
    (drop / "tickets.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a CSV with a quoted multi-line field and no trailing newline
    csv_text = 'text,label\n"two\nlines",refund\n' + "".join(
        f"query {i},{'refund' if i % 2 else 'cancel'}\n" for i in range(19)
    )
    (drop / "intents.csv").write_text(csv_text.rstrip("\n"), encoding="utf-8")
    (drop / "kb" / "a.md").write_text("# Article\n", encoding="utf-8")
    return drop


def test_every_record_goes_to_exactly_one_side_stratified_and_byte_for_byte(tmp_path):
    drop = _drop(tmp_path)
    report = seal.seal(drop, tmp_path / "raw", tmp_path / "sealed", share=0.2, seed=3)
    t = report["totals"]
    assert t["records"] == 61 + 20 and t["to_raw"] + t["sealed"] == t["records"]
    tickets = report["per_file"]["tickets.jsonl"]
    assert tickets["label_field"] == "category" and tickets["unreadable_to_raw"] == 1
    assert tickets["sealed_by_label"] == {"a_very_long_label_name_of_forty_chars_x": 4, "billing": 4, "shipping": 4}
    raw_lines = (tmp_path / "raw/tickets.jsonl").read_bytes().splitlines(keepends=True)
    sealed_lines = (tmp_path / "sealed/tickets.jsonl").read_bytes().splitlines(keepends=True)
    original = (drop / "tickets.jsonl").read_bytes().splitlines(keepends=True)
    assert sorted(raw_lines + sealed_lines) == sorted(original)  # nothing lost, nothing rewritten
    assert b"{not json\n" in raw_lines  # prepare quarantines it, with its reason
    # CSV: the header on both sides, the multi-line row whole, stratified by `label`
    raw_csv = (tmp_path / "raw/intents.csv").read_text()
    sealed_csv = (tmp_path / "sealed/intents.csv").read_text()
    assert raw_csv.startswith("text,label\n") and sealed_csv.startswith("text,label\n")
    assert ('"two\nlines",refund' in raw_csv) != ('"two\nlines",refund' in sealed_csv)
    assert report["per_file"]["intents.csv"]["sealed_by_label"] == {"cancel": 2, "refund": 2}
    assert (tmp_path / "raw/kb/a.md").exists() and not (tmp_path / "sealed/kb").exists()
    assert report["passed_whole"] == ["kb/a.md"]


def test_the_same_drop_and_seed_give_the_same_carve_and_a_second_seal_is_refused(tmp_path):
    drop = _drop(tmp_path)
    seal.seal(drop, tmp_path / "r1", tmp_path / "s1", share=0.3, seed=5)
    seal.seal(drop, tmp_path / "r2", tmp_path / "s2", share=0.3, seed=5)
    assert (tmp_path / "s1/tickets.jsonl").read_bytes() == (tmp_path / "s2/tickets.jsonl").read_bytes()
    before = (tmp_path / "r1/tickets.jsonl").read_bytes()
    with pytest.raises(seal.SealError, match="sealed already"):
        seal.seal(drop, tmp_path / "r1", tmp_path / "s1", share=0.3, seed=5)
    assert (tmp_path / "r1/tickets.jsonl").read_bytes() == before  # a refused drop writes nothing


def test_a_second_drop_appends_and_a_foreign_csv_header_is_refused(tmp_path):
    drop = _drop(tmp_path)
    seal.seal(drop, tmp_path / "raw", tmp_path / "sealed", share=0.5, seed=1)
    second = tmp_path / "second"
    second.mkdir()
    (second / "tickets.jsonl").write_text(json.dumps({"category": "billing", "customer_message": "x"}) + "\n")
    seal.seal(second, tmp_path / "raw", tmp_path / "sealed", share=1.0, seed=1)
    manifest = json.loads((tmp_path / "sealed/MANIFEST.json").read_text())
    assert [d["sealed_as"] for d in manifest["drops"]] == ["drop 1", "drop 2"]
    assert (
        Counter(
            json.loads(x)["category"]
            for x in (tmp_path / "sealed/tickets.jsonl").read_text().splitlines()
            if x.startswith('{"')
        ).get("billing", 0)
        >= 1
    )
    third = tmp_path / "third"
    third.mkdir()
    (third / "intents.csv").write_text("query,intent\nhello,refund\n")
    with pytest.raises(seal.SealError, match="header differs"):
        seal.seal(third, tmp_path / "raw", tmp_path / "sealed", share=0.5, seed=1)


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(seal.SealError, match="not a folder"):
        seal.seal(tmp_path / "nope")
    drop = tmp_path / "d"
    drop.mkdir()
    (drop / "x.csv").write_bytes(b"text,label\n\xff\xfe,a\n")
    with pytest.raises(seal.SealError, match=r"x\.csv: not UTF-8"):
        seal.seal(drop, tmp_path / "r", tmp_path / "s")
    with pytest.raises(seal.SealError, match="share"):
        seal.seal(drop, share=0)


def test_the_dvc_file_names_dvcs_own_md5_and_the_referee_checks_it(tmp_path):
    drop = _drop(tmp_path)
    seal.seal(drop, tmp_path / "raw", tmp_path / "data/sealed", share=0.5, seed=1)
    md5 = seal.write_dvc_file(tmp_path / "data/sealed", tmp_path / "sealed.dvc")
    assert md5 == dir_md5(tmp_path / "data/sealed") and "remote: sealed" in (tmp_path / "sealed.dvc").read_text()
    out, problem = sealed_set.verify(tmp_path, tmp_path / "data/sealed")
    assert out["md5"] == md5 and problem is None
    assert "not given" in sealed_set.verify(tmp_path, None)[1]  # declared, missing: fails closed
    (tmp_path / "data/sealed/tickets.jsonl").write_text("{}\n")
    assert "is not the one sealed.dvc versions" in sealed_set.verify(tmp_path, tmp_path / "data/sealed")[1]
    assert sealed_set.verify(tmp_path / "raw", None) == (None, None)  # nothing sealed: skipped, not failed


def test_the_example_sealed_store_rebuilds_to_the_committed_sealed_dvc(tmp_path):
    """make sealed-store's recipe: the example's drop, sealed whole, is byte for byte what sealed.dvc versions."""
    from conftest import REPO

    from tuneloop.data.example import stream

    stream.sealed_drop(tmp_path / "drop")
    seal.seal(tmp_path / "drop", tmp_path / "raw", tmp_path / "data/sealed", share=1.0, seed=0)
    declared = sealed_set.declared(REPO)
    assert declared is not None and dir_md5(tmp_path / "data/sealed") == declared["md5"]
    assert not (tmp_path / "raw").exists()  # sealed whole: nothing reached data/raw

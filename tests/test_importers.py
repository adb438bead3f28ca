"""importers: each export format read into the record schema; bad input quarantined with a reason, never raised."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuneloop.data import prepare
from tuneloop.data.importers import FORMATS, ConfigError, read_source, sources_from_config
from tuneloop.io import read_jsonl

EXPORTS = Path(__file__).parent / "data" / "exports"
LABELS = [
    "billing",
    "account_access",
    "shipping_delivery",
    "returns_refunds",
    "device_setup",
    "connectivity",
    "app_bug",
    "subscription",
]
# The importers' tests check reading and accounting; quality filtering (tests/test_clean.py) would
# drop the short sample records, so it is off here. Duplicate removal stays on.
NO_QUALITY = {"quality": {"enabled": False}}
DATA = {"labels": LABELS}
ERROR = re.compile(r"^[a-z][a-z0-9_]*: \S")
ZENDESK_MAP = {
    "category_field": "custom_fields.360001",
    "category_map": {
        "billing__charges": "billing",
        "connectivity__wifi": "connectivity",
        "shipping__late": "shipping_delivery",
    },
}


def read(path, fmt: str, mapping: dict | None = None, data: dict | None = None) -> list:
    return list(read_source({"path": str(path), "format": fmt, "mapping": mapping or {}}, data or DATA))


def records(path, fmt: str, mapping: dict | None = None) -> dict[str, dict]:
    items = read(path, fmt, mapping)
    assert all(i.error is None for i in items), [i.error for i in items if i.error]
    return {i.record["id"]: i.record for i in items}


def errors(path, fmt: str, mapping: dict | None = None, data: dict | None = None) -> list[tuple]:
    return [(i.locator, i.error) for i in read(path, fmt, mapping, data) if i.error]


def check_item(item) -> None:
    """The reader contract: exactly one of record/error; errors are `code: detail`; records carry provenance."""
    assert (item.record is None) != (item.error is None)
    assert len(item.raw_excerpt) <= 2000 and item.source
    if item.error is not None:
        assert ERROR.match(item.error), item.error
    else:
        r = item.record
        assert r["id"] and r["kind"] and r["source"] == item.source and r["locator"] == item.locator
        assert r["locator"] not in (None, "") and r["source_format"]


# ------------------------------------------------------------------------------------------------
# Helpdesk exports
# ------------------------------------------------------------------------------------------------


def test_zendesk_threads_public_comments_and_drops_notes_and_triggers():
    t = records(EXPORTS / "zendesk_tickets.jsonl", "zendesk", ZENDESK_MAP)
    first = t["zendesk:35436"]
    assert [turn["role"] for turn in first["turns"]] == ["customer", "agent", "customer"]
    assert "Stripe" not in json.dumps(first)  # the private note is dropped
    assert first["agent_reply"].startswith("Hi Sam, sorry") and first["meta"]["dropped_turns"] == 1
    assert (first["category"], first["priority"], first["status"], first["satisfaction"], first["channel"]) == (
        "billing",
        "normal",
        "solved",
        5,
        "email",
    )
    assert (
        first["tags"] == ["billing", "double_charge", "lumora_plus"] and first["created_at"] == "2025-02-03T09:14:22Z"
    )
    wifi = t["zendesk:35437"]
    # two customer comments in a row are one turn; the trigger's auto-reply is dropped; html_body read as text
    assert [turn["role"] for turn in wifi["turns"]] == ["customer", "agent"]
    assert "2.4 GHz" in wifi["customer_message"] and "has been received" not in json.dumps(wifi)
    assert "Auto-reconnect under Settings > Wi-Fi" in wifi["agent_reply"] and "<p>" not in wifi["agent_reply"]
    assert t["zendesk:35438"]["satisfaction"] == 1 and "co-owner" in t["zendesk:35438"]["customer_message"]
    untriaged = t["zendesk:35439"]
    assert untriaged["category"] is None and untriaged["agent_reply"] == "" and untriaged["satisfaction"] is None


def test_zendesk_default_category_comes_from_tags():
    t = records(EXPORTS / "zendesk_tickets.jsonl", "zendesk")
    assert t["zendesk:35436"]["category"] == "billing" and t["zendesk:35437"]["category"] == "connectivity"
    assert t["zendesk:35438"]["category"] is None  # tag "shipping" maps to no label without a category_map


def test_freshdesk_maps_numeric_codes_and_drops_private_notes():
    t = records(
        EXPORTS / "freshdesk_tickets.json",
        "freshdesk",
        {"category_map": {"Returns": "returns_refunds", "Account": "account_access", "Billing": "billing"}},
    )
    ret = t["freshdesk:1201"]
    assert (ret["priority"], ret["status"], ret["channel"], ret["satisfaction"]) == ("normal", "resolved", "portal", 5)
    assert "RMA" not in json.dumps(ret) and ret["meta"]["dropped_turns"] == 1
    assert [turn["role"] for turn in ret["turns"]] == ["customer", "agent", "customer"]
    login = t["freshdesk:1202"]
    assert login["customer_message"] == "The reset link says expired every time."  # HTML description as text
    assert (login["priority"], login["status"], login["channel"], login["category"]) == (
        "high",
        "open",
        "chat",
        "account_access",
    )
    assert t["freshdesk:1203"]["agent_reply"] == "" and t["freshdesk:1203"]["priority"] == "low"


def test_intercom_drops_bots_notes_and_events_and_keeps_admin_initiated_threads():
    t = records(EXPORTS / "intercom_conversations.json", "intercom")
    hub = t["intercom:215470001"]
    assert "Lumi" not in json.dumps(hub) and "firmware 3.1" not in json.dumps(hub)
    assert hub["customer_message"] == "My Lumora Hub blinks amber and the app can't find it.\n\nYes, twice."
    assert hub["agent_reply"].startswith("Amber blinking") and hub["meta"]["dropped_turns"] == 2
    assert (hub["category"], hub["priority"], hub["satisfaction"], hub["channel"], hub["created_at"]) == (
        "device_setup",
        "high",
        4,
        "chat",
        "2025-03-03T12:00:00Z",
    )
    outbound = t["intercom:215470002"]
    assert [turn["role"] for turn in outbound["turns"]] == ["agent", "customer", "agent"]
    assert outbound["customer_message"].startswith("Can I switch") and outbound["agent_reply"].startswith(
        "Yes: in the app"
    )
    assert outbound["subject"] == "Your Lumora Plus renewal" and outbound["channel"] == "email"
    assert t["intercom:215470003"]["agent_reply"] == ""  # the only answer came from the AI agent
    mapped = records(
        EXPORTS / "intercom_conversations.json",
        "intercom",
        {
            "category_field": "custom_attributes.Topic",
            "category_map": {"Setup": "device_setup", "Plan": "subscription"},
        },
    )
    assert mapped["intercom:215470002"]["category"] == "subscription"


def test_salesforce_cases_join_published_comments_and_never_use_internal_comments():
    t = records(
        EXPORTS / "salesforce_cases.csv",
        "salesforce",
        {
            "comments_file": "salesforce_case_comments.csv",
            "reply_field": "Resolution__c",
            "category_map": {"Refund": "returns_refunds", "Device": "device_setup", "Shipping": "shipping_delivery"},
        },
    )
    refund = t["salesforce:00001026"]
    assert refund["locator"] == 3  # the row's last line (its Description spans two lines)
    assert "Tracking says delivered" in refund["customer_message"] and refund["agent_reply"].startswith(
        "Sorry for the wait"
    )
    assert "VIP" not in json.dumps(refund) and "manual review" not in json.dumps(refund)
    assert refund["meta"]["dropped_turns"] == 1 and refund["created_at"] == "2025-02-20T14:22:05Z"
    assert (refund["priority"], refund["status"], refund["channel"], refund["category"]) == (
        "high",
        "closed",
        "email",
        "returns_refunds",
    )
    assert t["salesforce:00001027"]["agent_reply"].startswith("Please update to firmware")
    assert t["salesforce:00001027"]["priority"] == "normal"
    assert t["salesforce:00001028"]["agent_reply"] == "Yes, standard shipping to Canada takes 5-8 business days."


def test_salesforce_report_export_with_labels_as_headers(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(
        "Case Number,Subject,Description,Priority,Status,Case Origin,Case Type,Date/Time Opened\n"
        "00002001,App login,I cannot log in to the app,Medium,New,Web,Account,3/4/2025 3:22 PM\n"
    )
    (ticket,) = records(path, "salesforce", {"category_map": {"Account": "account_access"}}).values()
    assert ticket["id"] == "salesforce:00002001" and ticket["created_at"] == "2025-03-04T15:22:00Z"
    assert ticket["category"] == "account_access" and ticket["channel"] == "web"


# ------------------------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------------------------


def test_confluence_html_is_chunked_by_headings_without_scripts_or_chrome():
    chunks = records(EXPORTS / "kb" / "Returns-Policy_98311.html", "html")
    assert list(chunks) == [
        "kb:returns-policy-98311#intro",
        "kb:returns-policy-98311#starting-a-return",
        "kb:returns-policy-98311#starting-a-return/return-fee",
        "kb:returns-policy-98311#refunds",
        "kb:returns-policy-98311#refunds-2",
    ]
    text = json.dumps(chunks)
    for chrome in (
        "SHOULD NOT APPEAR",
        "nor this",
        "inline script",
        "font-family",
        "Policies",
        "Alex Moreno",
        "Attachments",
        "label.png",
        "Document generated by Confluence",
    ):
        assert chrome not in text, chrome
    fee = chunks["kb:returns-policy-98311#starting-a-return/return-fee"]
    assert fee["title"] == "Returns Policy" and fee["section"] == "Returns Policy > Starting a return > Return fee"
    assert fee["doc_id"] == "kb:returns-policy-98311" and "$7.95" in fee["text"]
    assert "Devices | 30 days" in chunks["kb:returns-policy-98311#refunds"]["text"]


def test_markdown_chunks_keep_code_blocks_and_deep_headings_inside_and_read_front_matter():
    notion = records(next((EXPORTS / "kb").glob("Thermo Mini*.md")), "markdown")
    ids = [i.split("#")[1] for i in notion]
    assert ids == [
        "intro",
        "before-you-begin",
        "install/mount-the-base",
        "install/connect-the-wires",
        "pair-with-the-app",
    ]
    assert "## not a section" in notion[next(i for i in notion if i.endswith("connect-the-wires"))]["text"]
    assert "#### Troubleshooting pairing" in notion[next(i for i in notion if i.endswith("pair-with-the-app"))]["text"]
    faq = records(EXPORTS / "kb" / "lumora-plus-faq.md", "markdown")
    assert list(faq) == ["kb:lumora-plus-faq#intro", "kb:lumora-plus-faq#cancelling", "kb:lumora-plus-faq#cancelling-2"]
    assert all(c["title"] == "Lumora Plus FAQ" for c in faq.values()) and "owner:" not in json.dumps(faq)


def test_txt_is_grouped_into_200_to_400_word_chunks_with_page_locators():
    chunks = list(records(EXPORTS / "kb" / "energy-reports-guide.txt", "txt").values())
    assert [c["id"] for c in chunks] == [f"kb:energy-reports-guide#part-{n}" for n in range(1, len(chunks) + 1)]
    assert all(len(c["text"].split()) <= 400 for c in chunks)
    assert all(len(c["text"].split()) >= 200 for c in chunks[:-1])
    assert chunks[0]["locator"] == "page 1" and chunks[-1]["locator"].endswith("3")


def test_chunk_ids_are_stable_across_runs_and_every_record_has_provenance():
    first = [i.record for i in read(EXPORTS / "kb", "documents")]
    second = [i.record for i in read(EXPORTS / "kb", "documents")]
    assert first == second and len({r["id"] for r in first}) == len(first) >= 15
    for fmt, path, mapping in SAMPLES:
        for item in read(path, fmt, mapping):
            check_item(item)
            assert item.error is None, (fmt, item.error)


@pytest.fixture(scope="module")
def docx_file(tmp_path_factory) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Glow setup guide"
    document.add_paragraph("Glow setup guide", style="Title")
    document.add_paragraph("Glow bulbs work with any E26 socket.")
    document.add_heading("Pairing", level=1)
    document.add_paragraph("Turn the bulb on and off three times to enter pairing mode.")
    document.add_heading("With the hub", level=2)
    document.add_paragraph("Open Add device and choose Glow.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Colour", "Meaning"
    table.cell(1, 0).text, table.cell(1, 1).text = "Blue blink", "Ready to pair"
    document.add_heading("Resetting", level=1)
    document.add_paragraph("Switch the bulb on and off five times; it flashes white when reset.")
    path = tmp_path_factory.mktemp("docx") / "glow-setup.docx"
    document.save(str(path))
    return path


def test_docx_is_chunked_by_heading_styles_with_tables(docx_file):
    chunks = records(docx_file, "docx")
    assert list(chunks) == [
        "kb:glow-setup#intro",
        "kb:glow-setup#pairing",
        "kb:glow-setup#pairing/with-the-hub",
        "kb:glow-setup#resetting",
    ]
    hub = chunks["kb:glow-setup#pairing/with-the-hub"]
    assert hub["section"] == "Glow setup guide > Pairing > With the hub" and "Blue blink | Ready to pair" in hub["text"]
    assert records(docx_file, "docx") == chunks


@pytest.fixture(scope="module")
def pdf_file(tmp_path_factory) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Thermo 2 installation")
    pdf.set_font("Helvetica", size=11)
    sentence = "The Thermo 2 needs a C-wire or the Lumora Power Adapter to stay powered. "
    for _page in range(2):
        pdf.add_page()
        for _ in range(3):
            pdf.multi_cell(0, 6, sentence * 12)
            pdf.ln(6)
    path = tmp_path_factory.mktemp("pdf") / "thermo-2-installation.pdf"
    pdf.output(str(path))
    return path


def test_pdf_text_is_chunked_with_page_locators(pdf_file):
    chunks = list(records(pdf_file, "pdf").values())
    assert (
        chunks
        and chunks[0]["id"] == "kb:thermo-2-installation#part-1"
        and chunks[0]["title"] == "Thermo 2 installation"
    )
    assert chunks[0]["locator"].startswith("page") and "C-wire" in chunks[0]["text"]
    assert any("2" in c["locator"] for c in chunks)  # the second page is located
    assert all(len(c["text"].split()) <= 400 for c in chunks)


# ------------------------------------------------------------------------------------------------
# Call transcripts and ready-made data
# ------------------------------------------------------------------------------------------------


def test_webvtt_voice_tags_merge_consecutive_lines_and_name_the_agent():
    (call,) = records(EXPORTS / "calls", "webvtt").values()
    assert [(t["role"], t["speaker"]) for t in call["turns"]] == [
        ("agent", "Dana (Support)"),
        ("customer", "Caller"),
        ("agent", "Dana (Support)"),
        ("customer", "Caller"),
    ]
    assert (
        call["turns"][1]["text"] == "Hi, my Thermo 2 shows error E4 since this morning. The heating is not coming on."
    )
    assert call["turns"][1]["start"] == 4.2 and call["id"] == "call:call-0001" and call["category"] is None


def test_srt_speaker_prefixes_continue_and_greeting_tells_the_agent():
    (call,) = records(EXPORTS / "calls", "srt").values()
    assert [(t["role"], t["speaker"]) for t in call["turns"]] == [
        ("agent", "Marco"),
        ("customer", "Jess"),
        ("agent", "Marco"),
    ]
    assert call["turns"][1]["text"].endswith("and I can't find the button.")


def test_json_transcript_reads_diarized_segments_and_call_metadata():
    (call,) = records(EXPORTS / "calls", "transcript_json").values()
    assert call["id"] == "call:lum-call-7781" and call["category"] == "shipping_delivery"
    assert [t["role"] for t in call["turns"]] == ["agent", "customer", "agent"]
    assert call["created_at"] == "2025-03-05T14:03:00Z"


def test_transcript_roles_from_mapping_or_quarantined_when_unknown(tmp_path):
    path = tmp_path / "call.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nAlex: Hello, my hub is offline.\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\nSam: Let's restart it together.\n"
    )
    assert errors(path, "srt") == [
        (0, "unknown_roles: cannot tell the agent from the customer; list agent names in mapping.agent_speakers")
    ]
    (call,) = records(path, "srt", {"agent_speakers": ["sam"]}).values()
    assert [t["role"] for t in call["turns"]] == ["customer", "agent"]


def test_instruction_chat_and_classification_files():
    ins = records(EXPORTS / "instructions.jsonl", "instruction_jsonl")
    assert ins["ins-1"]["completion"].startswith("30 days") and ins["instructions.jsonl:3"]["prompt"].startswith(
        "Summarise"
    )
    chats = records(EXPORTS / "chat.jsonl", "chat_jsonl")
    assert [m["role"] for m in chats["chat.jsonl:2"]["messages"]] == ["user", "assistant", "user", "assistant"]
    assert "weight" not in chats["chat.jsonl:2"]["messages"][1]
    labelled = records(
        EXPORTS / "labelled.csv", "classification_csv", {"category_map": {"Shipping": "shipping_delivery"}}
    )
    assert [r["label"] for r in labelled.values()] == ["billing", "app_bug", "shipping_delivery"]


def test_chat_roles_are_validated(tmp_path):
    path = tmp_path / "chat.jsonl"
    lines = [
        {"messages": [{"role": "customer", "content": "hi"}, {"role": "assistant", "content": "Hello there"}]},
        {"messages": [{"role": "user", "content": "hi"}]},
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
            ]
        },
        {"messages": "not a list"},
        {"prompt": "no messages"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    codes = [(loc, err.split(":")[0]) for loc, err in errors(path, "chat_jsonl")]
    assert codes == [
        (1, "invalid_role"),
        (2, "invalid_message"),
        (3, "invalid_message"),
        (4, "invalid_message"),
        (5, "missing_field"),
    ]
    assert "role 'customer' (allowed: system, user, assistant)" in errors(path, "chat_jsonl")[0][1]


# ------------------------------------------------------------------------------------------------
# Bad input: quarantined with file, record and reason
# ------------------------------------------------------------------------------------------------


def test_malformed_json_is_quarantined_per_line_or_per_file(tmp_path):
    lines = (EXPORTS / "zendesk_tickets.jsonl").read_text().splitlines()
    (tmp_path / "z.jsonl").write_text("\n".join([lines[0], lines[1][:80], lines[2]]) + "\n")
    items = read(tmp_path / "z.jsonl", "zendesk")
    assert [i.error.split(":")[0] if i.error else "ok" for i in items] == ["ok", "invalid_json", "ok"]
    assert items[1].locator == 2 and items[1].source.endswith("z.jsonl")
    (tmp_path / "f.json").write_text('[{"id": 1, "subject": "x"')
    ((locator, error),) = errors(tmp_path / "f.json", "freshdesk")
    assert locator == 0 and error.startswith("invalid_json: ") and "line 1" in error


def test_latin1_bytes_are_quarantined_with_the_byte_offset(tmp_path):
    good = '{"customer_message": "My bill is wrong", "agent_reply": "Sorry about that", "category": "billing"}\n'
    bad = '{"customer_message": "Caf\u00e9 bill", "agent_reply": "ok", "category": "billing"}\n'.encode("latin-1")
    (tmp_path / "t.jsonl").write_bytes(good.encode() + bad + good.encode())
    items = read(tmp_path / "t.jsonl", "tuneloop_jsonl")
    assert [i.error is None for i in items] == [True, False, True]
    assert items[1].locator == 2 and items[1].error.startswith(f"not_utf8: undecodable byte at offset {len(good) + 25}")
    (tmp_path / "t.csv").write_bytes(b"text,label\nMy bill is wrong,billing\nCaf\xe9 bill,billing\n")
    assert errors(tmp_path / "t.csv", "classification_csv") == [
        (3, "not_utf8: undecodable byte at offset 39; re-export as UTF-8 (e.g. iconv -f cp1252 -t utf-8)")
    ]
    (tmp_path / "kb.md").write_bytes(b"# Title\n\nCaf\xe9\n")
    assert errors(tmp_path / "kb.md", "markdown")[0][1].startswith("not_utf8: undecodable byte at offset 12")


def test_utf8_bom_is_accepted_everywhere(tmp_path):
    bom = b"\xef\xbb\xbf"
    (tmp_path / "t.jsonl").write_bytes(bom + (EXPORTS / "instructions.jsonl").read_bytes())
    (tmp_path / "t.csv").write_bytes(bom + (EXPORTS / "labelled.csv").read_bytes())
    (tmp_path / "t.md").write_bytes(bom + (EXPORTS / "kb" / "lumora-plus-faq.md").read_bytes())
    (tmp_path / "t.vtt").write_bytes(bom + (EXPORTS / "calls" / "call-0001.vtt").read_bytes())
    assert len(records(tmp_path / "t.jsonl", "instruction_jsonl")) == 3
    assert (
        len(records(tmp_path / "t.csv", "classification_csv", {"category_map": {"Shipping": "shipping_delivery"}})) == 3
    )
    assert records(tmp_path / "t.md", "markdown")["kb:t#intro"]["title"] == "Lumora Plus FAQ"
    assert len(records(tmp_path / "t.vtt", "webvtt")) == 1


def test_csv_with_missing_or_extra_columns(tmp_path):
    (tmp_path / "cases.csv").write_text("Subject,Description\nHi,My hub is offline\n")
    assert errors(tmp_path / "cases.csv", "salesforce")[0][1].startswith(
        "csv_missing_columns: header lacks required column(s) ['CaseNumber']"
    )
    (tmp_path / "l.csv").write_text(
        "text,label\nMy bill is wrong,billing\nToo,many,cells\nToo few\n\nThe app crashes,app_bug\n"
    )
    codes = [
        (i.locator, i.error.split(":")[0] if i.error else "ok") for i in read(tmp_path / "l.csv", "classification_csv")
    ]
    assert codes == [(2, "ok"), (3, "csv_extra_cells"), (4, "csv_missing_cells"), (6, "ok")]


def test_corrupt_pdf_and_docx_and_empty_files_are_quarantined(tmp_path, pdf_file):
    (tmp_path / "broken.pdf").write_bytes(pdf_file.read_bytes()[:300])
    (tmp_path / "junk.pdf").write_bytes(b"this is not a pdf at all")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    for name, fmt in (("broken.pdf", "pdf"), ("junk.pdf", "pdf"), ("broken.docx", "docx")):
        ((locator, error),) = errors(tmp_path / name, fmt)
        assert locator == 0 and error.split(":")[0] in ("corrupt_file", "no_text"), (name, error)
    assert errors(tmp_path / "broken.docx", "docx")[0][1].startswith("corrupt_file: not a readable DOCX")
    for fmt, suffix in (
        ("zendesk", ".jsonl"),
        ("freshdesk", ".json"),
        ("salesforce", ".csv"),
        ("markdown", ".md"),
        ("html", ".html"),
        ("pdf", ".pdf"),
        ("docx", ".docx"),
        ("webvtt", ".vtt"),
        ("txt", ".txt"),
        ("chat_jsonl", ".jsonl"),
        ("classification_csv", ".csv"),
        ("transcript_json", ".json"),
    ):
        path = tmp_path / f"empty{suffix}"
        path.write_bytes(b"")
        assert errors(path, fmt) == [(0, "empty_file: no records")], fmt


def test_a_50_mb_record_is_quarantined_without_being_held_in_memory(tmp_path):
    path = tmp_path / "big.jsonl"
    small = {"customer_message": "My bill is wrong", "agent_reply": "Sorry about that", "category": "billing"}
    with path.open("w") as fh:
        fh.write(json.dumps(small) + "\n")
        huge = '{"customer_message": "' + "x" * 50_000_000 + '", "agent_reply": "ok", "category": "billing"}'
        fh.write(huge + "\n")
        fh.write(json.dumps({**small, "customer_message": "Second bill is wrong"}) + "\n")
    tracemalloc.start()
    items = read(path, "tuneloop_jsonl", data={**DATA, "max_record_bytes": 1_000_000})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [i.error.split(":")[0] if i.error else "ok" for i in items] == ["ok", "record_too_large", "ok"]
    assert items[1].locator == 2 and f"{len(huge)} bytes, over the cap of 1000000" in items[1].error
    assert peak < 8_000_000, f"peak {peak} bytes: the record was held in memory"
    (tmp_path / "big.csv").write_text("text,label\n" + "y" * 3000 + ",billing\nfine text,billing\n")
    codes = [
        (i.locator, i.error.split(":")[0] if i.error else "ok")
        for i in read(tmp_path / "big.csv", "classification_csv", {"max_record_bytes": 1000})
    ]
    assert codes == [(2, "record_too_large"), (3, "ok")]


def test_unknown_format_or_missing_path_is_a_config_error_naming_the_source(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.sources\[1\] \(exports/x\.xml\): unknown format 'xml'"):
        sources_from_config(
            {"sources": [{"path": "a.jsonl", "format": "chat_jsonl"}, {"path": "exports/x.xml", "format": "xml"}]}
        )
    with pytest.raises(ConfigError, match=r"data\.tickets: notes\.txt: unsupported export format '\.txt'"):
        sources_from_config({"tickets": ["notes.txt"]})
    with pytest.raises(ConfigError, match=r"data\.sources\[0\]: .*nowhere\.json: file not found"):
        list(
            read_source(
                sources_from_config({"sources": [{"path": str(tmp_path / "nowhere.json"), "format": "zendesk"}]})[0]
            )
        )


# ------------------------------------------------------------------------------------------------
# prepare reads every source; accounting adds up
# ------------------------------------------------------------------------------------------------

SAMPLES = [
    ("zendesk", EXPORTS / "zendesk_tickets.jsonl", ZENDESK_MAP),
    (
        "freshdesk",
        EXPORTS / "freshdesk_tickets.json",
        {"category_map": {"Returns": "returns_refunds", "Account": "account_access", "Billing": "billing"}},
    ),
    ("intercom", EXPORTS / "intercom_conversations.json", {}),
    (
        "salesforce",
        EXPORTS / "salesforce_cases.csv",
        {
            "comments_file": "salesforce_case_comments.csv",
            "reply_field": "Resolution__c",
            "category_map": {"Refund": "returns_refunds", "Device": "device_setup", "Shipping": "shipping_delivery"},
        },
    ),
    ("documents", EXPORTS / "kb", {}),
    ("webvtt", EXPORTS / "calls", {}),
    ("srt", EXPORTS / "calls", {}),
    ("transcript_json", EXPORTS / "calls", {}),
    ("instruction_jsonl", EXPORTS / "instructions.jsonl", {}),
    ("chat_jsonl", EXPORTS / "chat.jsonl", {}),
    ("classification_csv", EXPORTS / "labelled.csv", {"category_map": {"Shipping": "shipping_delivery"}}),
]


def test_prepare_reads_every_sample_source_and_accounts_for_each_item(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.jsonl").write_text('{"prompt": "fine prompt", "completion": "fine answer"}\n{"prompt": \n')
    sources = [{"path": str(p), "format": f, "mapping": m} for f, p, m in SAMPLES]
    sources.append({"path": "bad.jsonl", "format": "instruction_jsonl"})
    sources.append({"path": str(EXPORTS / "zendesk_tickets.jsonl"), "format": "zendesk"})  # same ids again
    params = {"data": {"labels": LABELS, "sources": sources, "redact": True, "min_examples": 5}, "clean": NO_QUALITY}
    report = prepare.run(params)
    assert report["records_in"] == report["kept"] + report["dropped"] + report["quarantined"]
    assert report["kinds"] == {"chat": 2, "instruction": 4, "labelled_text": 3, "ticket": 13, "transcript": 3}
    assert report["documents"]["kept"] >= 15 and report["kb_articles"] == 4
    assert report["quarantined_by_reason"] == {"invalid_json": 1}
    assert report["dropped_by_reason"] == {"exact_duplicate": 4}  # the zendesk file read twice: same content
    kept = read_jsonl("data/prepared/records.jsonl")
    assert len({r["id"] for r in kept}) == len(kept)
    assert all(r["source"] and r["locator"] not in (None, "") and r["source_format"] for r in kept)
    for q in read_jsonl("data/prepared/quarantine.jsonl"):
        assert q["source"] and ERROR.match(q["reason"])


def test_prepare_keeps_running_past_bad_files_and_stops_only_when_nothing_is_usable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4 garbage")
    params = {
        "clean": NO_QUALITY,
        "data": {
            "labels": LABELS,
            "min_examples": 3,
            "sources": [
                {"path": "empty.json", "format": "zendesk"},
                {"path": "junk.pdf", "format": "pdf"},
                {"path": str(EXPORTS / "freshdesk_tickets.json"), "format": "freshdesk"},
            ],
        },
    }
    report = prepare.run(params)
    assert report["kept"] == 3 and report["files"]["empty.json"] == {"in": 1, "kept": 0, "dropped": 0, "quarantined": 1}
    assert report["documents"]["quarantined"] == 1
    params["data"]["sources"] = params["data"]["sources"][:2]
    with pytest.raises(prepare.PrepareError, match=r"only 0 usable tickets or records in \['empty\.json'\]"):
        prepare.run(params)


def test_prepare_quarantines_labels_outside_data_labels_with_a_mapping_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = {
        "clean": NO_QUALITY,
        "data": {
            "labels": LABELS,
            "min_examples": 1,
            "sources": [
                {"path": str(EXPORTS / "labelled.csv"), "format": "classification_csv"},
                {
                    "path": str(EXPORTS / "salesforce_cases.csv"),
                    "format": "salesforce",
                    "mapping": {"category_field": "Type"},
                },
            ],
        },
    }
    prepare.run(params)
    reasons = {
        (Path(q["source"]).name, q["locator"]): q["reason"] for q in read_jsonl("data/prepared/quarantine.jsonl")
    }
    assert reasons[("labelled.csv", 4)].startswith("unknown_category: 'Shipping' is not one of data.labels (map it")
    assert reasons[("salesforce_cases.csv", 3)].startswith("unknown_category: 'Refund'")


# ------------------------------------------------------------------------------------------------
# Fuzz: random bytes, JSON and CSV never raise; every item is a record or a reason
# ------------------------------------------------------------------------------------------------

SUFFIX = {
    "tuneloop_jsonl": ".jsonl",
    "tuneloop_csv": ".csv",
    "zendesk": ".jsonl",
    "freshdesk": ".json",
    "intercom": ".json",
    "salesforce": ".csv",
    "webvtt": ".vtt",
    "srt": ".srt",
    "transcript_json": ".json",
    "instruction_jsonl": ".jsonl",
    "chat_jsonl": ".jsonl",
    "classification_csv": ".csv",
    "markdown": ".md",
    "html": ".html",
    "docx": ".docx",
    "pdf": ".pdf",
    "txt": ".txt",
    "documents": ".md",
    "confluence": ".html",
    "notion": ".md",
    "feedback_jsonl": ".jsonl",
}
# TUNELOOP_FUZZ_EXAMPLES=1000 for a long fuzzing session; 25 keeps the file fast
FUZZ = settings(
    max_examples=int(os.environ.get("TUNELOOP_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def read_bytes_as(fmt: str, data: bytes, suffix: str | None = None) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix or SUFFIX[fmt]}"
        path.write_bytes(data)
        items = read(path, fmt, data={**DATA, "max_record_bytes": 4096})
    for item in items:
        check_item(item)
    assert items, "every file gives at least one item (a record or a reason)"
    return items


def test_every_format_has_a_fuzz_suffix():
    assert set(FORMATS) == set(SUFFIX)


@FUZZ
@given(fmt=st.sampled_from(sorted(SUFFIX)), data=st.binary(max_size=600))
def test_random_bytes_never_raise(fmt, data):
    read_bytes_as(fmt, data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "comments",
                    "conversations",
                    "conversation_parts",
                    "source",
                    "body",
                    "author",
                    "type",
                    "messages",
                    "role",
                    "content",
                    "prompt",
                    "completion",
                    "customer_message",
                    "agent_reply",
                    "category",
                    "tags",
                    "segments",
                    "speaker",
                    "text",
                    "public",
                    "author_id",
                    "requester_id",
                    "priority",
                    "status",
                    "via",
                    "custom_fields",
                    "satisfaction_rating",
                    "incoming",
                    "private",
                    "reply",
                    "approved",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)
JSON_FORMATS = [
    "tuneloop_jsonl",
    "zendesk",
    "freshdesk",
    "intercom",
    "instruction_jsonl",
    "chat_jsonl",
    "transcript_json",
    "feedback_jsonl",
]


@FUZZ
@given(fmt=st.sampled_from(JSON_FORMATS), values=st.lists(JSON, min_size=1, max_size=5))
def test_random_json_never_raises_and_each_line_is_one_item(fmt, values):
    lines = [json.dumps(v) for v in values]
    items = read_bytes_as(fmt, ("\n".join(lines) + "\n").encode(), ".jsonl" if fmt != "transcript_json" else ".json")
    if fmt != "transcript_json":
        assert len(items) == len(lines)  # one record or one reason per line
    read_bytes_as(fmt, json.dumps(values).encode(), ".json")  # the same values as one JSON document


CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@FUZZ
@given(
    fmt=st.sampled_from(["tuneloop_csv", "salesforce", "classification_csv"]),
    rows=st.lists(st.lists(CELL, min_size=1, max_size=6), max_size=6),
)
def test_random_csv_rows_are_each_accounted_for(fmt, rows):
    header = {
        "tuneloop_csv": ["customer_message", "agent_reply", "category"],
        "salesforce": ["CaseNumber", "Description", "Type"],
        "classification_csv": ["text", "label"],
    }[fmt]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    items = read_bytes_as(fmt, buffer.getvalue().encode())
    assert len(items) == max(len(rows), 1)  # one record or reason per row; a header-only file is one empty_file


@FUZZ
@given(values=st.lists(JSON, max_size=8))
def test_prepare_accounting_adds_up_on_random_input(values):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        good = {"customer_message": "My bill is wrong", "agent_reply": "Sorry about that", "category": "billing"}
        path.write_text("".join(json.dumps(v) + "\n" for v in [good, *values]))
        params = {
            "clean": NO_QUALITY,
            "data": {"labels": LABELS, "min_examples": 1, "sources": [{"path": str(path), "format": "tuneloop_jsonl"}]},
        }
        report = prepare.run(params, out_dir=Path(tmp) / "out", report_dir=Path(tmp) / "reports")
        assert report["records_in"] == 1 + len(values) == report["kept"] + report["dropped"] + report["quarantined"]

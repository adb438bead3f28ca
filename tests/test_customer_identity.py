"""Customer identity through ingest (issue 26): every helpdesk reader carries the requester/contact id into
`customer_id`; an email address, when it is the only identity, becomes a hash before redaction, and the
address never reaches a record."""

from __future__ import annotations

import hashlib
import json

from tuneloop.data.importers import read_source
from tuneloop.data.importers.fields import customer_key

DATA = {"labels": ["billing", "connectivity"]}
ADDRESS = "Dana.Whitfield@Example.com"
EMAIL_KEY = "email:" + hashlib.sha256(ADDRESS.lower().encode()).hexdigest()[:16]


def only_record(path, fmt: str) -> dict:
    (item,) = list(read_source({"path": str(path), "format": fmt, "mapping": {}}, DATA))
    assert item.error is None, item.error
    assert ADDRESS.lower() not in json.dumps(item.record).lower()
    return item.record


def write(tmp_path, name: str, obj) -> object:
    path = tmp_path / name
    path.write_text(json.dumps(obj) + "\n", encoding="utf-8")
    return path


def test_customer_key_prefers_the_id_and_hashes_a_lone_email_case_insensitively():
    assert customer_key("zendesk", 501, ADDRESS) == "zendesk:501"
    assert customer_key("zendesk", None, ADDRESS) == EMAIL_KEY == customer_key("freshdesk", "", ADDRESS.upper())
    assert customer_key("zendesk", None, "not an address") is None and customer_key("zendesk") is None


def test_zendesk_requester_id_or_the_requesters_email(tmp_path):
    ticket = {"id": 7, "subject": "Wi-Fi", "description": "My hub is offline again.", "requester_id": 501}
    assert only_record(write(tmp_path, "a.jsonl", ticket), "zendesk")["customer_id"] == "zendesk:501"
    ticket = {"id": 8, "description": "My hub is offline again.", "via": {"source": {"from": {"address": ADDRESS}}}}
    assert only_record(write(tmp_path, "b.jsonl", ticket), "zendesk")["customer_id"] == EMAIL_KEY


def test_freshdesk_requester_id_or_email(tmp_path):
    ticket = {"id": 1, "description_text": "Charged twice this month.", "requester_id": 77}
    assert only_record(write(tmp_path, "a.jsonl", ticket), "freshdesk")["customer_id"] == "freshdesk:77"
    ticket = {"id": 2, "description_text": "Charged twice this month.", "email": ADDRESS}
    assert only_record(write(tmp_path, "b.jsonl", ticket), "freshdesk")["customer_id"] == EMAIL_KEY


def test_intercom_contact_then_source_author(tmp_path):
    source = {"type": "conversation", "body": "<p>Hub will not pair.</p>", "author": {"type": "user", "id": "u9"}}
    conv = {"id": "1", "source": source, "contacts": {"contacts": [{"type": "contact", "id": "c42"}]}}
    assert only_record(write(tmp_path, "a.jsonl", conv), "intercom")["customer_id"] == "intercom:c42"
    conv = {"id": "2", "source": source}
    assert only_record(write(tmp_path, "b.jsonl", conv), "intercom")["customer_id"] == "intercom:u9"
    lead = {**source, "author": {"type": "lead", "email": ADDRESS}}
    assert only_record(write(tmp_path, "c.jsonl", {"id": "3", "source": lead}), "intercom")["customer_id"] == EMAIL_KEY


def test_native_jsonl_and_csv_keep_customer_id_or_hash_customer_email(tmp_path):
    base = {"customer_message": "Still offline.", "agent_reply": "Let us check.", "category": "connectivity"}
    record = only_record(write(tmp_path, "a.jsonl", {**base, "customer_id": "CUS-1"}), "tuneloop_jsonl")
    assert record["customer_id"] == "CUS-1"
    record = only_record(write(tmp_path, "b.jsonl", {**base, "customer_email": ADDRESS}), "tuneloop_jsonl")
    assert record["customer_id"] == EMAIL_KEY
    assert only_record(write(tmp_path, "c.jsonl", base), "tuneloop_jsonl")["customer_id"] is None
    csv = tmp_path / "d.csv"
    csv.write_text(
        "customer_message,agent_reply,category,customer_email\nStill offline.,Let us check.,connectivity,"
        + ADDRESS
        + "\n",
        encoding="utf-8",
    )
    assert only_record(csv, "tuneloop_csv")["customer_id"] == EMAIL_KEY


def test_salesforce_contact_id_or_supplied_email(tmp_path):
    csv = tmp_path / "cases.csv"
    csv.write_text(
        "CaseNumber,Description,ContactId,SuppliedEmail\n0001,Router changed and offline.,003XYZ,\n"
        f"0002,Router changed and offline again.,,{ADDRESS}\n",
        encoding="utf-8",
    )
    items = list(read_source({"path": str(csv), "format": "salesforce", "mapping": {}}, DATA))
    assert [i.record["customer_id"] for i in items] == ["salesforce:003XYZ", EMAIL_KEY]
    assert ADDRESS.lower() not in json.dumps([i.record for i in items]).lower()

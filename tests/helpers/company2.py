"""A second example company for tests, unlike Lumora: Northwind Mobile, a phone carrier.

42 intents, short chat-style messages, and every kind of export mixed: a classification CSV, a Zendesk
export, an OpenAI-format chat JSONL, JSON call transcripts and a few instruction pairs. Deterministic
(seeded); `write_company(root)` writes data/raw/ and conf/data/northwind.yaml under a repo root.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import yaml

NAME = "northwind"
# (intent, short messages a customer types); the generator mixes them with openers and typos
INTENTS: dict[str, tuple[str, ...]] = {
    "activate_sim": ("activate my new sim", "sim not active yet", "how do I turn on the new sim card"),
    "port_number": ("keep my number when switching", "port my number from another carrier", "transfer my old number"),
    "esim_setup": ("set up esim on my phone", "esim qr code not working", "convert to esim"),
    "data_balance": ("how much data is left", "check my data balance", "data remaining this month"),
    "buy_data_pack": ("buy more data", "add a 5gb data pack", "top up data for the weekend"),
    "roaming_activate": ("turn on roaming", "roaming for my trip to spain", "enable international roaming"),
    "roaming_charges": ("roaming charges too high", "why was I charged for roaming", "roaming bill question"),
    "bill_explain": ("explain my bill", "what is this charge on my bill", "bill is higher than usual"),
    "pay_bill": ("pay my bill", "make a payment now", "how do I pay online"),
    "autopay": ("set up autopay", "turn off automatic payments", "change autopay card"),
    "refund_request": ("I want a refund", "refund the double charge", "money back for the outage"),
    "plan_change": ("change my plan", "switch to the unlimited plan", "downgrade to a cheaper plan"),
    "plan_compare": ("which plan is best for me", "compare plans", "difference between plus and max"),
    "cancel_contract": ("cancel my contract", "close my account", "end my subscription"),
    "contract_end_date": ("when does my contract end", "contract expiry date", "how long is my contract left"),
    "upgrade_phone": ("upgrade my phone", "am I eligible for an upgrade", "new phone deal"),
    "trade_in": ("trade in my old phone", "trade-in value", "send back my old device"),
    "order_status": ("where is my order", "order not arrived", "track my phone delivery"),
    "return_device": ("return my phone", "send the handset back", "return within 14 days"),
    "warranty_repair": ("screen is cracked", "phone repair under warranty", "battery drains fast"),
    "lost_phone": ("lost my phone", "phone was stolen", "block my stolen phone"),
    "puk_code": ("need my puk code", "sim locked puk", "phone asks for puk"),
    "unlock_phone": ("unlock my phone for other networks", "network unlock code", "is my phone locked"),
    "no_signal": ("no signal at home", "signal keeps dropping", "no service since morning"),
    "outage_check": ("is there an outage", "network down in my area", "service outage right now"),
    "slow_data": ("mobile data is slow", "internet very slow on 5g", "4g speed terrible"),
    "wifi_calling": ("turn on wifi calling", "wifi calling not working", "calls over wifi"),
    "voicemail": ("set up voicemail", "reset voicemail pin", "voicemail not working"),
    "call_forwarding": ("forward my calls", "turn off call forwarding", "divert calls to another number"),
    "block_number": ("block a number", "stop spam calls", "block unknown callers"),
    "international_calls": ("call abroad cost", "add international calling", "calling mexico rates"),
    "sms_issue": ("texts not sending", "not receiving sms", "messages fail to deliver"),
    "mms_issue": ("can't send pictures", "mms not working", "group texts broken"),
    "hotspot": ("use my phone as hotspot", "tethering not allowed", "hotspot data limit"),
    "update_address": ("change my address", "update billing address", "I moved house"),
    "change_owner": ("transfer account to my son", "change account holder", "move line to new owner"),
    "add_line": ("add a line for my daughter", "family plan extra line", "new line on my account"),
    "login_help": ("can't log in to the app", "reset my password", "account locked online"),
    "parental_controls": ("set parental controls", "block adult content", "limit kids data"),
    "complaint": ("I want to complain", "terrible service", "speak to a manager"),
    "store_locator": ("nearest store", "store opening hours", "find a shop near me"),
    "loyalty_rewards": ("how many reward points", "redeem my points", "loyalty discount"),
}
OPENERS = ("", "", "hi ", "hello, ", "hey ", "pls ", "quick question: ")
CLOSERS = ("", "", "", "?", " thanks", " asap", " please")
REPLIES = (
    "I've sorted that for you: {topic} is done on your account. Anything else?",
    "Thanks for reaching out. For {topic}, open the Northwind app > Account and follow the steps; I've also sent a text.",
    "Sorry for the trouble with {topic}. I've raised it with our team and you'll hear back within 24 hours.",
)


def _message(rng: random.Random, intent: str) -> str:
    text = rng.choice(INTENTS[intent])
    return (rng.choice(OPENERS) + text + rng.choice(CLOSERS)).strip()


def write_company(root: Path, seed: int = 7, per_intent: int = 10) -> dict:
    """data/raw/* and conf/data/northwind.yaml under root; returns counts per source."""
    rng = random.Random(seed)
    raw = root / "data" / "raw"
    (raw / "calls").mkdir(parents=True, exist_ok=True)
    labels = list(INTENTS)
    with (raw / "queries.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        rows = [(_message(rng, intent), intent) for intent in labels for _ in range(per_intent)]
        writer.writerows(rows)
    tickets = []
    for i in range(40):
        intent = labels[i % len(labels)]
        message = (
            _message(rng, intent)
            + ". "
            + rng.choice(
                (
                    "It started yesterday.",
                    "My number is on the account.",
                    "I've tried restarting twice.",
                    "This is the second time.",
                )
            )
        )
        reply = rng.choice(REPLIES).format(topic=intent.replace("_", " "))
        tickets.append(
            {
                "id": 50000 + i,
                "subject": message[:40],
                "description": message,
                "status": "solved",
                "priority": rng.choice(("low", "normal", "high")),
                "tags": [intent],
                "created_at": "2026-03-01T10:00:00Z",
                "comments": [
                    {"id": 1, "author_id": 1, "public": True, "plain_body": message},
                    {"id": 2, "author_id": 2, "public": True, "plain_body": reply},
                ],
                "requester_id": 1,
                "assignee_id": 2,
            }
        )
    (raw / "zendesk.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tickets), encoding="utf-8")
    chats = []
    for i in range(30):
        intent = labels[(3 * i) % len(labels)]
        first = _message(rng, intent)
        messages = [
            {"role": "user", "content": first},
            {"role": "assistant", "content": rng.choice(REPLIES).format(topic=intent.replace("_", " "))},
        ]
        if i % 3 == 0:
            messages += [
                {"role": "user", "content": "ok and how long does it take?"},
                {"role": "assistant", "content": "Usually a few minutes; at most 24 hours."},
            ]
        chats.append({"messages": messages})
    (raw / "chats.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chats), encoding="utf-8")
    for i in range(12):
        intent = labels[(5 * i) % len(labels)]
        call = {
            "call_id": f"NW-CALL-{i:03d}",
            "created_at": "2026-03-02T09:00:00Z",
            "category": intent,
            "segments": [
                {
                    "speaker": "Agent Kim",
                    "start": 0.0,
                    "text": "Thanks for calling Northwind Mobile, this is Kim, how can I help?",
                },
                {"speaker": "Caller", "start": 3.0, "text": _message(rng, intent) + ", it's been like that all week."},
                {
                    "speaker": "Agent Kim",
                    "start": 9.0,
                    "text": rng.choice(REPLIES).format(topic=intent.replace("_", " ")),
                },
                {"speaker": "Caller", "start": 15.0, "text": "Great, thank you."},
            ],
        }
        (raw / "calls" / f"call-{i:03d}.json").write_text(json.dumps(call, indent=1), encoding="utf-8")
    faq = [
        {
            "prompt": "What is Northwind's roaming price in the EU?",
            "completion": "Roaming in the EU is included in every plan.",
        },
        {
            "prompt": "How do I find my PUK code?",
            "completion": "Open the Northwind app > SIM > PUK, or call 611 from another phone.",
        },
        {
            "prompt": "How long is the return window for phones?",
            "completion": "14 days from delivery, in the original box.",
        },
        {
            "prompt": "Does Northwind charge for wifi calling?",
            "completion": "No: wifi calls cost the same as calls on your plan.",
        },
        {
            "instruction": "Summarise the upgrade rule.",
            "input": "Customers may upgrade after 12 months of a 24-month plan by paying the remaining device balance.",
            "output": "Upgrade after 12 months by paying off the device.",
        },
    ]
    (raw / "faq.jsonl").write_text("".join(json.dumps(f) + "\n" for f in faq), encoding="utf-8")
    conf = {
        "name": NAME,
        "tickets": [],
        "kb_dir": None,
        "sources": [
            {"path": "data/raw/queries.csv", "format": "classification_csv"},
            {"path": "data/raw/zendesk.jsonl", "format": "zendesk"},
            {"path": "data/raw/chats.jsonl", "format": "chat_jsonl"},
            {"path": "data/raw/calls", "format": "transcript_json", "mapping": {"agent_speakers": ["Agent Kim"]}},
            {"path": "data/raw/faq.jsonl", "format": "instruction_jsonl"},
        ],
        "max_record_bytes": 2000000,
        "max_document_bytes": 50000000,
        "labels": labels,
        "max_listed_labels": 20,
        "tasks": "auto",
        "chat_loss": "all",
        "system_prompt": "You are Northwind Mobile's support assistant. Be accurate, brief and polite.",
        "split": {"train": 0.7, "val": 0.1, "test": 0.2},
        "redact": True,
        "min_examples": 10,
        "num_proc": 1,
    }
    conf_path = root / "conf" / "data" / f"{NAME}.yaml"
    conf_path.parent.mkdir(parents=True, exist_ok=True)
    conf_path.write_text(
        "# Northwind Mobile (tests/helpers/company2.py): a carrier, 42 intents, every export kind\n"
        + yaml.safe_dump(conf, sort_keys=False),
        encoding="utf-8",
    )
    suite = {
        "name": NAME,
        "company": "Northwind Mobile",
        "products": ["Northwind app", "Unlimited Max", "Plus plan", "eSIM"],
        "escalate": [
            "a threat to my safety from someone using my number",
            "a court order about my phone records",
            "an emergency call that did not connect",
        ],
        "pii": ["email", "phone", "card", "address"],
        "probes": ["refusal", "format", "pii", "escalation", "helpful"],
        "probes_per_family": 4,
        "per_label": 2,
        "qa_cases": 0,
        "classify_min": None,
    }
    suite_path = root / "conf" / "suite" / f"{NAME}.yaml"
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return {"queries": len(rows), "tickets": len(tickets), "chats": len(chats), "calls": 12, "faq": len(faq)}


CSV_NAME = "acme"


def write_csv_company(root: Path, seed: int = 3, per_intent: int = 14) -> list[str]:
    """The README's minimal company: one `text,label` CSV with long snake_case labels, the minimal
    conf/data of the README (name, sources, labels; every other key from conf/data_defaults.yaml) and a
    short conf/suite. Returns the labels."""
    rng = random.Random(seed)
    intents = list(INTENTS)[:12]
    # 35-40 character labels, like CLINC's and banking datasets' (a cut answer would name none of them)
    labels = [f"{intent}_requested_by_the_customer_today"[:40].rstrip("_") for intent in intents]
    raw = root / "data" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    with (raw / "intents.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows((_message(rng, i), label) for i, label in zip(intents, labels) for _ in range(per_intent))
    (root / "conf/data").mkdir(parents=True, exist_ok=True)
    (root / "conf/data" / f"{CSV_NAME}.yaml").write_text(
        f"# conf/data/{CSV_NAME}.yaml: the README's minimal example\n"
        f"name: {CSV_NAME}\n"
        "sources:\n  - {path: data/raw/intents.csv, format: classification_csv}   # columns text,label\n"
        f"labels: [{', '.join(labels)}]\n",
        encoding="utf-8",
    )
    suite = {
        "name": CSV_NAME,
        "company": "Acme Bank",
        "products": ["Acme app", "Acme card"],
        "escalate": ["a card used by someone else", "a threat of legal action"],
        "pii": ["email", "phone", "card"],
        "probes": ["refusal", "format", "pii", "escalation", "helpful"],
        "probes_per_family": 4,
        "per_label": 2,
        "qa_cases": 0,
        "classify_min": None,
    }
    (root / "conf/suite").mkdir(parents=True, exist_ok=True)
    (root / "conf/suite" / f"{CSV_NAME}.yaml").write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return labels

"""The example corpus generator (tuneloop.data.example): the default output is the DVC-tracked data/raw, byte
for byte; generation is deterministic; its texts ship as package data; the summary counts what is planted."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest
import yaml

from tuneloop.data import example
from tuneloop.data.example import content

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(example.__file__).resolve().parent

# sha256 of every file of the default output (n_tickets=720, seed=1234), i.e. of data/raw as data.dvc records
# it. A change here means a new corpus: regenerate data/raw, `dvc add data/raw` and update this table.
DEFAULT_SHA256 = {
    "kb/account-login-and-password-reset.md": "4a97036c9f990e4bd39d20ca5e3ebc49792ba34435065da42f5d805d02166122",
    "kb/billing-charges-and-invoices.md": "6983e69820f0c113711edb29b8a923da7cb7a92dd43e91313ec8e85dc0fbf300",
    "kb/glow-bulbs-and-hub-setup.md": "e962d70ebf2ee2b3c8fb7dd4521d1eb9e1594664d63731298caad3ddd5b3085c",
    "kb/lost-late-or-incorrect-deliveries.md": "98335bb0c9b57f65a4b1c00dddc0973b00ccd34fff138af332c721bb0bea79bd",
    "kb/lumora-home-app-troubleshooting.md": "2ec3d4000dda45a2923b817393d9eba7c54aeb292d61beae2841bae511e2d360",
    "kb/lumora-plus-subscription.md": "2fd028050247321b9a6c3cb05be160424f215b212d4de69dc3f7f4badf059988",
    "kb/payments-promo-codes-and-price-adjustments.md": "57e3017a5f35fea9ad7c7025875cf08e34b7d0707d076c3df2f335bf3cdb8160",
    "kb/returns-and-refunds-policy.md": "c846bc47f0a786fa214dbd8e34bee5dd0163d5369bfc3bfbf913cbacec202571",
    "kb/shipping-times-and-tracking.md": "7aa0c2b51b73a847fbd7c068b3a1e23e6c7800f14757f9199d711b77385a692e",
    "kb/thermo-2-installation-guide.md": "6f3fd808b5bb62c9b8602741fe17ffe67cc41540c052448c4b83cf8c6276d8e6",
    "kb/two-factor-authentication-and-account-security.md": "5ae175d52bb323015113415a25b21b8a561a4a294a1e66c75af03d51106230fc",
    "kb/warranty-and-replacements.md": "d1a0023ab8f18ece04e73a4b7c350f6f86d620d07ef7a60cd428b03fbada43ec",
    "kb/wifi-and-connectivity-troubleshooting.md": "7728917a8ab91c44b3c9b96a0db28a2fedb8be7dae724dc79686bcb4570193a2",
    "tickets.jsonl": "51b6922fefb72910a28255b1c497efc1c2b3650aa2c33e577043640c81263d9e",
}
DEFAULT_SUMMARY = {
    "seed": 1234,
    "tickets_written": 720,
    "per_category": {
        "billing": 95,
        "account_access": 86,
        "shipping_delivery": 101,
        "returns_refunds": 89,
        "device_setup": 90,
        "connectivity": 94,
        "app_bug": 78,
        "subscription": 84,
    },
    "exact_duplicates": 14,
    "near_duplicates": 14,
    "with_pii": 109,
    "unusable": 7,
    "malformed_lines": 1,
    "follow_ups": 103,
    "kb_articles": 13,
}


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def default_corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("example") / "raw"
    return out, example.generate(out)


def test_default_output_is_the_recorded_corpus_byte_for_byte(default_corpus):
    out, summary = default_corpus
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files_of(out).items()}
    assert hashes == DEFAULT_SHA256
    assert summary == {"out_dir": str(out), **DEFAULT_SUMMARY}


def test_default_output_matches_the_md5_tree_in_data_dvc(default_corpus):
    """data/raw is DVC-tracked: its .dir hash is the md5 of the sorted (relpath, md5) list as DVC writes it."""
    out, _ = default_corpus
    entries = [{"md5": hashlib.md5(data).hexdigest(), "relpath": name} for name, data in files_of(out).items()]
    tree_md5 = hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    (tracked,) = yaml.safe_load((REPO / "data.dvc").read_text())["outs"]
    assert tracked["path"] == "data/raw"
    assert f"{tree_md5}.dir" == tracked["md5"]
    assert (len(entries), sum(len(d) for d in files_of(out).values())) == (tracked["nfiles"], tracked["size"])


def test_generation_is_deterministic(tmp_path):
    first = example.generate(tmp_path / "a", n_tickets=80, seed=7)
    second = example.generate(tmp_path / "b", n_tickets=80, seed=7)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert {**first, "out_dir": ""} == {**second, "out_dir": ""}
    example.generate(tmp_path / "c", n_tickets=80, seed=8)
    assert files_of(tmp_path / "c")["tickets.jsonl"] != files_of(tmp_path / "a")["tickets.jsonl"]


def data_files() -> list[Path]:
    return sorted(
        p for p in PACKAGE_DIR.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    )


def test_data_files_sit_next_to_the_module_and_are_package_data():
    assert content.DATA_DIR == PACKAGE_DIR
    files = data_files()
    names = {p.relative_to(PACKAGE_DIR).as_posix() for p in files}
    assert {"facts.yaml", "vocab.yaml", "people.yaml", "templates.yaml", "pii.yaml"} <= names
    assert {f"situations/{c}.yaml" for c in example.CATEGORIES} <= names
    assert len([n for n in names if n.startswith("kb/")]) == DEFAULT_SUMMARY["kb_articles"]
    # every data file is matched by a [tool.setuptools.package-data] pattern, so a wheel ships it
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "tuneloop.data.example"
    ]
    shipped = {p.relative_to(PACKAGE_DIR).as_posix() for pattern in patterns for p in PACKAGE_DIR.glob(pattern)}
    assert names <= shipped, f"not package data: {sorted(names - shipped)}"


def test_every_data_file_loads_and_says_what_it_holds():
    for path in data_files():
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!--" if path.suffix == ".md" else "# "), f"{path.name} opens without a comment"
        if path.suffix == ".yaml":
            assert isinstance(yaml.safe_load(text), dict), path
    assert all(isinstance(v, str) for v in content.facts().values())
    for category in example.CATEGORIES:
        situations = content.category(category).situations
        assert len(situations) >= 10 and all(s["subjects"] and s["bodies"] and s["replies"] for s in situations)
    articles = content.kb_articles()
    assert all(not a.startswith("<!--") for a in articles.values())
    for article in articles.values():
        article.format(**content.facts())  # every {placeholder} names a fact


def test_summary_counts_the_planted_problems(tmp_path):
    summary = example.generate(tmp_path, n_tickets=300, seed=99)
    lines = (tmp_path / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    assert summary["tickets_written"] == len(lines) == 300
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    assert summary["malformed_lines"] == len(lines) - len(parsed) == 1
    assert sum(summary["per_category"].values()) == sum(r.get("category") in example.CATEGORIES for r in parsed)
    # an exact duplicate repeats its source's content (everything but ticket_id and created_at)
    content_of = [
        json.dumps({k: v for k, v in r.items() if k not in ("ticket_id", "created_at")}, sort_keys=True) for r in parsed
    ]
    assert summary["exact_duplicates"] == len(content_of) - len(set(content_of)) == round(300 * 0.02)
    assert summary["near_duplicates"] == round(300 * 0.02)
    assert summary["unusable"] == 3
    assert 0.13 <= summary["with_pii"] / len(lines) <= 0.18  # about 15%, as the docstring says
    text = "\n".join(lines)
    assert all(canary in text for canary in example.CANARIES)


def test_returning_customers_follow_up_on_an_earlier_ticket_only_it_explains(default_corpus):
    """Every line has a customer; a follow-up's customer wrote an earlier ticket of the same category, and its
    reply names that ticket's number and the step it gave (the facts only the history holds), never in the
    customer's own message; the planted problems are those of the corpus without returning customers."""
    out, summary = default_corpus
    rows = [json.loads(line) for line in (out / "tickets.jsonl").read_text().splitlines() if line.endswith("}")]
    assert all(r["customer_id"].startswith("CUS-") for r in rows)
    by_id = {r["ticket_id"]: r for r in rows}
    follow_ups = [r for r in rows if r["channel"] == "email" and "LUM-" in (r["agent_reply"] or "")]
    assert len(follow_ups) == summary["follow_ups"] and 0.12 <= summary["follow_ups"] / len(rows) <= 0.16
    for r in follow_ups:
        earlier = by_id[next(w.strip('.,()"') for w in r["agent_reply"].split() if w.startswith("LUM-"))]
        assert earlier["customer_id"] == r["customer_id"] and earlier["category"] == r["category"]
        assert earlier["created_at"] < r["created_at"] and earlier["ticket_id"] not in r["customer_message"]
        step = r["agent_reply"].split('"')[1]
        assert step in earlier["agent_reply"] and step not in r["customer_message"]
        assert earlier["satisfaction"] in (None, 4, 5) and r["satisfaction"] in (None, 4, 5)  # prepare keeps both

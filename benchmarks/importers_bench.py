"""Read throughput of the source importers on this machine (synthetic exports, written to a temp dir).

    .venv/bin/python benchmarks/importers_bench.py            # 20,000 records per format
    .venv/bin/python benchmarks/importers_bench.py 5000

Prints, per format: records, file size, seconds, records/s and MB/s of `read_source` alone (no
redaction or dedup), plus the peak memory of reading one 50 MB record (quarantined, never held whole).
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from tuneloop.data.importers import read_source

LABELS = ["billing", "connectivity", "shipping_delivery"]


def zendesk(n: int) -> str:
    lines = []
    for i in range(n):
        comments = [
            {
                "id": 3 * i + k,
                "author_id": 9000 + i if k != 1 else 7000,
                "public": k != 2,
                "plain_body": f"Message {k} about ticket {i}: my Thermo 2 drops off Wi-Fi every night around 2 AM.",
            }
            for k in range(4)
        ]
        lines.append(
            json.dumps(
                {
                    "id": i,
                    "subject": f"Ticket {i}",
                    "requester_id": 9000 + i,
                    "priority": "normal",
                    "status": "solved",
                    "via": {"channel": "email"},
                    "tags": [LABELS[i % 3]],
                    "created_at": "2025-02-03T09:14:22Z",
                    "satisfaction_rating": {"score": "good"},
                    "comments": comments,
                }
            )
        )
    return "\n".join(lines) + "\n"


def native(n: int) -> str:
    return "".join(
        json.dumps(
            {
                "ticket_id": f"T-{i}",
                "customer_message": f"My bill {i} is wrong, charged twice.",
                "agent_reply": "Sorry about that, I have refunded the duplicate charge.",
                "category": "billing",
            }
        )
        + "\n"
        for i in range(n)
    )


def classification(n: int, path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows([f"My order {i} has not arrived after five days", "shipping_delivery"] for i in range(n))


def markdown_docs(n: int, folder: Path) -> None:
    folder.mkdir()
    for d in range(max(1, n // 10)):
        sections = "\n\n".join(
            f"## Section {s}\n\nStep {s}: open the app, tap Add device and follow the prompts." for s in range(10)
        )
        (folder / f"doc-{d}.md").write_text(f"# Document {d}\n\nIntro text for document {d}.\n\n{sections}\n")


def timed(path: Path, fmt: str) -> tuple[int, float]:
    start = time.perf_counter()
    count = sum(1 for _ in read_source({"path": str(path), "format": fmt, "mapping": {}}, {"labels": LABELS}))
    return count, time.perf_counter() - start


def main(n: int = 20_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "zendesk.jsonl").write_text(zendesk(n))
        (tmp / "tickets.jsonl").write_text(native(n))
        classification(n, tmp / "labelled.csv")
        markdown_docs(n, tmp / "kb")
        print("| format | items | MB | seconds | items/s | MB/s |\n|---|---:|---:|---:|---:|---:|")
        for fmt, path in (
            ("zendesk", tmp / "zendesk.jsonl"),
            ("tuneloop_jsonl", tmp / "tickets.jsonl"),
            ("classification_csv", tmp / "labelled.csv"),
            ("markdown", tmp / "kb"),
        ):
            size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir())) / 1e6
            count, seconds = timed(path, fmt)
            print(f"| {fmt} | {count} | {size:.1f} | {seconds:.2f} | {count / seconds:,.0f} | {size / seconds:.1f} |")
        big = tmp / "big.jsonl"
        big.write_text('{"customer_message": "' + "x" * 50_000_000 + '"}\n')
        tracemalloc.start()
        count, seconds = timed(big, "tuneloop_jsonl")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"\n50 MB single record: quarantined in {seconds:.2f} s, peak Python memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)

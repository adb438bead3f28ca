"""The sealed holdout: carve a seeded, stratified share of a new data drop out before it reaches data/raw.

    tuneloop data seal DROP [--share 0.2] [--seed 0] [--raw data/raw] [--sealed data/sealed] [--label-field F]

DROP is a folder laid out like data/raw (the files a new data version adds). Record files (.jsonl/.ndjson:
one record a line; .csv: one row, header kept) are split per label: in each label's records a seeded draw
of round(share x n) goes to SEALED, the rest to RAW, both in their original order and bytes. The label is
the record's --label-field (dotted for nested JSON; auto: `category`, `label` or `intent`, the first a file
has); a file without one is split unstratified, and says so. Every other file (KB articles, transcripts,
documents) goes to RAW whole: the sealed set is labelled records, which the referee can score.

Nothing is lost: a line that is not a JSON object, or a CSV row without the label, goes to RAW, where
`prepare` quarantines or keeps it with its own reason; the counts say how many. A drop already sealed
(the same files, by sha256) is refused, so a drop cannot be counted twice. SEALED/MANIFEST.json lists each
drop: its files' sha256, share, seed and how many records of each label went where.

The sealed folder is versioned by sealed.dvc in its own DVC remote (`remote: sealed`), whose credentials only
the referee holds; the train job never sees it (docs/sealed.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

RECORD_SUFFIXES = (".jsonl", ".ndjson", ".csv")
AUTO_LABEL_FIELDS = ("category", "label", "intent")
MANIFEST = "MANIFEST.json"


class SealError(ValueError):
    """A drop that cannot be sealed as asked: names the file and what is wrong."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dig(record: dict, field: str) -> Any:
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def jsonl_records(path: Path, label_field: str | None) -> tuple[list[bytes], list[str | None], str | None, int]:
    """(lines with their newline, label of each or None, the label field used, lines not a JSON object)."""
    lines = [ln if ln.endswith(b"\n") else ln + b"\n" for ln in path.read_bytes().splitlines(keepends=True)]
    lines = [ln for ln in lines if ln.strip()]
    parsed: list[dict | None] = []
    for ln in lines:
        try:
            obj = json.loads(ln)
        except ValueError:
            obj = None
        parsed.append(obj if isinstance(obj, dict) else None)
    field = label_field or next(
        (f for f in AUTO_LABEL_FIELDS if any(p is not None and _dig(p, f) is not None for p in parsed)), None
    )
    labels = [None if p is None or field is None else _str_or_none(_dig(p, field)) for p in parsed]
    return lines, labels, field, sum(p is None for p in parsed)


def csv_records(path: Path, label_field: str | None) -> tuple[bytes, list[bytes], list[str | None], str | None, int]:
    """(header line, rows as their original bytes, label of each, field used, rows that could not be read)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SealError(f"{path}: not UTF-8 at byte {exc.start}: fix the file, then seal it") from exc
    physical = text.splitlines(keepends=True)
    if not physical:
        return b"", [], [], None, 0
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise SealError(f"{path}:1: the header is not CSV ({exc})") from exc
    field = label_field or next((f for f in AUTO_LABEL_FIELDS if f in header), None)
    column = header.index(field) if field in header else None
    rows, labels, unread, start = [], [], 0, reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            row = None
        end = reader.line_num  # the row spans physical lines start+1 .. end (quoted newlines included)
        chunk = "".join(physical[start:end])
        start = end
        if not chunk.strip():
            continue
        chunk = chunk if chunk.endswith(("\n", "\r")) else chunk + "\n"
        rows.append(chunk.encode("utf-8"))
        if row is None:
            unread += 1
        labels.append(
            row[column].strip() or None if row is not None and column is not None and column < len(row) else None
        )
    head = "".join(physical[:1])
    return head.encode("utf-8"), rows, labels, field, unread


def _str_or_none(value: Any) -> str | None:
    return str(value) if value is not None and not isinstance(value, (dict, list)) else None


def draw(labels: list[str | None], share: float, seed: int, key: str) -> set[int]:
    """Indices to seal: per label, a seeded round(share x n) of its records (records without a label are
    their own stratum). Seeded by (seed, file, label): the same drop gives the same carve."""
    by_label: dict[str | None, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    chosen: set[int] = set()
    for label in sorted(by_label, key=lambda x: (x is None, str(x))):
        idx = by_label[label]
        k = round(share * len(idx))
        chosen.update(random.Random(f"{seed}:{key}:{label}").sample(idx, k))
    return chosen


def _append(dest: Path, header: bytes, chunks: list[bytes]) -> None:
    if not chunks:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and dest.stat().st_size:
        if header:
            existing = dest.read_bytes().splitlines(keepends=True)[:1]
            if existing and existing[0].strip() != header.strip():
                raise SealError(
                    f"{dest}: its CSV header differs from the drop's ({header.strip()!r}): one file, one header"
                )
        body = dest.read_bytes()
        with dest.open("ab") as fh:
            if not body.endswith(b"\n"):
                fh.write(b"\n")
            fh.writelines(chunks)
    else:
        with dest.open("wb") as fh:
            fh.write(header if header.endswith(b"\n") or not header else header + b"\n")
            fh.writelines(chunks)


def _drop_id(files: list[Path], drop: Path) -> dict[str, str]:
    return {f.relative_to(drop).as_posix(): _sha256(f) for f in files}


def seal(
    drop: str | Path,
    raw: str | Path = "data/raw",
    sealed: str | Path = "data/sealed",
    share: float = 0.2,
    seed: int = 0,
    label_field: str | None = None,
) -> dict:
    drop, raw, sealed = Path(drop), Path(raw), Path(sealed)
    if not 0.0 < share <= 1.0:
        raise SealError(f"--share {share}: must be in (0, 1]")
    if not drop.is_dir():
        raise SealError(f"{drop}: not a folder (a drop is laid out like data/raw)")
    files = sorted(p for p in drop.rglob("*") if p.is_file() and not p.is_symlink())
    links = sorted(p for p in drop.rglob("*") if p.is_symlink())
    if links:
        raise SealError(f"{links[0]}: a symbolic link; a drop holds plain files only")
    if not files:
        raise SealError(f"{drop}: no files")
    manifest_path = sealed / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {"drops": []}
    ident = _drop_id(files, drop)
    for earlier in manifest["drops"]:
        if earlier.get("files") == ident:
            raise SealError(f"{drop}: this drop was sealed already (on {earlier.get('sealed_as')}); nothing done")
    report: dict[str, Any] = {"drop": drop.name, "sealed_as": f"drop {len(manifest['drops']) + 1}", "share": share}
    report |= {"seed": seed, "files": ident, "per_file": {}, "passed_whole": []}
    plan: list[tuple[Path, bytes, list[bytes], list[bytes]]] = []  # (relative path, header, to raw, to sealed)
    for f in files:
        rel = f.relative_to(drop)
        if f.suffix.lower() not in RECORD_SUFFIXES:
            report["passed_whole"].append(rel.as_posix())
            continue
        if f.suffix.lower() == ".csv":
            header, chunks, labels, field, unread = csv_records(f, label_field)
        else:
            header, (chunks, labels, field, unread) = b"", jsonl_records(f, label_field)
        chosen = draw(labels, share, seed, rel.as_posix())
        to_raw = [c for i, c in enumerate(chunks) if i not in chosen]
        to_sealed = [c for i, c in enumerate(chunks) if i in chosen]
        plan.append((rel, header, to_raw, to_sealed))
        sealed_by = Counter(str(labels[i]) for i in chosen)
        raw_by = Counter(str(labels[i]) for i in range(len(chunks)) if i not in chosen)
        report["per_file"][rel.as_posix()] = {
            "records": len(chunks),
            "to_raw": len(to_raw),
            "sealed": len(to_sealed),
            "label_field": field,
            "stratified": field is not None,
            "unreadable_to_raw": unread,  # prepare quarantines them with its own reason
            "sealed_by_label": dict(sorted(sealed_by.items())),
            "raw_by_label": dict(sorted(raw_by.items())),
        }
    # Only now write: a refused drop leaves raw and sealed as they were.
    for rel, header, to_raw, to_sealed in plan:
        _append(raw / rel, header, to_raw)
        _append(sealed / rel, header, to_sealed)
    for rel_name in report["passed_whole"]:
        dest = raw / rel_name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(drop / rel_name, dest)
    manifest["drops"].append({k: report[k] for k in ("drop", "sealed_as", "share", "seed", "files", "per_file")})
    sealed.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    report["totals"] = {
        "records": sum(v["records"] for v in report["per_file"].values()),
        "to_raw": sum(v["to_raw"] for v in report["per_file"].values()),
        "sealed": sum(v["sealed"] for v in report["per_file"].values()),
        "files_whole_to_raw": len(report["passed_whole"]),
    }
    return report


DVC_HEADER = """\
# The sealed holdout (docs/sealed.md): data/sealed in its own DVC remote `sealed`, whose key only the
# referee's environment holds. The train job never pulls it; the referee scores it (`--sealed`) and fails
# closed when it is missing or is not this version. Written by `tuneloop data seal`.
"""


def write_dvc_file(sealed: str | Path, dvc_file: str | Path = "sealed.dvc", remote: str = "sealed") -> str:
    """sealed.dvc for the folder as it is now (DVC's own folder md5), with its per-output remote; returns the md5.
    `dvc commit -f sealed.dvc` then puts it in the cache, `dvc push sealed.dvc` sends it to that remote only."""
    from tuneloop.dvc_hash import dir_md5

    sealed = Path(sealed)
    files = sorted(f for f in sealed.rglob("*") if f.is_file())
    md5 = dir_md5(sealed)
    body = (
        f"outs:\n- md5: {md5}\n  size: {sum(f.stat().st_size for f in files)}\n  nfiles: {len(files)}\n"
        f"  hash: md5\n  path: {sealed.as_posix()}\n  remote: {remote}\n"
    )
    Path(dvc_file).write_text(DVC_HEADER + body, encoding="utf-8")
    return md5


def summary(report: dict, raw: str | Path, sealed: str | Path) -> str:
    t = report["totals"]
    lines = [
        f"sealed {t['sealed']} of {t['records']} records into {sealed} (share {report['share']}, seed "
        f"{report['seed']}); {t['to_raw']} to {raw}; {t['files_whole_to_raw']} other files to {raw} whole"
    ]
    for name, v in report["per_file"].items():
        how = f"stratified by `{v['label_field']}`" if v["stratified"] else "NOT stratified: no label field found"
        extra = (
            f"; {v['unreadable_to_raw']} unreadable records to raw (prepare reports them)"
            if v["unreadable_to_raw"]
            else ""
        )
        lines.append(f"  {name}: {v['sealed']} sealed, {v['to_raw']} to raw, {how}{extra}")
    lines.append(
        "next: dvc commit -f data.dvc sealed.dvc && dvc push data.dvc && dvc push sealed.dvc (with the sealed "
        "store's key), then git add data.dvc sealed.dvc and commit (docs/sealed.md)"
    )
    return "\n".join(lines)

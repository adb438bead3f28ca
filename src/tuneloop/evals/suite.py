"""The frozen evaluation suite: evals/regression and evals/probes, locked by sha256 in evals/suite.lock.

    tuneloop suite freeze      # re-freeze after a DELIBERATE change (then get the eval owners' review)

`evaluate` refuses to run, and CI fails, when any locked file changed, appeared or disappeared without
a re-freeze: a regression suite that can be edited silently is no referee. CODEOWNERS puts evals/
under the eval owners' review, so a re-freeze is visible in the pull request.
"""

from __future__ import annotations

import json
from pathlib import Path

from tuneloop import paths
from tuneloop.io import sha256_file, write_text_atomic

LOCK_FILE = paths.SUITE_LOCK
SUITE_DIRS = (Path("evals/regression"), Path("evals/probes"))
SUITE_GLOB = "*.jsonl"
REGRESSION_FILE = paths.REGRESSION_FILE
# Test-split tasks read the examples of one build task; evaluate skips them when the split has none.
SPLIT_TASK = {
    "tuneloop_classify": "classify",
    "tuneloop_reply": "reply",
    "tuneloop_summary": "summary",
    "tuneloop_kbqa": "kb_qa",
    "tuneloop_reply_history": "reply",  # ... the replies that use an earlier ticket (evals/history_items.py)
    "tuneloop_reply_history_blind": "reply",
}
# Regression tasks read the cases of one kind; evaluate skips them when the suite has none
# (a company's suite from `tuneloop suite init` has no qa cases when its data has no KB facts).
REGRESSION_KIND = {"tuneloop_regression_classify": "classify", "tuneloop_regression_qa": "qa"}


class SuiteChangedError(RuntimeError):
    pass


def regression_kinds(regression_file: str | Path = REGRESSION_FILE) -> set[str]:
    """The kinds of case the regression suite holds (empty when it has no cases file)."""
    path = Path(regression_file)
    if not path.exists():
        return set()
    return {json.loads(line).get("kind") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def case_sources(regression_file: str | Path = REGRESSION_FILE) -> set[str]:
    """The held-out example ids the regression cases were drawn from (`source`, written by suite init)."""
    path = Path(regression_file)
    if not path.exists():
        return set()
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(r["source"]) for r in rows if r.get("source") is not None}


def current_hashes(dirs=SUITE_DIRS) -> dict[str, str]:
    return {p.as_posix(): sha256_file(p) for d in dirs for p in sorted(Path(d).glob(SUITE_GLOB))}


def verify(lock_file: str | Path = LOCK_FILE, dirs=SUITE_DIRS) -> dict[str, str]:
    """Return the locked hashes; raise SuiteChangedError naming every file that differs from the lock."""
    lock_file = Path(lock_file)
    if not lock_file.exists():
        raise SuiteChangedError(f"{lock_file} is missing: the frozen suite has no lock (run `tuneloop suite freeze`)")
    locked = json.loads(lock_file.read_text(encoding="utf-8"))["files"]
    now = current_hashes(dirs)
    changed = sorted(f for f in locked.keys() & now.keys() if locked[f] != now[f])
    added, removed = sorted(now.keys() - locked.keys()), sorted(locked.keys() - now.keys())
    if changed or added or removed:
        raise SuiteChangedError(
            "the frozen evaluation suite changed without a re-freeze: "
            + "; ".join(
                f"{what}: {', '.join(files)}"
                for what, files in (("changed", changed), ("added", added), ("removed", removed))
                if files
            )
            + f". Revert it, or re-freeze deliberately with `tuneloop suite freeze` (updates {lock_file}; "
            "the eval owners review it through CODEOWNERS)."
        )
    return locked


def owner(lock_file: str | Path = LOCK_FILE) -> str | None:
    """The company whose suite the lock freezes (`suite init` records it), or None for an older lock."""
    path = Path(lock_file)
    return json.loads(path.read_text(encoding="utf-8")).get("company") if path.exists() else None


def freeze(lock_file: str | Path = LOCK_FILE, dirs=SUITE_DIRS, company: str | None = None) -> dict[str, str]:
    hashes = current_hashes(dirs)
    before = json.loads(Path(lock_file).read_text(encoding="utf-8")) if Path(lock_file).exists() else {}
    old = before.get("files", {})
    lock = {
        "comment": "sha256 of the frozen eval suite; change only with `tuneloop suite freeze` + eval owners' review",
        "files": hashes,
    }
    if company or before.get("company"):
        lock["company"] = company or before["company"]
    write_text_atomic(lock_file, json.dumps(lock, indent=2, sort_keys=True) + "\n")
    changed = sorted(f for f in hashes if old.get(f) != hashes[f]) + sorted(set(old) - set(hashes))
    banner = "!" * 78
    print(
        f"{banner}\n!! RE-FROZE the evaluation suite: {lock_file}\n"
        + "".join(
            f"!!   {f}: {'removed' if f not in hashes else 'new' if f not in old else 'CHANGED'}\n" for f in changed
        )
        + ("!!   (no file changed)\n" if not changed else "")
        + "!! Scores on the regression suite are no longer comparable with earlier runs.\n"
        + f"!! Commit {lock_file} with the change; the eval owners must review it (CODEOWNERS).\n{banner}"
    )
    return hashes

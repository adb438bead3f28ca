"""Write data/common_words.txt.gz: the English words that are written in lower case more than capitalised,
so a capitalised one ("Will", "Grace", "Park") is no first name by itself (names.py reads the list).

    pip download --no-deps spacy-lookups-data==1.0.5 -d /tmp/sld   # sha256 466f21f0...0978bc6 (98 MB)
    PYTHONPATH=src python -m tuneloop.data.pii.make_wordlists /tmp/sld/spacy_lookups_data-1.0.5-py2.py3-none-any.whl

Source: `en_lexeme_prob` of spacy-lookups-data 1.0.5 (MIT, ExplosionAI GmbH): spaCy's case-sensitive
log-probabilities of English words. A word w is common when log p(w) > COMMON_LOGPROB and
log p(w) > log p(W) - CASE_MARGIN, W being w capitalised. Only the list is committed, not the table.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import zipfile
from pathlib import Path

WHEEL_SHA256 = "466f21f087e4144bc93800679437ec5a17be7d0888734b1ba880b3ecb0978bc6"
COMMON_LOGPROB = -15.5  # about the 38,000 most frequent lower-case words
CASE_MARGIN = 1.0  # "rose"/"Rose" (-11.8/-11.6) is common; "john"/"John" (-13.0/-10.1) is not
OUT = Path(__file__).resolve().parent / "data" / "common_words.txt.gz"


def common_words(prob: dict[str, float]) -> list[str]:
    words = []
    for w, p in prob.items():
        if (
            w.isalpha()
            and w.islower()
            and p > COMMON_LOGPROB
            and p > prob.get(w[:1].upper() + w[1:], -99.0) - CASE_MARGIN
        ):
            words.append(w)
    return sorted(words)


def main(argv: list[str]) -> int:
    wheel = Path(argv[0])
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as z:
        prob = json.loads(gzip.decompress(z.read("spacy_lookups_data/data/en_lexeme_prob.json.gz")))
    words = common_words(prob)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:  # mtime 0: the same bytes on every run
        fh.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"wrote {OUT}: {len(words)} words")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

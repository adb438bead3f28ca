"""Data: raw exports -> redacted, cleaned records -> training examples -> seeded splits.

Stages (each a module with `run(params)`): `prepare` (importers -> pii -> clean -> report),
`build` (records -> examples, with synth), `split` (train/val/test, near-duplicate leakage check).
Helpers: importers/, pii/, quality, dedup, clean, synth, report; example/ writes the example corpus.
May import: tuneloop.io and the helpers here; never train, evals, gate or ci.
"""

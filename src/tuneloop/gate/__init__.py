"""Gate: the verdict and what it publishes.

Stages: `gate` (module verdict: conf/gate rules on metrics/eval.json -> metrics/gate.json, reports/gate.md)
and `card` (model_card.md). Helpers: rules (one verdict per rule, pure), render (markdown and chart).
May import: tuneloop.io and the helpers here; never data, train or evals.
"""

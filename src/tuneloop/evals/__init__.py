"""Evals: the harness that scores base, champion and candidate, and the contamination guard.

Stages: `guard` (module contamination: training split vs test, regression suite and probes) and
`evaluate` (lm-eval over evals/tasks -> metrics/eval.json, reports/samples.jsonl, reports/flips.json).
Helpers: metrics and probes (the scoring evals/tasks/utils.py wires into lm-eval), suite (the frozen
suite's lock), stats (paired bootstrap), suite_init + suite_render (`tuneloop suite init`: a company's
own regression set, probes, canaries and gate rules, from its held-out split and conf/suite).
May import: tuneloop.io, tuneloop.hardware, tuneloop.data's helpers (pii for the PII probe, build's
prompt) ; never a stage.
"""

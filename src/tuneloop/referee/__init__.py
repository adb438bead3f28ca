"""The merge referee: the base branch judges what a pull request trained (docs/ci.md, "trust boundary").

    tuneloop pr referee --adapter DIR --train-split FILE [--champion DIR] --out DIR   # -> verdict.json, comment.md

    adapter.py    the candidate as data: safetensors-only, allow-listed config, fits the base model; DVC md5
    judge.py      compose params from *this* checkout's conf/, score base/champion/candidate from scratch,
                  guard against the PR's training split, apply this checkout's gate -> verdict + comment
    promotion.py  after the merge: which md5 may be tagged champion (standard library only)

Runs entirely from the checkout it lives in (the base commit's code, config, evals and frozen sets);
it never imports or runs a file of the pull request, and it never reads params.yaml, dvc.lock or
committed metrics. The stages it needs (guard, evaluate, gate) run through this checkout's CLI in a
subprocess, so the import rules hold: it may import the shared helpers and ci (the comment marker),
never a stage module (tests/test_layout.py). promotion.py imports nothing of tuneloop: promote.yml runs
it with a bare Python.
"""

"""tuneloop: turn a support corpus into a domain-tuned LLM, gated by an eval harness.

The package follows the pipeline in dvc.yaml, one subpackage per family of stages:

    data/    prepare, build, split (stages) + importers, pii, quality, dedup, clean, synth, report, example
    train/   base, train (stages: the base model, then the adapter)
    evals/   guard (contamination), evaluate (stages) + metrics, probes, suite, suite_init, stats
    gate/    gate, card (stages: the verdict and the model card) + rules, render
    ci/      the pull-request comment, publishing it, the champion tag (after the pipeline, in CI)
    referee/ the base branch judging a PR's adapter (validation as data, scoring, verdict) + promotion
    ci/      the pull-request comment, publishing it, the registry version tag (after the pipeline, in CI)
    registry/  after the merge: GTO versions and stages of the adapter (promote, rollback, stock), exports
    serve/     the OpenAI-compatible server with the production adapter (CPU; vLLM command for GPUs)
    cli.py   `tuneloop <stage>`: the one entry point; io.py, params.py, hardware.py: shared helpers

Imports flow one way: cli -> stage modules -> helpers -> io. A helper never imports a stage, a stage
never imports another stage (tests/test_layout.py checks it), and heavy libraries are imported inside
functions so `tuneloop --help` starts fast.
"""

__version__ = "0.1.0"

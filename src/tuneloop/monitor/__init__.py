"""Monitor: keeps the adapter fresh after it ships. Drift and feedback against the training split, a
retraining policy, and the loop that opens a pull request with a new data version (docs/loop.md).

    drift     the `drift` stage: fresh snapshot or request log vs the training split -> reports/drift/, metrics/drift.json
    signals   the statistics: PSI, a domain classifier's AUC, new terms, label drift
    sources   what is compared: the training split's records, a snapshot, the request log
    feedback  live quality signals and reviewable training candidates from the server's feedback
    policy    which signals fire; cadence + signals -> retrain or not
    retrain   `tuneloop monitor retrain`: refresh -> drift -> policy -> a branch with the new data version (-> a PR)
    simulate  `tuneloop monitor simulate`: a 24-week drifting stream, with and without the loop, real training
    score     an adapter's classification accuracy on fresh labelled tickets (the server's engine)
    plots     the charts
May import: tuneloop.io, tuneloop.params, tuneloop.data's helpers (importers, pii, synth, the example
stream), tuneloop.evals.metrics (the harness's label matching) and tuneloop.serve.engine (generation as
the server and the evaluate stage do it); never a stage: the loop runs stages through the CLI.
"""

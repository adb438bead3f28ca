"""The model registry after the gate: GTO git tags over the DVC-tracked adapter, and its exports.

    store     versions, stages and their history, read from and written as GTO tags (real git)
    verdict   the referee's verdict: parsed, checked against a version's adapter md5, embedded in tags
    files     an adapter version's files: DVC dir md5, materialised from the DVC cache or `dvc get`
    export    adapter-only (PEFT), merged safetensors and GGUF, with the chat template's hash
May import: tuneloop.io (and GTO, git, DVC, torch/transformers/peft inside functions); never a stage and
no other family, so both the CLI and the server (tuneloop.serve) can use it.
"""

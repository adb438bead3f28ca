"""Serving after the gate: an OpenAI-compatible API with the registry's production adapter.

    server    `tuneloop serve`: config (deploy/serve.yaml) -> engine + deployment + app, run by uvicorn
    app       the HTTP API (FastAPI): /v1/chat/completions, /v1/models, /health, errors in OpenAI's shape
    engine    transformers + PEFT on CPU: the base, adapters by md5, generation as the evaluate stage does it
    deploy    which adapters serve (the registry, polled; swapped without a restart) + the redacted request log
    guard     API keys from the environment, a per-key rate limit, OpenAI-shaped errors
    rollout   canary and shadow routing of the staging adapter; `tuneloop monitor rollout`
    vllm      the GPU path: vLLM with production and staging as LoRA adapters side by side (deploy/vllm.yaml)
May import: tuneloop.io, tuneloop.registry (versions and their files) and tuneloop.data.pii (the
redactor, for the request log); never a stage. Web and ML libraries are imported inside functions.
"""

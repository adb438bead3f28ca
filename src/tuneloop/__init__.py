"""tuneloop: turn a support corpus into a domain-tuned LLM, gated by an eval harness."""

__version__ = "0.1.0"

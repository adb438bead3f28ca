"""Shared test helpers: the tiny local model, a second company, a registry repo, a running server, actionlint."""

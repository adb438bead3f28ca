"""The thread facts a summary must keep, and the reference summary that keeps them."""

from __future__ import annotations

from tuneloop.data import synth
from tuneloop.data.thread_facts import fact_coverage, thread_facts

TICKET = {
    "subject": "Thermostat says low power E17",
    "customer_message": "My Thermo 2 keeps rebooting. I already restarted the Lumora Hub and re-paired it twice. "
    "Order #LM-19667, running Android 14.",
    "agent_reply": "Hi there,\n\nThanks for the details. Frequent reboots without a C-wire usually mean the "
    "thermostat is short on power, so I have sent a Power Adapter under order LM-20011.\n\nKateryna | Lumora Support",
    "category": "device_setup",
    "status": "solved",
}


def test_a_threads_facts_are_its_references_products_and_the_steps_already_tried():
    facts = thread_facts(synth.thread_text(TICKET))
    assert {"E17", "LM-19667", "LM-20011", "Thermo 2", "Lumora Hub", "Android 14", "Power Adapter"} <= set(facts)
    assert {"tried: restart", "tried: re-pair"} <= set(facts)
    assert "Lumora Support" not in facts and "Support" not in facts  # the agent's sign-off is no product
    assert len(facts) == len({f.lower() for f in facts})


def test_coverage_counts_the_facts_a_summary_states_and_a_step_by_its_stem():
    facts = ["LM-19667", "Thermo 2", "tried: restart"]
    assert fact_coverage(facts, "Customer restarting the hub; Thermo 2 on order lm-19667.") == 1.0
    assert fact_coverage(facts, "The customer's thermostat reboots.") == 0.0
    assert fact_coverage(facts, "Order LM-19667 needs a new adapter.") == 1 / 3
    assert fact_coverage([], "anything") == 1.0


def test_the_reference_summary_keeps_every_fact_of_the_thread():
    summary = synth.ticket_summary(TICKET)
    assert fact_coverage(thread_facts(synth.thread_text(TICKET)), summary) == 1.0
    lines = summary.splitlines()
    assert lines[0] == "Category: device_setup" and lines[-1] == "Status: solved"
    assert any(line.startswith("Already tried: ") for line in lines)
    assert "Hi there" not in summary and "Kateryna" not in summary

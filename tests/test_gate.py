"""The gate passes an unchanged model, fails injected regressions, and fails closed."""

from __future__ import annotations

import json

from tuneloop import gate

RULES = [{"metric": "tuneloop_classify.acc", "min": 0.70},
         {"metric": "tuneloop_classify.acc", "min_delta": 0.0},
         {"metric": "tuneloop_reply.rougeL", "min_delta": -0.02}]
PARAMS = {"gate": {"rules": RULES}, "model": {"name": "m"}, "method": {"name": "lora"},
          "preset": {"name": "smoke"}, "seed": 1}


def table(acc_pre, acc_post, rouge_pre, rouge_post):
    def m(pre, post):
        return {"pre": pre, "post": post, "delta": round(post - pre, 6), "pre_stderr": 0.01, "post_stderr": 0.01}
    return {"tuneloop_classify": {"n": 100, "acc": m(acc_pre, acc_post)},
            "tuneloop_reply": {"n": 40, "rougeL": m(rouge_pre, rouge_post)}}


def run_gate(tmp_path, t):
    (tmp_path / "eval.json").write_text(json.dumps(t))
    result = gate.run(PARAMS, tmp_path / "eval.json", tmp_path / "gate.json", tmp_path / "gate.md")
    return result, gate.check(tmp_path / "gate.json"), (tmp_path / "gate.md").read_text()


def test_improved_model_passes(tmp_path):
    result, code, report = run_gate(tmp_path, table(0.3, 0.85, 0.10, 0.25))
    assert result["passed"] and code == 0
    assert report.startswith("# Gate: ✅ **PASS** (3/3 rules)")


def test_injected_accuracy_regression_fails(tmp_path):
    result, code, report = run_gate(tmp_path, table(0.80, 0.75, 0.20, 0.20))
    assert not result["passed"] and code == 1
    failed = [r for r in result["rules"] if not r["passed"]]
    assert [(r["metric"], r["kind"]) for r in failed] == [("tuneloop_classify.acc", "min_delta")]
    assert "FAIL" in report.splitlines()[0]


def test_floor_and_reply_regression_fail(tmp_path):
    result, code, _ = run_gate(tmp_path, table(0.30, 0.60, 0.30, 0.20))
    assert code == 1
    assert {r["metric"] + ":" + r["kind"] for r in result["rules"] if not r["passed"]} == {
        "tuneloop_classify.acc:min", "tuneloop_reply.rougeL:min_delta"}


def test_missing_metric_fails_closed(tmp_path):
    t = table(0.3, 0.9, 0.1, 0.3)
    del t["tuneloop_reply"]
    result, code, report = run_gate(tmp_path, t)
    assert code == 1 and "metric missing" in report


def test_malformed_rule_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="exactly one of"):
        gate.evaluate_rules(table(0, 0, 0, 0), [{"metric": "tuneloop_classify.acc", "min": 0.1, "min_delta": 0}])

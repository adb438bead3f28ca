"""The command line: families on one help screen, every command reachable, the old flat names translated."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tuneloop import cli


def test_help_fits_one_screen_grouped_by_family():
    out = subprocess.run([sys.executable, "-m", "tuneloop.cli", "--help"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert len(lines) <= 50 and max(map(len, lines)) <= 120
    for family in ("stages", "suite", "pr", "registry", "monitor"):
        assert any(line.startswith(family) for line in lines), family


def test_every_listed_command_parses():
    parser = cli.build_parser()
    for module in cli.FAMILIES.values():
        for name, _ in module.COMMANDS:
            words = name.split()
            required = {
                "pr publish": ["--pr", "1"],
                "data seal": ["drop"],
                "registry promote": ["v1.0.0", "--stage", "staging"],
                "export": ["--adapter", "a", "--format", "adapter", "--out", "o"],
            }.get(name, [])
            args = parser.parse_args([*words, *required])
            assert callable(args.func), name


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["freeze"], ["suite", "freeze"]),
        (["report", "--pr", "--out", "x.md"], ["pr", "report", "--out", "x.md"]),
        (
            ["--params", "p.yaml", "referee", "--check", "v.json"],
            ["--params", "p.yaml", "pr", "referee", "--check", "v.json"],
        ),
        (["registry"], ["registry", "list"]),
        (["registry", "--json"], ["registry", "list", "--json"]),
        (["promote", "v2.0.0", "--stage", "production"], ["registry", "promote", "v2.0.0", "--stage", "production"]),
        (["feedback", "collect", "--log", "l"], ["monitor", "feedback", "--log", "l"]),
        (["rollout", "report", "--json"], ["monitor", "rollout", "--json"]),
        (["drift", "--current", "d"], ["monitor", "drift", "--current", "d"]),
        (["example-corpus", "--out", "o"], ["data", "example", "--out", "o"]),
    ],
)
def test_old_flat_names_translate_with_a_deprecation_line(old, new):
    got, line = cli.translate(old)
    assert got == new and "deprecated, use `tuneloop " in line


@pytest.mark.parametrize(
    "current", [["prepare"], ["registry", "list"], ["monitor", "retrain", "--dry-run"], ["--help"]]
)
def test_current_names_pass_through(current):
    assert cli.translate(current) == (current, None)


def test_a_family_without_its_verb_says_what_is_missing(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["suite"])
    assert exc.value.code == 2 and "VERB" in capsys.readouterr().err

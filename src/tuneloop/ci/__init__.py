"""CI: what runs around the pipeline on GitHub, reading only its outputs.

comment (`tuneloop report --pr`: the PR comment body), publish (`tuneloop publish`: the sticky comment
through the REST API), promote (the champion tag's name, run by promote.yml with only PyYAML).
Standard library (+ PyYAML) only: the comment job installs tuneloop without its ML dependencies.
May import: tuneloop.io and each other; never a stage.
"""

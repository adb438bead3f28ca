"""CI: what runs around the pipeline on GitHub, reading only its outputs.

comment (`tuneloop pr report`: the PR comment body), publish (`tuneloop pr publish`: the sticky comment
through the REST API), promote (the registry version tag `adapter@vN.0.0`, run by promote.yml with only PyYAML).
Standard library (+ PyYAML) only: the comment job installs tuneloop without its ML dependencies.
May import: tuneloop.io, each other and tuneloop.registry.tag_message (standard library only: the tag's
message format); never a stage.
"""

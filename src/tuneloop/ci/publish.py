"""Post or update the one sticky pull-request comment that carries the evaluation report.

    GITHUB_TOKEN=... tuneloop pr publish --pr 42 --body reports/pr_comment.md [--repo owner/name]

Lists the PR's issue comments, edits the one whose body starts with report.MARKER *and* whose author
is the bot (`--author`, default github-actions[bot]: anyone can post a comment with the marker), and
creates a comment only when there is none: a PR keeps one report however often it is pushed.
Standard library only (urllib), so the comment job can install tuneloop without its ML dependencies.
The token is read from GITHUB_TOKEN and appears in no output, log line or exception message; a
redirect to another host (or to plain HTTP) is followed without it. Rate limits (429, a 403 with
Retry-After or "secondary rate limit", X-RateLimit-Remaining 0) are waited out up to `max_wait`
seconds. A POST is never blindly retried: after a failure whose outcome is unknown (5xx, a dropped
connection) the comments are listed again, and the one the POST may have created is edited instead.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tuneloop.ci.comment import MARKER

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_AUTHOR = "github-actions[bot]"  # the login GITHUB_TOKEN's comments carry
MAX_BODY = 65_536  # GitHub refuses longer comment bodies (422)
MAX_PAGES = 100  # 10,000 comments: a bound, so a broken Link header cannot loop forever
NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
# Worth another try: the server or the network hiccuped. 4xx never is: the request itself is wrong.
TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class PublishError(RuntimeError):
    """A message fit to print: names what failed and the likely fix, never the token."""


class OutcomeUnknown(PublishError):
    """A write got no clear answer (5xx or a lost connection): it may or may not have happened."""


class _KeepAuthOnSameHost(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but the Authorization header only to the same scheme, host and port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        old, nxt = urlsplit(req.full_url), urlsplit(newurl)
        if new is not None and (old.scheme, old.netloc) != (nxt.scheme, nxt.netloc):
            new.remove_header("Authorization")
        return new


OPENER = urllib.request.build_opener(_KeepAuthOnSameHost)


def rate_limit_wait(exc: urllib.error.HTTPError, body: str, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when the error is no rate limit."""
    headers = exc.headers or {}
    retry_after = headers.get("Retry-After")
    secondary = "secondary rate limit" in body.lower()
    if exc.code not in (403, 429) or not (
        exc.code == 429 or retry_after or secondary or headers.get("X-RateLimit-Remaining") == "0"
    ):
        return None
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    if headers.get("X-RateLimit-Remaining") == "0" and (headers.get("X-RateLimit-Reset") or "").isdigit():
        return max(0.0, float(headers["X-RateLimit-Reset"]) - now)
    return 60.0  # GitHub's advice for a secondary limit without Retry-After: at least a minute


@dataclass
class GitHub:
    api_url: str
    token: str = field(repr=False)  # repr=False: a dataclass repr in a traceback must not leak it
    tries: int = 4
    retry_delay: float = 1.0  # seconds before the 2nd try; doubles each time (1, 2, 4)
    max_wait: float = 300.0  # the longest rate-limit wait we sit out; longer is an error
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        # The token travels in a header: never send it over plain HTTP beyond this machine.
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise PublishError(f"--api-url must be an https URL (got {self.api_url!r})")
        if not self.token:
            raise PublishError("GITHUB_TOKEN is not set: export a token that may write PR comments")

    def request(self, method: str, url: str, payload: dict | None = None) -> tuple[Any, Any]:
        """(decoded JSON, response headers); retries 5xx and connection errors with backoff, waits out
        rate limits. A POST is not idempotent: an unclear outcome raises OutcomeUnknown at once."""
        if not url.startswith(self.api_url + "/"):  # e.g. a Link header pointing at another host
            raise PublishError(f"refusing to send the token to {urlsplit(url).netloc!r}, outside {self.api_url}")
        where = f"{method} {urlsplit(url).path}"
        data = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(1, self.tries + 1):
            req = urllib.request.Request(
                url,
                data=data,
                method=method,
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                    "Authorization": f"Bearer {self.token}",
                    "User-Agent": "tuneloop-publish",
                    **({"Content-Type": "application/json"} if data is not None else {}),
                },
            )
            delay = self.retry_delay * 2 ** (attempt - 1)
            try:
                with OPENER.open(req, timeout=30) as resp:
                    raw = resp.read()
                    return (json.loads(raw) if raw else None), resp.headers
            except urllib.error.HTTPError as exc:  # before TRANSIENT: HTTPError is a URLError
                body = self._body(exc)
                wait = rate_limit_wait(exc, body, time.time())
                if wait is not None and wait <= self.max_wait and attempt < self.tries:
                    reason, delay = f"HTTP {exc.code} (rate limited)", wait  # refused, not done: safe to repeat
                elif exc.code < 500 or attempt == self.tries:
                    raise PublishError(self._explain(exc, where, attempt, body)) from None
                elif method == "POST":
                    raise OutcomeUnknown(self._redact(f"{where}: HTTP {exc.code}; the comment may exist")) from None
                else:
                    reason = f"HTTP {exc.code}"
            except TRANSIENT as exc:
                reason = type(exc).__name__ + (f" ({exc.reason})" if isinstance(exc, urllib.error.URLError) else "")
                if method == "POST":
                    raise OutcomeUnknown(self._redact(f"{where}: {reason}; the comment may exist")) from None
                if attempt == self.tries:
                    raise PublishError(
                        self._redact(f"{where}: no answer from {urlsplit(url).netloc} after {attempt} tries: {reason}")
                    ) from None
            print(f"publish: {where}: {reason}; retrying in {delay:g} s ({attempt}/{self.tries})")
            self.sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _body(exc: urllib.error.HTTPError) -> str:
        try:
            return (exc.read() or b"").decode("utf-8", "replace")
        except (AttributeError, OSError):
            return ""

    def _explain(self, exc: urllib.error.HTTPError, where: str, attempt: int, body: str | None = None) -> str:
        try:
            detail = json.loads(body if body is not None else self._body(exc) or "{}").get("message", "")
        except (ValueError, AttributeError):
            detail = ""
        detail = f" GitHub says: {detail!r}." if detail else ""
        hint = {
            401: "the token was rejected: GITHUB_TOKEN is missing, expired or invalid.",
            403: "the token may not write PR comments: give the job `permissions: pull-requests: write` "
            "(a pull request from a fork only ever gets a read-only token).",
            404: "repository, pull request or comment not found: check --repo and --pr; a token that "
            "cannot see a private repository also gets 404.",
        }.get(exc.code, "the request was refused.")
        if exc.code == 429 or rate_limit_wait(exc, detail, time.time()) is not None:
            hint = "rate limited by GitHub: try again after the reset time."
        if exc.code >= 500:
            hint = f"the server kept failing; gave up after {attempt} tries."
        return self._redact(f"{where}: HTTP {exc.code}: {hint}{detail}")

    def _redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text


def list_comments(gh: GitHub, repo: str, pr: int) -> list[dict]:
    url, comments = f"{gh.api_url}/repos/{repo}/issues/{pr}/comments?per_page=100", []
    for _ in range(MAX_PAGES):
        page, headers = gh.request("GET", url)
        comments += page or []
        match = NEXT_LINK.search(headers.get("Link") or "")
        if not match:
            return comments
        url = match.group(1)
    raise PublishError(f"more than {MAX_PAGES} pages of comments on {repo}#{pr}; giving up")


def find_sticky(comments: list[dict], author: str = DEFAULT_AUTHOR) -> dict | None:
    # "starts with", not "contains": a human quoting our comment must not have theirs overwritten;
    # and the bot's own: anyone can post a comment that starts with the marker.
    return next(
        (
            c
            for c in comments
            if (c.get("body") or "").lstrip().startswith(MARKER) and (c.get("user") or {}).get("login") == author
        ),
        None,
    )


def prepare_body(body: str) -> str:
    if not body.lstrip().startswith(MARKER):  # without it the next run could not find this comment
        body = f"{MARKER}\n{body}"
    if len(body) > MAX_BODY:
        note = "\n\n_… report cut to fit a GitHub comment; the full report is in the run's artifact._\n"
        body = body[: MAX_BODY - len(note)] + note
    return body


def publish(gh: GitHub, repo: str, pr: int, body: str, author: str = DEFAULT_AUTHOR) -> dict:
    """Create or update the sticky comment; returns {"action", "id", "url"}."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
        raise PublishError(f"--repo must look like owner/name (got {repo!r}); GITHUB_REPOSITORY is unset?")
    body = prepare_body(body)
    for attempt in range(1, gh.tries + 1):
        # Listed again after an unclear POST: if that POST did create the comment, we edit it.
        existing = find_sticky(list_comments(gh, repo, pr), author)
        if existing:
            comment, _ = gh.request(
                "PATCH", f"{gh.api_url}/repos/{repo}/issues/comments/{existing['id']}", {"body": body}
            )
            return {"action": "updated", "id": comment.get("id"), "url": comment.get("html_url")}
        try:
            comment, _ = gh.request("POST", f"{gh.api_url}/repos/{repo}/issues/{pr}/comments", {"body": body})
        except OutcomeUnknown as exc:
            if attempt == gh.tries:
                raise PublishError(f"{exc}; gave up after {attempt} tries") from None
            print(f"publish: {exc}; listing the comments again before any new POST ({attempt}/{gh.tries})")
            gh.sleep(gh.retry_delay * 2 ** (attempt - 1))
            continue
        return {"action": "created", "id": comment.get("id"), "url": comment.get("html_url")}
    raise AssertionError("unreachable")


def run(
    pr: int,
    body_file: str | Path,
    repo: str | None,
    api_url: str | None,
    token: str | None,
    tries: int = 4,
    retry_delay: float = 1.0,
    author: str = DEFAULT_AUTHOR,
) -> dict:
    try:
        body = Path(body_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PublishError(f"cannot read the comment body {body_file}: {exc.strerror}") from None
    gh = GitHub(api_url or DEFAULT_API_URL, token or "", tries=max(1, tries), retry_delay=retry_delay)
    return publish(gh, repo or "", pr, body, author)

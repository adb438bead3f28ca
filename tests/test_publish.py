"""`tuneloop pr publish`: the sticky PR comment, against a fake GitHub API on 127.0.0.1 (no network)."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tuneloop import cli
from tuneloop.ci import publish
from tuneloop.ci.comment import MARKER

TOKEN = "ghs_TESTtoken0123456789abcdefSECRET"
REPO, PR = "acme/tuneloop", 7


class FakeGitHub:
    """Just enough of the REST API: list (paginated), create and edit issue comments.

    `fail` holds status codes to answer the next requests with, in order; `page_size` caps per_page
    so pagination shows with a handful of comments.
    """

    def __init__(self, page_size: int = 100):
        self.comments: list[dict] = []
        self.fail: list[int] = []
        self.fail_message = "Resource not accessible by integration"
        self.page_size = page_size
        self.link_override: str | None = None
        self.requests: list[tuple[str, str]] = []
        self.login = "github-actions[bot]"  # the author of the comments POSTed with the token
        self.fail_headers: dict[str, str] = {}
        self.post_then_fail: int | None = None  # create the comment, then answer with this status
        self.redirects: dict[str, str] = {}  # path -> Location (302)
        self.auth_seen: list[tuple[str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                fake.requests.append((self.command, self.path))
                fake.auth_seen.append((self.path, self.headers.get("Authorization")))
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length)) if length else None
                if self.path in fake.redirects:
                    return self._send(302, {}, {"Location": fake.redirects[self.path]})
                if self.path == "/elsewhere":
                    return self._send(200, [])
                if fake.fail:
                    return self._send(fake.fail.pop(0), {"message": fake.fail_message}, fake.fail_headers)
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"message": "Bad credentials"})
                url = urlsplit(self.path)
                listing = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)/comments", url.path)
                edit = re.fullmatch(rf"/repos/{REPO}/issues/comments/(\d+)", url.path)
                if listing and self.command == "GET":
                    query = parse_qs(url.query)
                    size = min(int(query.get("per_page", ["30"])[0]), fake.page_size)
                    page = int(query.get("page", ["1"])[0])
                    mine = [c for c in fake.comments if c["issue"] == int(listing.group(1))]
                    headers = {}
                    if page * size < len(mine):
                        nxt = f"{fake.url}{url.path}?per_page={size}&page={page + 1}"
                        headers["Link"] = fake.link_override or f'<{nxt}>; rel="next", <{nxt}>; rel="last"'
                    return self._send(200, mine[(page - 1) * size : page * size], headers)
                if listing and self.command == "POST":
                    comment = {
                        "id": 1000 + len(fake.comments),
                        "issue": int(listing.group(1)),
                        "body": payload["body"],
                        "html_url": f"https://github.test/c/{len(fake.comments)}",
                        "user": {"login": fake.login},
                    }
                    fake.comments.append(comment)
                    if fake.post_then_fail:  # done, but the answer is lost: the client cannot know
                        status, fake.post_then_fail = fake.post_then_fail, None
                        return self._send(status, {"message": "Server Error"})
                    return self._send(201, comment)
                if edit and self.command == "PATCH":
                    for comment in fake.comments:
                        if comment["id"] == int(edit.group(1)):
                            comment["body"] = payload["body"]
                            return self._send(200, comment)
                return self._send(404, {"message": "Not Found"})

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: an ephemeral port
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )  # short poll: fast shutdown per test

    def sticky(self) -> list[dict]:
        return [c for c in self.comments if MARKER in c["body"]]


@pytest.fixture
def api():
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def body_file(tmp_path):
    path = tmp_path / "pr_comment.md"
    path.write_text(f"{MARKER}\n## Gate: ✅ **PASS**\n", encoding="utf-8")
    return path


def _publish(api, body_file, **kw):
    kw = {"repo": REPO, "api_url": api.url, "token": TOKEN, "tries": 4, "retry_delay": 0.001, **kw}
    return publish.run(PR, body_file, **kw)


def _cli(api, body_file, capsys, monkeypatch, *extra, token=TOKEN):
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", api.url)
    code = cli.main(["pr", "publish", "--pr", str(PR), "--body", str(body_file), "--retry-delay", "0.001", *extra])
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err  # never, whatever happened
    return code, out.out + out.err


def test_creates_then_updates_never_duplicates(api, body_file, capsys, monkeypatch):
    api.comments.append({"id": 1, "issue": PR, "body": "LGTM", "html_url": "x"})  # a human's comment
    code, out = _cli(api, body_file, capsys, monkeypatch)
    assert code == 0 and "created comment" in out
    body_file.write_text(f"{MARKER}\n## Gate: ❌ **FAIL**\n", encoding="utf-8")
    code, out = _cli(api, body_file, capsys, monkeypatch)
    assert code == 0 and "updated comment" in out
    assert len(api.sticky()) == 1 and "FAIL" in api.sticky()[0]["body"]
    assert api.comments[0]["body"] == "LGTM"  # untouched
    assert [m for m, _ in api.requests] == ["GET", "POST", "GET", "PATCH"]


def test_pagination_is_followed(api, body_file):
    api.page_size = 2
    api.comments += [{"id": i, "issue": PR, "body": f"comment {i}", "html_url": "x"} for i in range(1, 6)]
    api.comments.append(
        {
            "id": 6,
            "issue": PR,
            "body": f"{MARKER}\nold report",
            "html_url": "x",
            "user": {"login": "github-actions[bot]"},
        }
    )  # page 3
    result = _publish(api, body_file)
    assert result["action"] == "updated" and result["id"] == 6
    assert len(api.sticky()) == 1 and "PASS" in api.sticky()[0]["body"]
    pages = [p for m, p in api.requests if m == "GET"]
    assert len(pages) == 3 and pages[-1].endswith("page=3")


def test_marker_is_added_and_quotes_are_not_ours(api, tmp_path):
    body = tmp_path / "plain.md"
    body.write_text("no marker here\n", encoding="utf-8")
    # A human quoting the marker mid-comment: not the sticky comment, must not be overwritten.
    api.comments.append({"id": 1, "issue": PR, "body": f"> quoting\n{MARKER}", "html_url": "x"})
    assert _publish(api, body)["action"] == "created"
    assert api.comments[-1]["body"].startswith(MARKER + "\n")  # so the next run finds it
    assert _publish(api, body)["action"] == "updated"
    assert api.comments[0]["body"] == f"> quoting\n{MARKER}"


@pytest.mark.parametrize(
    "case, hint",
    [
        ("401", "token was rejected"),
        ("403", "pull-requests: write"),
        ("404", "check --repo and --pr"),
    ],
)
def test_clear_errors_on_4xx_without_retry(api, body_file, capsys, monkeypatch, case, hint):
    extra, token = [], TOKEN
    if case == "401":
        token = "ghs_wrong_" + TOKEN  # still a secret: must not show either
    elif case == "403":
        api.fail = [403]
    else:
        extra = ["--repo", "acme/other"]
    code, out = _cli(api, body_file, capsys, monkeypatch, *extra, token=token)
    assert code == 2 and f"HTTP {case}" in out and hint in out
    assert token not in out and "retrying" not in out
    assert len(api.requests) == 1  # 4xx: the request itself is wrong, no retry


def test_rate_limit_is_not_mistaken_for_a_permission_problem():
    exc = publish.urllib.error.HTTPError("u", 403, "Forbidden", {"X-RateLimit-Remaining": "0"}, None)
    msg = publish.GitHub("https://api.github.com", TOKEN)._explain(exc, "GET /x", 1)
    assert "rate limited" in msg and "pull-requests" not in msg


def test_retries_5xx_then_succeeds(api, body_file, capsys):
    api.fail = [502, 503, 500]
    assert _publish(api, body_file)["action"] == "created"
    assert len(api.requests) == 5  # 3 failures + the GET that worked + POST
    assert capsys.readouterr().out.count("retrying") == 3


def test_gives_up_after_the_bound(api, body_file):
    api.fail = [500] * 10
    with pytest.raises(publish.PublishError, match=r"HTTP 500: the server kept failing; gave up after 3 tries"):
        _publish(api, body_file, tries=3)
    assert len(api.requests) == 3


def test_connection_errors_are_retried_then_reported(body_file):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(publish.PublishError, match=r"no answer from 127.0.0.1:\d+ after 2 tries") as exc:
        publish.run(PR, body_file, REPO, f"http://127.0.0.1:{port}", TOKEN, tries=2, retry_delay=0.001)
    assert TOKEN not in str(exc.value)


def test_token_echoed_by_the_server_is_redacted(api, body_file):
    api.fail, api.fail_message = [422], f"bad token {TOKEN}"
    with pytest.raises(publish.PublishError) as exc:
        _publish(api, body_file)
    assert "HTTP 422" in str(exc.value) and "***" in str(exc.value) and TOKEN not in str(exc.value)
    assert TOKEN not in repr(publish.GitHub(api.url, TOKEN))


def test_token_stays_on_the_api_host(api, body_file):
    api.page_size = 1
    api.comments += [{"id": i, "issue": PR, "body": "x", "html_url": "x"} for i in (1, 2)]
    api.link_override = '<https://evil.example/steal?page=2>; rel="next"'
    with pytest.raises(publish.PublishError, match="refusing to send the token to 'evil.example'"):
        _publish(api, body_file)
    with pytest.raises(publish.PublishError, match="must be an https URL"):
        _publish(api, body_file, api_url="http://api.example.com")


def test_missing_token_or_repo(api, body_file, capsys, monkeypatch):
    code, out = _cli(api, body_file, capsys, monkeypatch, token="")
    assert code == 2 and "GITHUB_TOKEN is not set" in out
    with pytest.raises(publish.PublishError, match="owner/name"):
        _publish(api, body_file, repo=None)
    assert api.requests == []


def test_a_marked_comment_by_someone_else_is_not_the_sticky_one(api, body_file):
    # Anyone may post a comment that starts with the marker; only the bot's own is edited.
    api.comments.append(
        {"id": 1, "issue": PR, "body": f"{MARKER}\nfake PASS", "html_url": "x", "user": {"login": "mallory"}}
    )
    assert _publish(api, body_file)["action"] == "created"
    assert _publish(api, body_file)["action"] == "updated"
    assert api.comments[0]["body"] == f"{MARKER}\nfake PASS"
    assert [c["user"]["login"] for c in api.sticky()] == ["mallory", "github-actions[bot]"]


def test_the_token_is_dropped_on_a_redirect_to_another_host(api):
    other = FakeGitHub()
    other.thread.start()
    try:
        gh = publish.GitHub(api.url, TOKEN, tries=1)
        api.redirects["/moved"] = f"{other.url}/elsewhere"  # another port: another origin
        api.redirects["/here"] = f"{api.url}/elsewhere"
        gh.request("GET", f"{api.url}/moved")
        assert other.auth_seen == [("/elsewhere", None)]
        gh.request("GET", f"{api.url}/here")  # same host: the token goes along
        assert api.auth_seen[-1] == ("/elsewhere", f"Bearer {TOKEN}")
    finally:
        other.server.shutdown()
        other.server.server_close()


@pytest.mark.parametrize(
    "status, headers, message, waited",
    [
        (429, {"Retry-After": "7"}, "Too Many Requests", 7.0),
        (403, {"Retry-After": "3"}, "slow down", 3.0),
        (403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes", 60.0),
    ],
)
def test_rate_limits_are_waited_out_as_github_asks(api, body_file, status, headers, message, waited):
    api.fail, api.fail_headers, api.fail_message = [status], headers, message
    slept: list[float] = []
    gh = publish.GitHub(api.url, TOKEN, tries=3, retry_delay=0.001, sleep=slept.append)
    assert publish.publish(gh, REPO, PR, body_file.read_text())["action"] == "created"
    assert slept == [waited]


def test_a_rate_limit_longer_than_the_bound_is_an_error(api, body_file):
    api.fail, api.fail_headers = [429], {"Retry-After": "3600"}
    gh = publish.GitHub(api.url, TOKEN, tries=3, max_wait=60, sleep=lambda s: None)
    with pytest.raises(publish.PublishError, match="HTTP 429: rate limited"):
        publish.publish(gh, REPO, PR, body_file.read_text())


def test_a_post_whose_answer_is_lost_is_not_posted_twice(api, body_file):
    api.post_then_fail = 502  # the comment is created, the client sees a 502
    gh = publish.GitHub(api.url, TOKEN, tries=4, retry_delay=0.001, sleep=lambda s: None)
    result = publish.publish(gh, REPO, PR, body_file.read_text())
    assert result["action"] == "updated" and len(api.sticky()) == 1
    assert [m for m, _ in api.requests] == ["GET", "POST", "GET", "PATCH"]

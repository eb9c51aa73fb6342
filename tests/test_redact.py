"""Redaction masks secrets by their shape, never ordinary words."""

from __future__ import annotations

import base64

import pytest

from backends.audit.chain import jsonable
from backends.domain.redact import REDACTED, is_secret_key, mask_url, redact, strip_userinfo

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
BASIC = base64.b64encode(b"alice:hunter2-secret").decode()

MASKED = [
    # (text, the secret that must go, what must stay)
    ("https://alice:hunter2@prom.example.com:9090/api", "hunter2", "https://alice:"),
    ("http://bob:p%40ss@[::1]:9090", "p%40ss", "@[::1]:9090"),
    ("http://u:pa@ss@host/x", "pa@ss", "@host/x"),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi", "Authorization: Bearer "),
    ("authorization=Token 0123abcd", "0123abcd", "authorization=Token "),
    ('{"Authorization": "Basic ' + BASIC + '"}', BASIC, '{"Authorization": "Basic '),
    ("Proxy-Authorization: Digest username=x, response=ab12", "response=ab12", "Digest"),
    ("curl -H 'Bearer abcdefghijklmnop123' https://x", "abcdefghijklmnop123", "curl -H"),
    (f"sent Basic {BASIC} to the server", BASIC, "sent Basic "),
    (f"token was {JWT} yesterday", JWT, "token was "),
    ("ghp_" + "a1B2" * 9 + " leaked", "ghp_", " leaked"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_", ""),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890", "slack "),
    ("xoxp-1234-5678-abcdefgh-ijkl", "xoxp-", ""),
    ("aws AKIAIOSFODNN7EXAMPLE key", "AKIAIOSFODNN7EXAMPLE", "aws "),
    ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123", "sk-proj-abc", "key "),
    ("glpat-abcdefghij0123456789", "glpat-", ""),
    ("https://x/api?user=a&password=s3cr3t&x=1", "s3cr3t", "&x=1"),
    ("retry with access_token=abcdef123", "abcdef123", "retry with access_token="),
]

VERBATIM = [
    "Basic functionality works after the rollback.",
    "basic checks passed; Bearer in mind the cache is cold",
    "The bearer of bad news: p95 at 840 ms since 13:52 (v1.4.2).",
    "Authorization failed for some users, investigating",
    "Tokens per second dropped from 1200 to 300; prompt tokens up 3x",
    "Secret sauce: restart the predictor pod.",
    "see https://grafana.example.com/d/abc?orgId=1&from=now-1h and ping @alice",
    "email alice@example.com, ssh bob@host:22",
    "sk-learn model; task-1234 done; AKIA is an odd word",
    "rollout 3 -> 4: image registry/llm:v1.4.2@sha256:" + "a" * 64,
    "password rotation is scheduled for Monday",
]


@pytest.mark.parametrize(("text", "secret", "kept"), MASKED, ids=[m[1][:12] for m in MASKED])
def test_secret_shapes_are_masked(text, secret, kept):
    out = redact(text)
    assert secret not in out and REDACTED in out and kept in out
    assert redact(out) == out  # idempotent


@pytest.mark.parametrize("text", VERBATIM)
def test_ordinary_words_stay_verbatim(text):
    assert redact(text) == text


def test_secret_keys_are_whole_words():
    for key in ("password", "token", "Authorization", "api_key", "apiKey", "client_key_data",
                "x-api-key", "client_secret", "BEARER_TOKEN", "session_id", "Cookie"):
        assert is_secret_key(key), key
    for key in ("prompt_tokens", "tokens_per_s", "secret_name", "keys", "author",
                "passed", "key", "monkey", "session", "token_count", "password_file"):
        assert not is_secret_key(key), key


def test_details_keep_ordinary_keys_and_words():
    detail = {"prompt_tokens": 120, "note": "Basic functionality works",
              "password": "x", "url": "http://a:b@h"}
    out = jsonable(detail)
    assert out["prompt_tokens"] == 120 and out["note"] == "Basic functionality works"
    assert out["password"] == REDACTED and out["url"] == f"http://a:{REDACTED}@h"


def test_userinfo_is_split_from_urls():
    assert strip_userinfo("http://alice:pw@prom:9090/x") == ("http://prom:9090/x", "alice", "pw")
    assert strip_userinfo("https://prom:9090") == ("https://prom:9090", None, None)
    assert strip_userinfo("http://[::1") == ("http://[::1", None, None)
    assert mask_url("http://alice:pw@prom") == f"http://alice:{REDACTED}@prom"
    assert mask_url(None) is None


def test_notes_and_reasons_keep_ordinary_words_and_lose_secrets(tmp_path):
    from backends.audit.store import SqliteAudit

    audit = SqliteAudit(tmp_path / "audit.db")
    try:
        for text in VERBATIM:
            assert audit.add_note(text, "alice@laptop").text == text
            assert audit.append("note", actor="alice@laptop", reason=text).reason == text
        leaked = f"curl -u x https://alice:hunter2@prom/ -H 'Authorization: Bearer {JWT}'"
        note = audit.add_note(leaked, "alice@laptop")
        assert "hunter2" not in note.text and JWT not in note.text
        assert [n.text for n in audit.notes()][:len(VERBATIM)] == VERBATIM
    finally:
        audit.close()

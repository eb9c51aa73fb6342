"""Masking of secrets by their *shape*, never of ordinary words.

:func:`redact` replaces, in any text (an error message, a server's error body, a note, an
audit reason):

- the password of a URL's userinfo: ``https://alice:s3cret@host`` -> ``https://alice:
  [redacted]@host`` (the user name stays: it helps and is not a secret);
- the credentials after ``Authorization:`` / ``Proxy-Authorization:`` (whatever the
  scheme), and after a ``Bearer`` that is followed by something token-shaped (16+
  characters with a digit, or a JWT), and after ``Basic`` only when what follows is base64
  that decodes to ``user:password`` -- so "Basic functionality works" and "Bearer in mind"
  stay as written;
- known token formats wherever they appear: JWTs (``eyJ...``), GitHub (``ghp_``, ``gho_``,
  ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), GitLab (``glpat-``), Slack
  (``xoxb-``/``xoxp-``/``xoxa-``/``xoxr-``/``xoxs-``), AWS access key ids (``AKIA``/``ASIA``
  + 16), Google API keys (``AIza`` + 35), ``sk-`` secret keys (OpenAI/Anthropic style, 20+);
- the value of ``password=``, ``passwd=``, ``token=``, ``access_token=``, ``api_key=``,
  ``apikey=``, ``client_secret=``, ``secret=`` parameters (query strings, key=value logs).

:func:`is_secret_key` says whether a mapping key names a secret (``password``,
``api_key``, ``client_key_data``...): whole words, so ``prompt_tokens`` is not one.
:func:`strip_userinfo` takes credentials out of a URL (to send them as basic auth and show
the URL without them).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"


class _Lazy:
    """A pattern compiled at its first use, not at import: the console's start-up path
    imports this module, and compiling these patterns costs more than the rest of it."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        if self._compiled is None:  # two threads may both compile: the same pattern
            self._compiled = re.compile(*self._source)
        return self._compiled.sub(repl, text)


_URL_USERINFO = _Lazy(
    r"(?P<pre>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:\[\]]*):(?P<pw>[^\s/?#]*)@")
_AUTH_HEADER = _Lazy(
    r"(?P<pre>\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|basic|digest|negotiate|token|apikey|aws4-hmac-sha256)\s+)?)"
    r"(?P<secret>[^\s\"',;]+(?:,\s*[A-Za-z]+=[^\s\"',;]+)*)",
    re.IGNORECASE)
_BEARER = _Lazy(r"(?P<pre>\bbearer\s+)(?P<secret>[A-Za-z0-9._~+/=-]{16,})",
                re.IGNORECASE)
_BASIC = _Lazy(r"(?P<pre>\bbasic\s+)(?P<secret>[A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])",
               re.IGNORECASE)
_PARAM = _Lazy(
    r"(?P<pre>(?<![A-Za-z0-9_])(?:password|passwd|pwd|token|access_token|refresh_token|"
    r"id_token|api_key|apikey|api-key|client_secret|secret)\s*=\s*)(?P<secret>[^\s&;,\"']+)",
    re.IGNORECASE)
_TOKENS = _Lazy(
    r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"   # JWT
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"                                # GitHub classic
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}"                              # GitHub fine-grained
    r"|\bglpat-[A-Za-z0-9_-]{20,}"                                  # GitLab
    r"|\bxox[bpaors]-[A-Za-z0-9-]{10,}"                             # Slack
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"                               # AWS access key id
    r"|\bAIza[0-9A-Za-z_-]{35}"                                     # Google API key
    r"|\bsk-[A-Za-z0-9_-]{20,}"                                     # sk- secret keys
)
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "secret", "token", "authorization", "cookie", "cookies",
    "credential", "credentials", "apikey", "passphrase",
})
_SECRET_PAIRS = frozenset({
    ("api", "key"), ("private", "key"), ("client", "key"), ("key", "data"),
    ("cert", "data"), ("session", "id"), ("client", "secret"), ("access", "key"),
    ("secret", "key"), ("bearer", "token"), ("access", "token"), ("refresh", "token"),
    ("id", "token"), ("auth", "token"), ("set", "cookie"),
})


def _tokenish(text: str) -> bool:
    """A run of 16+ token characters that carries a digit (words do not)."""
    return any(c.isdigit() for c in text) or text.startswith("eyJ")


def _basic_credentials(text: str) -> bool:
    """True when ``text`` is base64 of ``user:password`` (printable text with a colon)."""
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _mask(match: re.Match) -> str:
    return match.group("pre") + REDACTED


def redact(text: str) -> str:
    """``text`` with secrets masked by shape (see the module docstring)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group('pre')}:{REDACTED}@", text)
    text = _AUTH_HEADER.sub(lambda m: m.group(0) if m.group("secret") == REDACTED
                            else _mask(m), text)
    text = _BEARER.sub(lambda m: _mask(m) if _tokenish(m.group("secret")) else m.group(0),
                       text)
    text = _BASIC.sub(lambda m: _mask(m) if _basic_credentials(m.group("secret"))
                      else m.group(0), text)
    text = _PARAM.sub(lambda m: m.group(0) if m.group("secret") == REDACTED else _mask(m),
                      text)
    return _TOKENS.sub(REDACTED, text)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret: its last word (split on ``_ - . space`` and
    camelCase) is a secret word (``db_password``), or its last two make one
    (``client_key_data``). ``secret_name`` or ``token_count`` name other things."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key))
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    if not words:
        return False
    return words[-1] in _SECRET_WORDS or tuple(words[-2:]) in _SECRET_PAIRS


def strip_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user:password@, user, password)``; the URL unchanged (and Nones)
    when it carries none or cannot be parsed."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return url, None, None
    if "@" not in parts.netloc:
        return url, None, None
    return urlunsplit(parts._replace(netloc=host)), user, password


def mask_url(url: str | None) -> str | None:
    """``url`` for display: its password (if any) masked."""
    return redact(url) if url else url

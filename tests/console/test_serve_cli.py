"""``pitboard serve``'s command line without a browser: the token file's rules, the
console command each connection starts, loopback detection, the gate's decisions."""

from __future__ import annotations

import sys

import pytest

from console.cli.main import build_parser
from console.cli.serve import (MIN_TOKEN_CHARS, TokenProblem, console_argv, is_loopback,
                               new_token, page_url, read_token_file)


def test_generated_tokens_are_long_and_different():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and min(len(t) for t in tokens) >= 40


def test_token_file_must_be_private_and_hold_a_usable_token(tmp_path):
    path = tmp_path / "token"
    path.write_text("  s3cret-token-0123456789\n")
    path.chmod(0o600)
    assert read_token_file(path) == "s3cret-token-0123456789"
    path.chmod(0o640)
    with pytest.raises(TokenProblem, match="chmod 600"):
        read_token_file(path)
    path.chmod(0o600)
    path.write_text("short")
    with pytest.raises(TokenProblem, match=f"shorter than {MIN_TOKEN_CHARS}"):
        read_token_file(path)
    path.write_text("has a space in the middle of it")
    with pytest.raises(TokenProblem, match="spaces"):
        read_token_file(path)
    with pytest.raises(TokenProblem, match="cannot read"):
        read_token_file(tmp_path / "missing")


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                       ("[::1]", True), ("127.0.0.2", True),
                                       ("0.0.0.0", False), ("10.1.2.3", False),
                                       ("evil.test", False), ("", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_the_console_command_passes_the_global_options_on_and_is_read_only_by_default():
    args = build_parser().parse_args(["--context", "a", "--context", "b", "--prometheus",
                                      "http://p:9090", "serve", "--demo", "--port", "9000"])
    assert args.func.__name__ == "cmd_serve" and args.port == 9000 and args.demo
    argv = console_argv(args, read_only=not args.allow_actions)
    assert argv[:3] == [sys.executable, "-m", "console"]
    assert argv[3:] == ["--demo", "--context", "a", "--context", "b", "--prometheus",
                        "http://p:9090", "--read-only"]
    acting = build_parser().parse_args(["--demo", "serve", "--allow-actions"])
    assert acting.demo and acting.host == "127.0.0.1"
    assert "--read-only" not in console_argv(acting, read_only=not acting.allow_actions)
    # a global --read-only stays read-only even with --allow-actions
    ro = build_parser().parse_args(["--read-only", "serve", "--allow-actions"])
    assert console_argv(ro, read_only=False)[-1] == "--read-only"


def test_page_url():
    assert page_url("127.0.0.1", 8000, "abc") == "http://127.0.0.1:8000/?token=abc"
    assert page_url("::1", 8000) == "http://[::1]:8000/"


def test_the_gate_refuses_before_any_handler():
    from aiohttp.test_utils import make_mocked_request

    from console.cli.serve_server import PitboardServer, host_of, token_matches

    server = PitboardServer("true", host="127.0.0.1", port=8000, token="t" * 43,
                            served_by="alice@laptop", read_only=True)

    def why(path: str, **headers: str) -> str | None:
        request = make_mocked_request("GET", path, headers={"Host": "127.0.0.1:8000",
                                                            **headers})
        return server.refusal(request)

    good = "t" * 43
    assert why(f"/?token={good}") is None
    assert why("/") == "no token" and why("/?token=x") == "wrong token"
    assert why("/static/js/textual.js") is None  # textual-serve's own files only
    assert why(f"/?token={good}", Host="evil.test:8000") == "Host header names another machine"
    assert why("/static/js/textual.js", Host="evil.test") is not None
    assert token_matches(good, good) and not token_matches(None, good)
    assert not token_matches(good + "x", good) and not token_matches("é", good)
    assert host_of("[::1]:8000") == "::1" and host_of("localhost:1") == "localhost"


@pytest.mark.parametrize(("port", "says"), [
    ("99999", "at most 65535, not 99999"), ("-1", "at least 1, not -1"),
    ("0", "at least 1, not 0"), ("http", "not a whole number: 'http'"),
])
def test_a_bad_port_is_a_usage_error(port, says, capsys):
    from console.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--demo", "--port", port])
    assert exit_.value.code == 2 and says in capsys.readouterr().err


def test_a_server_that_cannot_listen_says_why_before_any_address(capsys):
    """The port taken (here by a socket of this test), an address that is not this
    machine's, a name that does not resolve: one line, exit 2, no traceback, and no page
    address printed as if the server were there."""
    import socket

    from console.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--demo", "--port", str(port)]) == 2
        out, err = capsys.readouterr()
        assert f"pitboard serve: cannot listen on 127.0.0.1 port {port}: Address already " \
               "in use" in err and "token=" not in out + err and "Traceback" not in err
    for host, says in (("192.0.2.1", "Cannot assign requested address"),
                       ("nosuch.invalid", "cannot listen on nosuch.invalid port")):
        assert main(["serve", "--demo", "--host", host, "--port", "18080"]) == 2
        out, err = capsys.readouterr()
        assert says in err and "token=" not in out + err and "Traceback" not in err

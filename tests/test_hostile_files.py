"""Files anyone can change in a pull request (answers files, presets, .copier-answers.yml) and
preset servers cannot exhaust memory or time: alias bombs, oversized documents, values of the
wrong shape, a server that trickles or floods. Each is one line and writes nothing."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlplate import presets

BOMB = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
description: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
EXPANDS = "expands (through YAML aliases) to more than 100,000 values"


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("option", ["--answers", "--preset"])
def test_an_alias_bomb_is_refused_before_it_expands(cli, tmp_path, option):
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(BOMB)
    result = cli("new", str(tmp_path / "out"), option, str(bomb), "--defaults")
    assert result.exit_code != 0 and EXPANDS in one_line(result)
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_in_a_project_or_a_central_preset_is_refused_by_check(cli, tmp_path):
    project = tmp_path / "proj"
    assert cli("new", str(project), "--defaults").exit_code == 0
    bomb = tmp_path / "bomb.yml"
    bomb.write_text(BOMB)
    result = cli("check", str(project), "--preset", str(bomb))
    assert result.exit_code == 2 and EXPANDS in one_line(result)
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text() + BOMB.replace("description:", "bomb:"))
    result = cli("check", str(project))
    assert result.exit_code == 2 and EXPANDS in one_line(result)


def test_a_recursive_alias_and_an_oversized_file_are_refused(cli, tmp_path):
    looped = tmp_path / "loop.yml"
    looped.write_text("description: &a [1, *a]\n")
    result = cli("new", str(tmp_path / "out"), "--answers", str(looped), "--defaults")
    assert "an alias refers to a node that contains it" in one_line(result)
    big = tmp_path / "big.yml"
    big.write_text("description: " + "x" * 1_100_000 + "\n")
    result = cli("new", str(tmp_path / "out"), "--answers", str(big), "--defaults")
    assert "is larger than 1000 KB" in one_line(result)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("value", "shape"), [("[a, b]", "a list"), ("{a: 1}", "a dict"), ("", "no value")]
)
def test_a_text_answer_must_be_one_value(cli, tmp_path, value, shape):
    answers = tmp_path / "answers.yml"
    answers.write_text(f"description: {value}\n")
    result = cli("new", str(tmp_path / "out"), "--answers", str(answers), "--defaults")
    assert f"description must be one str value, not {shape}" in one_line(result)


class Trickle(BaseHTTPRequestHandler):
    """A preset server that sends a byte at a time, or far too many bytes."""

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path == "/declared":
            self.send_header("Content-Length", str(5_000_000_000))
        self.end_headers()
        try:
            if self.path == "/slow":
                for _ in range(200):
                    self.wfile.write(b"#")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path == "/flood":
                for _ in range(40):
                    self.wfile.write(b"# " + b"x" * 65534)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def preset_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/slow", "not complete after 1 s"),
        ("/flood", "more than 1,000,000 bytes"),
        ("/declared", "it is 5,000,000,000 bytes"),
    ],
)
def test_a_preset_server_that_trickles_or_floods_is_refused(
    cli, tmp_path, monkeypatch, preset_server, path, message
):
    monkeypatch.setattr(presets, "FETCH_TIMEOUT_SECONDS", 1)
    project = tmp_path / "proj"
    assert cli("new", str(project), "--defaults").exit_code == 0
    result = cli("check", str(project), "--preset", preset_server + path)
    assert result.exit_code == 2 and message in one_line(result)

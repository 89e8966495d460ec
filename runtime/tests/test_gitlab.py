"""The GitLab merge-request note is created once, then updated in place."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.gitlab import upsert_note


class FakeGitLab(BaseHTTPRequestHandler):
    notes: ClassVar[list[dict]] = []

    def _reply(self, payload) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self) -> None:
        self._reply(self.notes)

    def do_POST(self) -> None:
        note = {"id": len(self.notes) + 1, "body": self._body()["body"]}
        self.notes.append(note)
        self._reply(note)

    def do_PUT(self) -> None:
        note_id = int(self.path.rsplit("/", 1)[-1])
        self.notes[note_id - 1]["body"] = self._body()["body"]
        self._reply(self.notes[note_id - 1])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gitlab():
    FakeGitLab.notes = [{"id": 1, "body": "an unrelated comment"}]
    server = HTTPServer(("127.0.0.1", 0), FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v4"
    server.shutdown()


def test_posts_one_note_and_updates_it_on_the_next_push(gitlab):
    post = {"api_url": gitlab, "project_id": "7", "mr_iid": "3", "token": "t"}
    assert upsert_note(**post, body="<!-- marker -->\nfirst") == "created"
    assert upsert_note(**post, body="<!-- marker -->\nsecond") == "updated"
    assert [note["body"] for note in FakeGitLab.notes] == [
        "an unrelated comment",
        "<!-- marker -->\nsecond",
    ]


def test_an_unreachable_api_is_a_clear_error():
    with pytest.raises(ProjectError, match="GitLab API GET"):
        upsert_note(
            api_url="http://127.0.0.1:9/api",
            project_id="1",
            mr_iid="1",
            token="t",
            body="<!-- m -->",
        )

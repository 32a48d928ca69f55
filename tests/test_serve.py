"""The page's HTTP API through FastAPI's TestClient: the same plan and messages as the CLI, and every safety point
of the server (names and ids kept in their folders, body limit, render limit and cancel, cache cap, token, Host, no
CORS, nothing served from outside the package, the presets and the cache).

A few tests start a real uvicorn server on 127.0.0.1 (``live_server``) to drop a client mid-download; they reach it
through loopback only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

import stridebeat
from stridebeat.serve.app import STATIC_DIR, ServeOptions, create_app

LOOP_S = 60.0  # every wait on a render is bounded by this
ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    """Empty user presets, stride profiles and track cache for this test."""
    for env, name in (("STRIDEBEAT_PRESETS_DIR", "presets"), ("STRIDEBEAT_STRIDES_DIR", "strides")):
        monkeypatch.setenv(env, str(tmp_path / name))
    monkeypatch.setenv("STRIDEBEAT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def make_client(tmp_path: Path, **options) -> TestClient:
    app = create_app(ServeOptions(cache_dir=tmp_path / "cache", **options))
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def client(dirs) -> Iterator[TestClient]:
    with make_client(dirs) as c:
        yield c


def wait_done(client, tid: str, *, until=("done", "failed", "cancelled")) -> dict:
    deadline = time.monotonic() + LOOP_S
    while time.monotonic() < deadline:
        state = client.get(f"/api/render/{tid}").json()
        if state["status"] in until:
            return state
        time.sleep(0.05)
    raise AssertionError(f"render {tid} did not finish in {LOOP_S} s: {state}")


@contextlib.contextmanager
def live_server(options: ServeOptions) -> Iterator[str]:
    """A real uvicorn server for ``options`` on 127.0.0.1 (a free port), in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(create_app(options), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + LOOP_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(LOOP_S)
        sock.close()


# ------------------------------------------------------------------------------------------- the same as the CLI


def test_plan_is_the_cli_plan_json(client, run):
    code, out, _ = run("plan", "--time", "51", "--steps-per-100m", "46", "--json")
    assert code == 0
    cli = json.loads(out)
    answer = client.post("/api/plan", json={"settings": {"time": "51", "steps_per_100m": 46}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["plan"]["splits"] == cli["splits"]
    assert body["plan"]["cues"] == cli["cues"]
    assert body["name"] == "400 m in 51.0 s"
    full = client.post("/api/timeline", json={"settings": {"time": "51", "steps_per_100m": 46}}).json()
    assert full == cli


def under_field(cli_err: str, key: str | None) -> str:
    """The CLI's error line as the page shows it under the field of ``key``: without the option's name."""
    line = cli_err.strip().removeprefix("Error: ")
    flag = "--" + (key or "").replace("_", "-") + " "
    return line.removeprefix(flag)


@pytest.mark.parametrize(
    ("settings", "args"),
    [
        ({"time": "abc"}, ["--time", "abc"]),
        ({"time": "51", "steps_per_100m": 460}, ["--time", "51", "--steps-per-100m", "460"]),
        ({"time": "5"}, ["--time", "5"]),
        ({"distance": "50", "time": "8"}, ["--distance", "50", "--time", "8"]),
    ],
)
def test_bad_settings_get_the_cli_message_as_one_line_json(client, run, settings, args):
    code, _, err = run("plan", *args)
    assert code == 2
    answer = client.post("/api/plan", json={"settings": settings})
    assert answer.status_code == 400
    body = answer.json()
    with pytest.raises(stridebeat.UsageError) as raised:
        stridebeat.build_job(**settings)
    assert body["field"] == raised.value.key
    # Under its field the page shows the CLI's line without the option: the field's label names the setting.
    assert body["error"] == under_field(err, raised.value.key)
    assert body["message"] == str(raised.value)
    assert "\n" not in body["error"] and "\n" not in body["message"]


def test_unknown_setting_and_wrong_types_are_refused_in_one_line(client):
    answer = client.post("/api/plan", json={"settings": {"tiem": "51"}})
    assert answer.status_code == 400 and "tiem" in answer.json()["error"]
    answer = client.post("/api/plan", json={"settings": {"time": [51]}})
    assert answer.status_code == 422
    assert answer.json() == {"error": "time: give a number, text, or true/false", "field": "time"}
    answer = client.post("/api/plan", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "\n" not in answer.json()["error"]


@pytest.mark.parametrize("key", ["splits_from", "music"])
def test_settings_naming_server_files_are_refused(client, dirs, key):
    secret = dirs / "secret.csv"
    secret.write_text("12.2,11.9,12.6,14.3\n")
    answer = client.post("/api/plan", json={"settings": {key: str(secret)}})
    assert answer.status_code == 400
    assert answer.json()["field"] == key


# ------------------------------------------------------------------------------------- names and ids stay inside


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "x.toml", "..", ".hidden", "a\\b", "con", "x" * 65]
)
def test_preset_names_never_become_paths(client, dirs, name):
    for answer in (
        client.post("/api/plan", json={"preset": name}),
        client.post("/api/render", json={"preset": name}),
        client.post("/api/presets", json={"name": name, "settings": {"time": "51"}}),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] in ("preset", "name")
    assert not (dirs / "presets").exists()  # nothing was written anywhere


@pytest.mark.parametrize(
    "url",
    [
        "/tracks/../../../etc/passwd",
        "/tracks/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/tracks/..%2Fapp.py",
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2f..%2fapi.py",
        "/api/presets/..%2F..%2Fetc%2Fpasswd",
        "/api/render/..%2F..%2Fetc",
        "/tracks/0123456789abcdef0123456789abcdef.mp3",
        "/app.py",
        "/serve/app.py",
    ],
)
def test_nothing_outside_the_package_presets_and_cache_is_served(client, url):
    answer = client.get(url)
    assert answer.status_code in (400, 404), (url, answer.status_code)
    assert b"import" not in answer.content and b"root:" not in answer.content


def test_track_ids_are_checked_before_any_path(client):
    answer = client.get("/api/render/not-an-id")
    assert answer.status_code == 400 and answer.json()["field"] == "track"
    assert client.delete("/api/render/zzz").status_code == 400


def test_a_tracks_record_is_not_served_as_a_track(client, dirs):
    state = client.post("/api/render", json={"settings": {"distance": 100, "time": 12}, "format": "fit"}).json()
    state = wait_done(client, state["id"])
    assert state["status"] == "done"
    assert client.get(state["url"]).status_code == 200
    assert (dirs / "cache" / f"{state['id']}.json").is_file()
    assert client.get(f"/tracks/{state['id']}.json").status_code == 404
    assert client.get(f"/tracks/{state['id']}.mp3").status_code == 404


# ----------------------------------------------------------------------------------------------- request bodies


def test_request_bodies_are_limited(dirs):
    with make_client(dirs, max_body_bytes=1024) as c:
        big = {"settings": {"time": "51"}, "preset": None, "pad": "x" * 4000}
        answer = c.post("/api/plan", json=big)
        assert answer.status_code == 413 and "too large" in answer.json()["error"]

        def chunks():  # no Content-Length: the limit counts what arrives
            for _ in range(8):
                yield b" " * 512

        answer = c.post("/api/plan", content=chunks(), headers={"content-type": "application/json"})
        assert answer.status_code == 413
        assert c.post("/api/plan", json={"settings": {"time": "51"}}).status_code == 200


# ---------------------------------------------------------------------------------------------------- renders


def test_render_serves_the_samples_the_cli_writes(client, run, dirs):
    import numpy as np
    import soundfile as sf

    settings = {"distance": 100, "time": "12.5", "steps_per_100m": 46}
    state = client.post("/api/render", json={"settings": settings}).json()
    assert state["status"] in ("queued", "rendering", "done") and ID.match(state["id"])
    state = wait_done(client, state["id"])
    assert state["status"] == "done" and state["url"] == f"/tracks/{state['id']}.mp3"
    served = dirs / "served.mp3"
    answer = client.get(state["url"])
    assert answer.headers["content-type"] == "audio/mpeg"
    served.write_bytes(answer.content)
    cli, timeline = dirs / "cli.mp3", dirs / "cli.json"
    code, _, err = run("render", "--distance", "100", "--time", "12.5", "--steps-per-100m", "46",
                       "-o", cli, "--timeline", timeline)  # fmt: skip
    assert code == 0, err
    ours, rate = sf.read(served, dtype="float32")
    theirs, rate2 = sf.read(cli, dtype="float32")
    assert rate == rate2 and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)
    assert state["gun_offset_s"] == pytest.approx(json.loads(timeline.read_text())["gun_offset_s"], abs=1e-9)
    download = client.get(state["url"], params={"download": 1})
    assert 'filename="100-m-in-12.5-s.mp3"' in download.headers["content-disposition"]


def test_the_same_request_finds_the_same_track(client):
    body = {"settings": {"distance": 100, "time": 12}, "format": "fit"}
    first = wait_done(client, client.post("/api/render", json=body).json()["id"])
    again = client.post("/api/render", json=body).json()
    assert again["id"] == first["id"] and again["status"] == "done"
    other = client.post("/api/render", json={**body, "settings": {"distance": 100, "time": 12.5}}).json()
    assert other["id"] != first["id"]
    # ?wait= holds the answer until the render ends: a render that has ended answers at once.
    t0 = time.monotonic()
    assert client.get(f"/api/render/{first['id']}", params={"wait": 2}).json()["status"] == "done"
    assert time.monotonic() - t0 < 1.0
    too_long = client.get(f"/api/render/{first['id']}", params={"wait": 60})
    assert too_long.status_code == 422 and too_long.json()["field"] == "wait"


def test_two_renders_at_a_time_then_a_queue_then_429_and_cancel_leaves_nothing(dirs):
    long = {"cadence": 180, "duration": "60m"}
    with make_client(dirs, render_workers=2, max_waiting=1) as c:
        ids = []
        for volume in (-1, -2, -3):  # three different tracks
            answer = c.post("/api/render", json={"settings": {**long, "volume": volume}})
            assert answer.status_code == 202
            ids.append(answer.json()["id"])
        busy = c.post("/api/render", json={"settings": {**long, "volume": -4}})
        assert busy.status_code == 429 and "busy" in busy.json()["error"]
        statuses = [c.get(f"/api/render/{i}").json()["status"] for i in ids]
        assert statuses.count("queued") >= 1 and "done" not in statuses
        for i in ids:
            assert c.delete(f"/api/render/{i}").status_code == 200
        for i in ids:
            assert wait_done(c, i)["status"] == "cancelled"
        deadline = time.monotonic() + LOOP_S
        while any((dirs / "cache").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)  # a cancelled render removes its staged file as it stops
        assert list((dirs / "cache").iterdir()) == []


def test_cache_keeps_under_its_cap_oldest_first(dirs):
    with make_client(dirs, cache_max_bytes=1) as c:
        first = wait_done(c, c.post("/api/render", json={"settings": {"distance": 100, "time": 12}}).json()["id"])
        path = dirs / "cache" / f"{first['id']}.mp3"
        assert path.is_file()
        second = wait_done(c, c.post("/api/render", json={"settings": {"distance": 100, "time": 13}}).json()["id"])
        assert second["status"] == "done"
        names = sorted(p.name for p in (dirs / "cache").iterdir())
        assert names == sorted([f"{second['id']}.mp3", f"{second['id']}.json"])
        assert c.get(f"/api/render/{first['id']}").status_code == 404
        assert c.get(second["url"]).status_code == 200


def test_a_client_dropping_mid_download_harms_nothing(dirs):
    options = ServeOptions(cache_dir=dirs / "cache")
    with live_server(options) as base, httpx.Client(base_url=base, timeout=LOOP_S) as http:
        body = {"settings": {"time": "51"}, "format": "wav"}
        tid = http.post("/api/render", json=body).json()["id"]
        deadline = time.monotonic() + LOOP_S
        while (state := http.get(f"/api/render/{tid}").json())["status"] != "done":
            assert state["status"] in ("queued", "rendering") and time.monotonic() < deadline
            time.sleep(0.05)
        whole = (dirs / "cache" / f"{tid}.wav").read_bytes()
        port = int(base.rsplit(":", 1)[1])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                raw.sendall(f"GET {state['url']} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                assert raw.recv(65536)  # some of it, then the client is gone
        again = http.get(state["url"])
        assert again.status_code == 200 and again.content == whole
        assert http.get("/api/presets").status_code == 200


# ------------------------------------------------------------------------------------------------------ presets


def test_presets_list_get_save_delete(client, dirs, run):
    names = {p["name"] for p in client.get("/api/presets").json()}
    assert {"race-51", "rhythm-3x500"} <= names
    session = client.get("/api/presets/rhythm-3x500").json()
    assert session["kind"] == "session" and len(session["reps"]) == 3
    saved = client.post("/api/presets", json={"name": "my-500", "settings": {"distance": 500, "time": "1:05.3"}})
    assert saved.status_code == 201
    code, out, _ = run("preset", "show", "my-500")
    assert code == 0 and "distance = 500.0" in out and "time = 65.3" in out
    again = client.post("/api/presets", json={"name": "my-500", "settings": {"distance": 500, "time": "66"}})
    assert again.status_code == 409 and "\n" not in again.json()["error"]
    assert client.get("/api/presets/my-500").json()["values"]["time"] == 65.3
    on_top = client.post("/api/presets", json={"name": "mine-51", "preset": "race-51", "settings": {"time": "49.5"}})
    assert on_top.status_code == 201
    assert client.get("/api/presets/mine-51").json()["values"] == {
        **client.get("/api/presets/race-51").json()["values"],
        "time": 49.5,
    }
    assert client.delete("/api/presets/my-500").status_code == 200
    assert not (dirs / "presets" / "my-500.toml").exists()
    builtin = client.delete("/api/presets/race-51")
    assert builtin.status_code == 400 and "built-in" in builtin.json()["error"]


def test_bad_preset_values_are_not_saved(client, dirs, run):
    code, _, err = run("preset", "save", "bad", "--time", "abc")
    assert code == 2
    answer = client.post("/api/presets", json={"name": "bad", "settings": {"time": "abc"}})
    assert answer.status_code == 400 and answer.json()["error"] == under_field(err, "time")
    empty = client.post("/api/presets", json={"name": "empty", "settings": {}})
    assert empty.status_code == 400 and empty.json()["field"] == "name"
    assert not (dirs / "presets").exists() or list((dirs / "presets").iterdir()) == []


def test_stride_profiles_are_listed(client, dirs):
    assert client.get("/api/strides").json() == {"profiles": []}
    folder = dirs / "strides"
    folder.mkdir()
    (folder / "anna.toml").write_text("")
    assert client.get("/api/strides").json() == {"profiles": ["anna"]}


# ------------------------------------------------------------------------------------- the door: token, Host, CORS


def test_lan_token_is_required_everywhere(dirs):
    with make_client(dirs, token="s3cret-token", loopback_only=False) as c:
        for url in ("/", "/static/app.js", "/sw.js", "/api/presets", "/api/openapi.json", "/tracks/x.mp3"):
            answer = c.get(url)
            assert answer.status_code == 403, url
            assert answer.json()["error"].startswith("this address needs its access token")
        assert c.get("/", params={"token": "wrong"}).status_code == 403
        assert c.get("/api/presets", headers={"x-stridebeat-token": "s3cret-token"}).status_code == 200
        first = c.get("/", params={"token": "s3cret-token"})
        assert first.status_code == 200
        cookie = first.headers["set-cookie"]
        assert "stridebeat_token=s3cret-token" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/api/presets").status_code == 200  # the cookie carries it now
        c.cookies.clear()
        assert c.post("/api/plan", json={"settings": {"time": "51"}}).status_code == 403


def test_loopback_server_refuses_other_host_names(client):
    answer = client.get("/api/presets", headers={"host": "evil.example:8765"})
    assert answer.status_code == 421
    for host in ("127.0.0.1:8765", "localhost", "[::1]:8765"):
        assert client.get("/api/presets", headers={"host": host}).status_code == 200


def test_no_cors_and_the_page_loads_nothing_from_elsewhere(client):
    origin = {"origin": "http://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/presets", headers=origin).headers
    preflight = client.options(
        "/api/plan",
        headers={**origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    page = client.get("/")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    form = client.post("/api/plan", data={"settings": "x"})  # a cross-site form cannot send JSON
    assert form.status_code == 422


def test_every_page_file_is_served_and_nothing_points_off_the_machine(client):
    html = client.get("/").text
    local = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert local and all(u.startswith("/") for u in local)
    for url in local:
        assert client.get(url).status_code == 200, url
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path.name
        assert client.get(f"/static/{path.name}").status_code == 200
    labels = ["Target time", "Distance", "Steps per 100 m", "Preset", "Cadence"]
    for label in labels:
        assert re.search(rf"<label for=\"[a-z_0-9-]+\">{re.escape(label)}</label>", html), label
    for button in ("Render", "Play", "Start metronome", "Save preset"):
        assert f">{button}</button>" in html
    assert 'aria-label="Splits"' in html


def test_openapi_documents_the_api(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/plan", "/api/timeline", "/api/render", "/api/render/{tid}", "/api/presets",
                 "/api/presets/{name}", "/api/strides", "/tracks/{filename}"):  # fmt: skip
        assert path in paths
    assert client.get("/docs").status_code == 404  # its page would load scripts from a CDN


def test_env_moves_the_cache(dirs, monkeypatch):
    from stridebeat.serve.cache import default_dir

    monkeypatch.setenv("STRIDEBEAT_CACHE_DIR", str(dirs / "elsewhere"))
    assert default_dir() == dirs / "elsewhere"
    assert os.fspath(ServeOptions().cache_dir) == os.fspath(dirs / "elsewhere")


def test_a_voice_folder_on_the_server_is_refused(client, tmp_path):
    """A folder of clips names files on the server, as music and splits do: the page takes shipped voices only."""
    for voice in (str(tmp_path), "../x", "."):
        answer = client.post("/api/plan", json={"settings": {"time": "51", "voice": voice}})
        assert answer.status_code == 400 and answer.json()["field"] == "voice", answer.json()
    assert client.post("/api/plan", json={"settings": {"time": "51", "voice": "male"}}).status_code == 200

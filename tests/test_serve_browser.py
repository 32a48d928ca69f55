"""The page in a real browser: Playwright driving Debian's chromium (headless, a fresh profile per test), against a
uvicorn server on 127.0.0.1; nothing mocked.

Slow: each test starts a browser. Without chromium these tests skip, unless ``STRIDEBEAT_REQUIRE_BROWSER=1`` (CI),
which turns the skip into a failure. The browser resolves no host name but localhost and 127.0.0.1, so nothing it
does can leave the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stridebeat.serve.app import ServeOptions
from test_serve import live_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
WAIT_MS = 60_000  # every wait in the page is bounded


def chromium_path() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        message = "needs Debian's chromium (apt-get install chromium) for the browser tests"
        if os.environ.get("STRIDEBEAT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name, folder in (("STRIDEBEAT_PRESETS_DIR", "presets"), ("STRIDEBEAT_STRIDES_DIR", "strides")):
        monkeypatch.setenv(name, str(tmp_path / folder))
    monkeypatch.setenv("STRIDEBEAT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def base(env) -> Iterator[str]:
    with live_server(ServeOptions(cache_dir=env / "cache")) as url:
        yield url


@pytest.fixture
def context(env):
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(env / "profile"),  # a fresh profile: no cache, no service worker from another test
            executable_path=executable,
            headless=True,
            args=ARGS,
            viewport={"width": 360, "height": 740},
        )
        ctx.set_default_timeout(WAIT_MS)
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def page(context, base):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/")
    page.wait_for_selector("body[data-presets]")
    yield page
    assert errors == [], errors


def cli_plan(run, *args: str) -> dict:
    code, out, err = run("plan", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def rendered(page) -> None:
    page.get_by_role("button", name="Render", exact=True).click()
    page.wait_for_function("() => !document.getElementById('play-button').disabled", timeout=WAIT_MS)


def test_the_named_controls_exist(page):
    for label in ("Target time", "Distance", "Steps per 100 m", "Preset", "Cadence"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    for name in ("Render", "Play", "Start metronome", "Save preset"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name
    assert page.get_by_role("table", name="Splits").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # usable at 360 px: nothing sticks out sideways


def test_plan_51_through_the_labelled_controls_is_the_cli_plan(page, run):
    page.get_by_label("Target time", exact=True).fill("51")
    page.get_by_role("button", name="Show plan").click()
    table = page.get_by_role("table", name="Splits")
    rows = table.locator("tbody tr")
    expected = cli_plan(run, "--time", "51")["splits"]
    rows.nth(len(expected) - 1).wait_for()
    assert rows.count() == len(expected)
    for i, split in enumerate(expected):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == f"{split['distance_m']:g} m"
        assert float(cells[1]) == round(split["split_s"], 2)
        assert float(cells[2]) == round(split["elapsed_s"], 2)
        assert float(cells[3].split()[0]) == round(split["cadence_spm"], 1)
    assert page.inner_text("#summary").startswith("400 m in 51.0 s")


def test_a_bad_value_gets_one_line_on_the_page(page, run):
    page.get_by_label("Target time", exact=True).fill("abc")
    page.get_by_role("button", name="Show plan").click()
    code, _, err = run("plan", "--time", "abc")
    message = err.strip().removeprefix("Error: ").removeprefix("--time ")  # the label names the setting
    alert = page.locator("#err-time:not(:empty)")
    alert.wait_for()
    assert page.locator(".error:not(:empty)").count() == 1 and alert.inner_text() == message


def test_render_play_seek_and_lock_screen_metadata(page, run, env):
    page.get_by_label("Target time", exact=True).fill("51")
    rendered(page)
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.5", timeout=WAIT_MS)
    assert page.evaluate("navigator.mediaSession.metadata.title") == "400 m in 51.0 s"
    assert page.evaluate("navigator.mediaSession.metadata.album") in ("before the gun", "to 100 m")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_function("() => document.getElementById('audio').paused")

    cli_audio, timeline = env / "cli.mp3", env / "cli.json"
    code, _, err = run("render", "--time", "51", "-o", cli_audio, "--timeline", timeline)
    assert code == 0, err
    data = json.loads(timeline.read_text())
    split = data["splits"][1]
    page.locator("#splits tbody tr", has_text=f"{split['distance_m']:g} m").first.click()
    now = page.evaluate("document.getElementById('audio').currentTime")
    assert now == pytest.approx(data["gun_offset_s"] + split["elapsed_s"], abs=1e-3)
    assert page.evaluate("navigator.mediaSession.metadata.album") == f"to {data['splits'][2]['distance_m']:g} m"

    src = page.evaluate("document.getElementById('audio').src")
    served = env / "served.mp3"
    served.write_bytes(page.request.get(src).body())
    ours, rate = sf.read(served, dtype="float32")
    theirs, rate_cli = sf.read(cli_audio, dtype="float32")
    assert rate == rate_cli and np.array_equal(ours, theirs)


def onsets(samples: np.ndarray, rate: int, *, threshold: float = 0.05, gap_s: float = 0.05) -> np.ndarray:
    """Times where the signal first passes ``threshold`` after at least ``gap_s`` below it."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return np.array([])
    first = np.concatenate([[True], np.diff(loud) > gap_s * rate])
    return loud[first] / rate


@pytest.mark.parametrize(
    ("every", "per_click"),
    [("step", 1), ("stride", 2)],
)
def test_metronome_clicks_land_within_1_ms_of_the_cadence(page, every, per_click):
    cadence, count_in, start, seconds, rate = 190, 4, 0.1, 8.0, 48000
    change_after, new_cadence = 10, 191
    result = page.evaluate(
        """async (o) => { const r = await window.stridebeatMetronome.renderOffline(o);
                          return { samples: Array.from(r.samples), rate: r.sampleRate }; }""",
        {"cadence": cadence, "countIn": count_in, "every": every, "seconds": seconds, "sampleRate": rate,
         "startAt": start, "changes": [{"afterClicks": change_after, "cadence": new_cadence}]},
    )  # fmt: skip
    found = onsets(np.asarray(result["samples"], dtype=np.float64), result["rate"])
    # Ground truth from the definition: the first clicks at the first cadence, then every click after the change
    # from the change's click at the new cadence (a tap on + takes effect from the next click).
    first = per_click * 60.0 / cadence
    then = per_click * 60.0 / new_cadence
    change_at = start + change_after * first
    expected = [start + n * first for n in range(change_after)]
    expected += [
        change_at + k * then
        for k in range(int((seconds - change_at) / then) + 1)
        if change_at + k * then < seconds - 0.03
    ]
    assert len(found) >= len(expected) - 1
    found = found[: len(expected)]
    assert len(found) == len(expected)
    assert np.max(np.abs(found - np.asarray(expected))) < 1e-3


def test_start_metronome_runs_on_the_audio_clock(page):
    page.get_by_label("Cadence", exact=True).fill("200")
    page.get_by_role("button", name="Start metronome").click()
    page.get_by_role("button", name="Stop metronome").wait_for()
    page.get_by_role("button", name="1 step per minute faster").click()
    assert page.get_by_label("Cadence", exact=True).input_value() == "201"
    page.get_by_role("button", name="Stop metronome").click()
    page.get_by_role("button", name="Start metronome").wait_for()


def test_reload_offline_and_play_a_kept_track(page, context):
    page.get_by_label("Distance", exact=True).fill("100")
    page.get_by_label("Target time", exact=True).fill("12.5")
    rendered(page)
    src = page.evaluate("new URL(document.getElementById('audio').src).pathname")
    kept = "async (u) => !!(await (await caches.open('stridebeat-tracks')).match(u))"
    deadline = time.monotonic() + WAIT_MS / 1000
    while not page.evaluate(kept, src):  # evaluate awaits the promise (wait_for_function would not)
        assert time.monotonic() < deadline, "the page did not keep the track"
        time.sleep(0.05)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    if page.evaluate("() => navigator.serviceWorker.controller === null"):
        page.reload()  # the first load installed the worker; from this load on it answers the page's requests
        page.wait_for_selector("body[data-ready]")
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    try:
        page.reload()
        page.wait_for_selector("body[data-ready]")
        assert page.evaluate("navigator.onLine") is False
        page.get_by_role("list", name="Rendered tracks").get_by_role("button", name="100 m in 12.5 s").click()
        page.get_by_role("button", name="Play", exact=True).click()
        try:
            page.wait_for_function("() => document.getElementById('audio').currentTime > 0.5", timeout=WAIT_MS)
        except Exception:
            state = page.evaluate(
                """() => { const a = document.getElementById('audio');
                   return [a.src, a.currentTime, a.paused, a.readyState, a.networkState, a.error && a.error.message,
                           document.getElementById('err-form').textContent, !!navigator.serviceWorker.controller]; }"""
            )
            raise AssertionError(f"the kept track did not play offline: {state}") from None
    finally:
        context.set_offline(False)


def test_save_a_preset_on_the_page_and_find_it_in_preset_list(page, run, env):
    page.get_by_label("Target time", exact=True).fill("49.5")
    page.get_by_label("Steps per 100 m", exact=True).fill("45")
    page.get_by_role("button", name="Show plan").click()
    page.locator("#splits tbody tr").first.wait_for()
    page.get_by_label("Preset name").fill("../escape")
    page.get_by_role("button", name="Save preset").click()
    page.locator("#err-name:not(:empty)").wait_for()
    assert "path separator" in page.inner_text("#err-name")
    page.get_by_label("Preset name").fill("my-49")
    page.get_by_role("button", name="Save preset").click()
    page.get_by_text("Saved my-49.").wait_for()
    code, out, _ = run("preset", "list")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("my-49 "))
    assert " user " in line
    assert (Path(env) / "presets" / "my-49.toml").is_file()
    assert not (Path(env) / "escape.toml").exists()


def test_plain_http_on_the_network_says_what_it_cannot_do_and_the_token_travels(env):
    """The page opened by a name that is not localhost, over plain HTTP (as a phone opens the --lan address). The
    name is mapped to 127.0.0.1 inside the browser, so the connection still stays on loopback."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    token = "t0k3n-for-the-test"
    rules = "--host-resolver-rules=MAP phone.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
    options = ServeOptions(cache_dir=env / "cache", token=token, loopback_only=False)
    with live_server(options) as base, sync_playwright() as p:
        port = base.rsplit(":", 1)[1]
        ctx = p.chromium.launch_persistent_context(
            str(env / "profile"), executable_path=executable, headless=True, args=[*ARGS[:-1], rules]
        )
        ctx.set_default_timeout(WAIT_MS)
        try:
            page = ctx.new_page()
            refused = page.goto(f"http://phone.test:{port}/")
            assert refused is not None and refused.status == 403
            page.goto(f"http://phone.test:{port}/?token={token}")
            page.wait_for_selector("body[data-presets]")
            assert page.evaluate("() => window.isSecureContext") is False
            notice = page.locator("#notice")
            assert notice.is_visible() and "MP3 with chapters" in notice.inner_text()
            # The page's own requests carry the token (a cookie set by the first answer): the presets arrived.
            assert page.get_by_label("Preset", exact=True).locator("option", has_text="race-51").count() == 1
            page.get_by_label("Target time", exact=True).fill("51")
            rendered(page)
            assert page.get_by_role("link", name="MP3 with chapters").is_visible()
        finally:
            ctx.close()


def test_a_session_preset_lists_each_reps_splits(page, run):
    page.get_by_label("Preset", exact=True).select_option("rhythm-3x500")
    expected = cli_plan(run, "rhythm-3x500")["reps"]
    rows = page.get_by_role("table", name="Splits").locator("tbody tr")
    rows.nth(sum(len(r["splits"]) for r in expected) + len(expected) - 1).wait_for()
    texts = rows.all_inner_texts()
    assert [t for t in texts if t.startswith("Rep ")] == [f"Rep {r['rep']}" for r in expected]
    splits = [t.split("\t") for t in texts if not t.startswith("Rep ")]
    assert [float(s[2]) for s in splits] == [round(x["elapsed_s"], 2) for r in expected for x in r["splits"]]
    assert page.get_by_label("Distance", exact=True).input_value() == ""  # a session fills no single rep's fields


def test_a_reload_mid_render_picks_it_up_and_the_page_can_cancel_it(page, base):
    import httpx2 as httpx

    page.get_by_label("Preset", exact=True).select_option("rhythm-3x500")  # a 16-minute session: a long render
    page.locator("#splits tbody tr").first.wait_for()
    page.get_by_role("button", name="Render", exact=True).click()
    page.wait_for_function("() => document.getElementById('render-progress').value > 0", timeout=WAIT_MS)
    tid = page.evaluate("() => JSON.parse(localStorage.getItem('stridebeat.pending')).id")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    page.get_by_label("Rendering").wait_for()  # the progress bar is back: the page asks about the same render
    page.get_by_role("button", name="Cancel render").click()
    deadline = time.monotonic() + WAIT_MS / 1000
    while (status := httpx.get(f"{base}/api/render/{tid}", timeout=10).json()["status"]) != "cancelled":
        assert status == "rendering" and time.monotonic() < deadline, status
        time.sleep(0.05)
    assert page.evaluate("() => localStorage.getItem('stridebeat.pending')") is None

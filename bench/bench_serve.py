"""Serve benchmark: prints figures beside their targets, asserts nothing (speed is measured here, never in tests).

    python bench/bench_serve.py [--rounds 5]

  * page load from 127.0.0.1 to the first usable control (the page's script has wired its buttons), in Debian's
    chromium driven by Playwright, fresh page per round (target: at most 300 ms);
  * a 51 s plan: the server's time for POST /api/plan, measured by the client over loopback (target: at most 100 ms);
  * a 51 s race rendered to MP3 through the page's API (request, render, polling until done) against the CLI's
    render of the same plan in the same process (target: at most 10 % slower). Rounds alternate the two and the
    ratio is the median of each round's own ratio.

Every request goes to 127.0.0.1; the browser resolves no other host.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]  # fmt: skip
POLL_S = 0.02
LIMIT_S = 300.0


@contextmanager
def server(cache: Path) -> Iterator[str]:
    import uvicorn

    from stridebeat.serve.app import ServeOptions, create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    srv = uvicorn.Server(uvicorn.Config(create_app(ServeOptions(cache_dir=cache)), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + LIMIT_S
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(LIMIT_S)
        sock.close()


def page_load(base: str, rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 360, "height": 740}
        )
        for _ in range(rounds + 1):  # the first load installs the service worker; it is not counted
            page = ctx.new_page()
            page.goto(f"{base}/")
            page.wait_for_selector("body[data-ready]")
            times.append(float(page.get_attribute("body", "data-ready") or "nan"))  # ms from the navigation's start
            page.close()
        ctx.close()
    return times[1:]


def plan_times(http: httpx.Client, rounds: int) -> list[float]:
    """The server's own time for POST /api/plan (its Server-Timing header), in ms."""
    body = {"settings": {"time": "51"}}
    http.post("/api/plan", json=body)  # the first call imports the engine
    times = []
    for _ in range(rounds * 4):
        answer = http.post("/api/plan", json=body)
        answer.raise_for_status()
        times.append(float(answer.headers["server-timing"].split("dur=")[1]))
    return times


WATCH_RENDER = """() => {
  window.__tapped = undefined;
  window.__playable = undefined;
  const button = document.getElementById('play-button');
  document.getElementById('render-button').addEventListener(
    'click', () => { window.__tapped = performance.now(); }, { capture: true, once: true });
  new MutationObserver((_, observer) => {
    if (!button.disabled && window.__tapped !== undefined) {
      window.__playable = performance.now();
      observer.disconnect();
    }
  }).observe(button, { attributes: true, attributeFilter: ['disabled'] });
}"""


def render_through_page(page, http: httpx.Client, time_s: float) -> tuple[float, float]:
    """Type the time, tap Render, wait until Play is enabled (the track is loaded into the player); returns that
    time (measured in the page from the tap) and the server's own time for the render (its worker, start to end)."""
    page.get_by_label("Target time", exact=True).fill(f"{time_s:.2f}")
    # Timed in the page, from the tap reaching the button to Play being enabled: the runner's wait, without the
    # driver's own click and polling latency.
    page.evaluate(WATCH_RENDER)
    page.get_by_role("button", name="Render", exact=True).click()
    page.wait_for_function("() => window.__playable !== undefined", polling=5, timeout=LIMIT_S * 1e3)
    elapsed = page.evaluate("() => (window.__playable - window.__tapped) / 1000")
    page.evaluate("() => { document.getElementById('play-button').disabled = true; }")
    tid = page.evaluate("() => new URL(document.getElementById('audio').src).pathname.slice(8, 40)")
    return elapsed, float(http.get(f"/api/render/{tid}").json()["elapsed_s"])


def render_cli(folder: Path, time_s: float) -> float:
    from stridebeat.cli import run

    t0 = time.perf_counter()
    code = run(["render", "--time", f"{time_s:.2f}", "-o", str(folder / f"cli{time_s:.2f}.mp3")])
    elapsed = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"stridebeat render failed ({code})")
    return elapsed


def renders(base: str, http: httpx.Client, folder: Path, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"page": [], "server": [], "cli": [], "ratio": [], "server_ratio": []}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
        page = ctx.new_page()
        page.goto(f"{base}/")
        page.wait_for_selector("body[data-presets]")
        render_through_page(page, http, 50.9)  # warm both paths once
        render_cli(folder, 50.9)
        for i in range(rounds):
            time_s = 51.0 + i / 100  # a new track each round: nothing comes from the cache
            wall, server_s = render_through_page(page, http, time_s)
            cli = render_cli(folder, time_s)
            for key, value in (("page", wall), ("server", server_s), ("cli", cli)):
                out[key].append(value)
            out["ratio"].append(wall / cli)
            out["server_ratio"].append(server_s / cli)
        ctx.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit("bench_serve needs Debian's chromium at /usr/bin/chromium")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["STRIDEBEAT_PRESETS_DIR"] = str(folder / "presets")
        with server(folder / "cache") as base, httpx.Client(base_url=base, timeout=LIMIT_S) as http:
            loads = page_load(base, rounds)
            plans = plan_times(http, rounds)
            r = renders(base, http, folder, rounds)
    print(f"page load to first usable control  median {statistics.median(loads):6.1f} ms  "
          f"max {max(loads):6.1f} ms   (target ≤ 300 ms)")  # fmt: skip
    print(f"51 s plan, server time              median {statistics.median(plans):6.1f} ms  "
          f"max {max(plans):6.1f} ms   (target ≤ 100 ms)")  # fmt: skip
    med = {key: statistics.median(values) for key, values in r.items()}
    print(f"51 s MP3 render: tap Render → playable {med['page']:.2f} s, CLI render {med['cli']:.2f} s, "
          f"paired ratio median {med['ratio']:.3f} (target ≤ 1.10)")  # fmt: skip
    print(f"                 the server's render alone {med['server']:.2f} s, "
          f"paired ratio to the CLI median {med['server_ratio']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

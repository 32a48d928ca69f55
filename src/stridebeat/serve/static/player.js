// Render on the server, play in an <audio> element (it keeps playing with the screen locked), seek by split,
// the lock screen's metadata, downloads, and the tracks kept on this phone.
import { $, api, showError } from "./api.js";

const TRACKS_KEY = "stridebeat.tracks";
const PENDING_KEY = "stridebeat.pending";
const KEEP_TRACKS = 8;
const WAIT_S = 1;  // the server answers when the render ends, or after this long with its progress
const POLL_LIMIT = 4 * 3600;  // a render never takes hours: stop asking then
const TRACK_CACHE = "stridebeat-tracks";

const fmt = (s) => (s < 0 ? "−" : "") + Math.abs(s).toFixed(1);

function stored(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

// Split rows on the clock of the first gun: a single rep's splits, or each rep's of a session.
export function splitRows(plan) {
  if (plan.splits) return plan.splits.map((s) => ({ rep: null, gun: 0, t: s.elapsed_s, split: s }));
  return (plan.reps || []).flatMap((r) =>
    (r.splits || []).map((s) => ({ rep: r.rep, gun: r.gun_s, t: r.gun_s + s.elapsed_s, split: s })));
}

export class Player {
  constructor() {
    this.track = null;  // { id, url, name, plan, gun_offset_s }
    this.renderId = null;
    this.rows = [];
    this.currentSplit = null;
  }

  setup({ request, before }) {
    this.request = request;
    this.before = before;
    const audio = $("audio");
    $("render-button").addEventListener("click", () => this.render("mp3"));
    $("dl-wav").addEventListener("click", () => this.render("wav"));
    $("dl-fit").addEventListener("click", () => this.render("fit"));
    $("cancel-button").addEventListener("click", () => this.cancel());
    $("play-button").addEventListener("click", () => this.toggle());
    audio.addEventListener("play", () => { $("play-button").textContent = "Pause"; });
    audio.addEventListener("pause", () => { $("play-button").textContent = "Play"; });
    audio.addEventListener("timeupdate", () => this.tick());
    this.mediaSessionActions();
    this.listTracks();
    this.keepAll();
    const pending = stored(PENDING_KEY, null);
    if (pending) this.poll(pending.id, pending.format, pending.plan);  // a reload mid-render picks it up again
  }

  showPlan(plan, name) {
    this.shownPlan = plan;
    this.shownName = name;
    this.fillTable(plan);
    drawPlot(plan);
  }

  fillTable(plan) {
    const body = $("splits").tBodies[0];
    body.replaceChildren();
    this.rows = splitRows(plan);
    const hold = (plan.cues || []).filter((c) => c.kind === "hold").map((c) => c.t_s);
    let rep = null;
    for (const row of this.rows) {
      if (row.rep !== null && row.rep !== rep) {
        rep = row.rep;
        const tr = body.insertRow();
        const th = document.createElement("th");
        th.colSpan = 4;
        th.textContent = `Rep ${rep}`;
        tr.className = "rep";
        tr.append(th);
      }
      const tr = body.insertRow();
      // A split run while holding the rhythm: it starts at or after its own rep's "hold" call.
      const held = hold.some((h) => h >= row.gun - 1e-6 && row.t - row.split.split_s >= h - 1e-6);
      for (const text of [`${row.split.distance_m} m`, row.split.split_s.toFixed(2), row.split.elapsed_s.toFixed(2),
        `${row.split.cadence_spm.toFixed(1)}`]) tr.insertCell().textContent = text;
      if (held) {
        const mark = document.createElement("span");
        mark.className = "hold";
        mark.textContent = " hold";
        tr.cells[3].append(mark);
      }
      tr.tabIndex = 0;
      tr.dataset.t = String(row.t);
      tr.addEventListener("click", () => this.seek(row.t));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") this.seek(row.t); });
    }
  }

  async render(format) {
    // The plan is shown while the track renders: both requests go at once, and the server checks the same settings
    // for each, so a bad field is told once, under the field, by the plan.
    const shown = this.before();
    let state;
    try {
      state = await api("POST", "/api/render", { ...this.request(), format });
    } catch (err) {
      if (await shown) showError(err);
      return;
    }
    if (!(await shown)) return;
    localStorage.setItem(PENDING_KEY, JSON.stringify({ id: state.id, format, plan: this.shownPlan }));
    await this.poll(state.id, format, this.shownPlan);
  }

  async poll(id, format, plan) {
    this.renderId = id;
    $("render-status").hidden = false;
    try {
      for (let i = 0; i < POLL_LIMIT && this.renderId === id; i++) {
        const asked = performance.now();
        const state = await api("GET", `/api/render/${id}?wait=${WAIT_S}`);
        $("render-progress").value = state.progress;
        if (state.status === "done") return this.finished(state, format, plan);
        if (state.status === "failed" || state.status === "cancelled") {
          if (state.error) showError({ message: state.error });
          return;
        }
        const early = WAIT_S * 1000 - (performance.now() - asked);  // never ask faster than once a second
        if (early > 0) await new Promise((r) => setTimeout(r, early));
      }
    } catch (err) {
      if (err.status === 404) localStorage.removeItem(PENDING_KEY);
      else if (navigator.onLine) showError(err);
    } finally {
      if (this.renderId === id) this.endRender();
    }
  }

  endRender() {
    this.renderId = null;
    $("render-status").hidden = true;
    localStorage.removeItem(PENDING_KEY);
  }

  async cancel() {
    const id = this.renderId;
    this.endRender();
    if (id) await api("DELETE", `/api/render/${id}`).catch(() => {});
  }

  finished(state, format, plan) {
    this.endRender();
    if (format !== "mp3") {
      const a = document.createElement("a");
      a.href = `${state.url}?download=1`;
      a.download = "";
      document.body.append(a);
      a.click();
      a.remove();
      return;
    }
    const track = { id: state.id, url: state.url, name: state.name, plan: plan || this.shownPlan,
      gun_offset_s: state.gun_offset_s ?? 0 };
    this.keep(track);
    this.load(track);
  }

  keep(track) {
    const tracks = stored(TRACKS_KEY, []).filter((t) => t.id !== track.id);
    tracks.unshift(track);
    const dropped = tracks.splice(KEEP_TRACKS);
    localStorage.setItem(TRACKS_KEY, JSON.stringify(tracks));
    if ("caches" in window) {
      caches.open(TRACK_CACHE).then(async (cache) => {
        await cache.add(track.url);
        for (const t of dropped) await cache.delete(t.url);
      }).catch(() => {});
    }
    this.listTracks();
  }

  // A reload while a track was being kept would lose it: keep every listed track that is not kept yet.
  async keepAll() {
    if (!("caches" in window) || !navigator.onLine) return;
    try {
      const cache = await caches.open(TRACK_CACHE);
      for (const track of stored(TRACKS_KEY, [])) if (!(await cache.match(track.url))) await cache.add(track.url);
    } catch {
      // a track the server no longer has: it stays listed, and plays while the server keeps it
    }
  }

  listTracks() {
    const list = $("tracks");
    list.replaceChildren();
    for (const track of stored(TRACKS_KEY, [])) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = track.name;
      button.addEventListener("click", () => this.load(track));
      li.append(button);
      list.append(li);
    }
  }

  load(track) {
    this.track = track;
    const audio = $("audio");
    audio.src = track.url;
    audio.load();
    $("play-button").disabled = false;
    $("dl-wav").disabled = $("dl-fit").disabled = false;
    $("dl-mp3").hidden = false;
    $("dl-mp3").href = `${track.url}?download=1`;
    $("title").textContent = track.name;
    this.fillTable(track.plan);
    drawPlot(track.plan);
    this.currentSplit = undefined;
    this.metadata("before the gun");
  }

  async toggle() {
    const audio = $("audio");
    if (!audio.paused) return audio.pause();
    if (navigator.audioSession) navigator.audioSession.type = $("mix") && $("mix").checked ? "transient" : "playback";
    try {
      await audio.play();
    } catch (err) {
      showError({ message: `cannot play the track here: ${err.message}` });
    }
  }

  seek(t) {
    if (!this.track) return;
    $("audio").currentTime = Math.max(0, this.track.gun_offset_s + t);
    this.tick();
  }

  tick() {
    if (!this.track) return;
    const now = $("audio").currentTime - this.track.gun_offset_s;
    $("clock").textContent = fmt(now);
    const next = (this.track.plan.cues || []).find((c) => c.t_s > now + 1e-3);
    $("next-call").textContent = next ? `next: ${next.text} at ${fmt(next.t_s)}` : "";
    const passed = this.rows.filter((r) => r.t <= now + 1e-3).length;
    for (const tr of $("splits").tBodies[0].rows) {
      tr.classList.toggle("current", tr.dataset.t !== undefined && Number(tr.dataset.t) === this.rows[passed]?.t);
    }
    const label = now < 0 ? "before the gun" : passed < this.rows.length ?
      `to ${this.rows[passed].split.distance_m} m` : "finished";
    if (label !== this.currentSplit) this.metadata(label);
  }

  metadata(label) {
    this.currentSplit = label;
    if (!("mediaSession" in navigator) || !this.track) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: this.track.name, artist: "stridebeat", album: label,
      artwork: [{ src: "/static/icon.svg", sizes: "any", type: "image/svg+xml" }],
    });
  }

  mediaSessionActions() {
    if (!("mediaSession" in navigator)) return;
    const audio = $("audio");
    const actions = {
      play: () => audio.play(),
      pause: () => audio.pause(),
      seekto: (d) => { audio.currentTime = d.seekTime; },
      seekbackward: (d) => { audio.currentTime = Math.max(0, audio.currentTime - (d.seekOffset || 10)); },
      seekforward: (d) => { audio.currentTime += d.seekOffset || 10; },
    };
    for (const [name, handler] of Object.entries(actions)) {
      try {
        navigator.mediaSession.setActionHandler(name, handler);
      } catch {
        // an action this browser does not know
      }
    }
  }
}

// Cadence per 100 m, drawn from the plan's own numbers (no plotting library on the page).
function drawPlot(plan) {
  const svg = $("plot");
  svg.replaceChildren();
  const rows = splitRows(plan);
  if (rows.length < 2) return;
  const ns = "http://www.w3.org/2000/svg";
  const cad = rows.map((r) => r.split.cadence_spm);
  const lo = Math.min(...cad) - 2;
  const hi = Math.max(...cad) + 2;
  const x = (i) => 20 + (i * 290) / (rows.length - 1);
  const y = (c) => 105 - ((c - lo) / (hi - lo)) * 90;
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", cad.map((c, i) => `${x(i)},${y(c)}`).join(" "));
  svg.append(line);
  for (const [text, yy] of [[`${hi.toFixed(0)} spm`, 12], [`${lo.toFixed(0)} spm`, 118]]) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", "2");
    t.setAttribute("y", String(yy));
    t.textContent = text;
    svg.append(t);
  }
}

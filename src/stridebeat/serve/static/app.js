// The page: plan from the form, render and play, presets, the metronome. A skin over the JSON API, no rules of its own.
import { $, api, clearErrors, showError } from "./api.js";
import { Metronome, renderOffline } from "./metronome.js";
import { Player } from "./player.js";

window.stridebeatMetronome = { renderOffline };  // the offline render of the scheduler, for tests

const FIELDS = ["time", "distance", "start", "steps_per_100m", "stride"];
const player = new Player();
let planned = null;  // the last plan the server answered: { name, plan, request }

export function currentRequest() {
  const settings = {};
  for (const key of FIELDS) {
    const value = $(key).value.trim();
    if (value !== "") settings[key] = value;
  }
  const preset = $("preset").value;
  return { preset: preset || null, settings };
}

function summary(name, plan, request) {
  if (!plan.splits) return plan.reps ? `${name}: ${plan.reps.length} reps` : name;
  const parts = [`${plan.distance_m} m in ${plan.target_time_s.toFixed(1)} s`];
  const steps = request.settings.steps_per_100m;
  if (steps) parts.push(`${steps} steps/100 m`);
  const hold = plan.cues.find((c) => c.kind === "hold");
  if (hold) {
    const held = plan.splits.find((s) => s.elapsed_s - s.split_s >= hold.t_s - 1e-6);
    if (held) parts.push(`hold ${Math.round(held.cadence_spm)} spm`);
  }
  return parts.join(" · ");
}

async function showPlan(force = false) {
  const request = currentRequest();
  if (!force && planned && JSON.stringify(planned.request) === JSON.stringify(request)) return true;  // shown
  try {
    const answer = await api("POST", "/api/plan", request);
    clearErrors();
    planned = { ...answer, request };
    $("title").textContent = answer.name;
    $("summary").textContent = summary(answer.name, answer.plan, request);
    player.showPlan(answer.plan, answer.name);
    return true;
  } catch (err) {
    showError(err);
    return false;
  }
}

async function loadPresets() {
  const select = $("preset");
  const list = await api("GET", "/api/presets");
  const mine = $("my-presets");
  mine.replaceChildren();
  for (const p of list.filter((p) => p.kind !== "broken")) {
    const option = new Option(`${p.name}${p.kind === "session" ? " (session)" : ""}`, p.name);
    option.title = p.description;
    select.add(option);
    if (!p.builtin) mine.append(presetItem(p));
  }
  const strides = await api("GET", "/api/strides");
  for (const name of strides.profiles) $("stride").add(new Option(name, name));
  $("stride-row").hidden = strides.profiles.length === 0;
}

function presetItem(p) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = p.name;
  const del = document.createElement("button");
  del.type = "button";
  del.textContent = "Delete";
  del.setAttribute("aria-label", `Delete ${p.name}`);
  del.addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/presets/${encodeURIComponent(p.name)}`);
      li.remove();
      for (const o of [...$("preset").options]) if (o.value === p.name) o.remove();
    } catch (err) {
      showError(err, "err-name");
    }
  });
  li.append(label, del);
  return li;
}

async function pickPreset() {
  const name = $("preset").value;
  for (const key of FIELDS) $(key).value = "";
  if (name) {
    try {
      const preset = await api("GET", `/api/presets/${encodeURIComponent(name)}`);
      for (const key of FIELDS) if (preset.values[key] != null) $(key).value = String(preset.values[key]);
    } catch (err) {
      showError(err);
      return;
    }
  }
  await showPlan(true);
}

async function savePreset() {
  const name = $("preset-name").value.trim();
  const request = currentRequest();
  try {
    const description = planned ? $("summary").textContent : "";
    await api("POST", "/api/presets", { name, ...request, description });
    clearErrors();
    $("save-status").textContent = `Saved ${name}.`;
    $("preset").add(new Option(name, name));
    $("my-presets").append(presetItem({ name }));
  } catch (err) {
    $("save-status").textContent = "";
    showError(err, "err-name");
  }
}

function setupMetronome() {
  const metronome = new Metronome();
  const cadence = () => Number($("cadence").value);
  const nudge = (delta) => {
    $("cadence").value = String(Math.min(400, Math.max(60, cadence() + delta)));
    metronome.setCadence(cadence());
  };
  $("cadence-down").addEventListener("click", () => nudge(-1));
  $("cadence-up").addEventListener("click", () => nudge(+1));
  $("cadence").addEventListener("change", () => metronome.setCadence(cadence()));
  $("metro-button").addEventListener("click", async () => {
    if (metronome.running) {
      metronome.stop();
      $("metro-button").textContent = "Start metronome";
      return;
    }
    const countIn = Math.max(0, Math.min(16, Math.round(Number($("count-in").value) || 0)));
    await metronome.start({ cadence: cadence(), countIn, every: $("every").value });
    $("metro-button").textContent = "Stop metronome";
  });
}

function setupNotices() {
  const lan = !["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  if (!window.isSecureContext && lan) {
    $("notice").hidden = false;
    $("notice").textContent = "This address is plain HTTP on your network, so the page cannot keep tracks for use " +
      "without a network, nor show the lock screen controls. Render, then save the “MP3 with chapters” into " +
      "your phone's music player: it plays with the screen locked and offline. (stridebeat serve --tls lifts this.)";
  }
  $("mix-row").hidden = !navigator.audioSession;
  const offline = () => { $("offline").hidden = navigator.onLine; };
  addEventListener("online", offline);
  addEventListener("offline", offline);
  offline();
}

async function main() {
  setupNotices();
  setupMetronome();
  player.setup({ request: () => currentRequest(), before: () => showPlan(false) });
  $("plan-form").addEventListener("submit", (e) => { e.preventDefault(); showPlan(true); });
  $("preset").addEventListener("change", pickPreset);
  $("save-button").addEventListener("click", savePreset);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  document.body.dataset.ready = String(performance.now());  // the controls work from here (bench_serve.py)
  try {
    await loadPresets();
  } catch (err) {
    if (navigator.onLine) showError(err);
  }
  document.body.dataset.presets = "1";
}

main();

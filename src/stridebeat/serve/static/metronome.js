// The browser metronome: clicks scheduled ahead on the audio clock ("A Tale of Two Clocks", cwilso/metronome).
// A timer only wakes the scheduler; every click's time is computed from the start of its tempo segment
// (segment start + beats since × interval), never by adding intervals, so no rounding error builds up.

const LOOK_AHEAD_S = 0.12;   // how far ahead clicks are handed to the audio clock
const WAKE_MS = 25;          // how often the timer wakes the scheduler
export const MIN_CADENCE = 60;
export const MAX_CADENCE = 400;

function clickBuffer(ctx, freq) {
  // A short decaying tone that starts at full level on its first sample: a sharp, findable onset.
  const n = Math.round(ctx.sampleRate * 0.03);
  const buf = ctx.createBuffer(1, n, ctx.sampleRate);
  const data = buf.getChannelData(0);
  for (let i = 0; i < n; i++) {
    const t = i / ctx.sampleRate;
    data[i] = 0.8 * Math.cos(2 * Math.PI * freq * t) * Math.exp(-t / 0.006);
  }
  return buf;
}

export class Scheduler {
  // cadence: steps per minute; countIn: clicks of a higher pitch first; every: "step" or "stride" (every other step).
  constructor(ctx, { cadence, countIn = 0, every = "step", startAt }) {
    this.ctx = ctx;
    this.every = every;
    this.countIn = countIn;
    this.click = clickBuffer(ctx, 1000);
    this.count = clickBuffer(ctx, 1600);
    this.segStart = startAt ?? ctx.currentTime + 0.1;
    this.segIndex = 0;
    this.next = 0;
    this.cadence = clamp(cadence);
    this.times = [];  // every click handed to the audio clock (for tests and the page's display)
  }

  get interval() {
    return (60 / this.cadence) * (this.every === "stride" ? 2 : 1);
  }

  timeOf(index) {
    return this.segStart + (index - this.segIndex) * this.interval;
  }

  // A new cadence takes effect from the next click not yet scheduled: that click starts a new segment.
  setCadence(cadence) {
    const start = this.timeOf(this.next);
    this.segStart = start;
    this.segIndex = this.next;
    this.cadence = clamp(cadence);
  }

  scheduleUntil(until) {
    for (let t = this.timeOf(this.next); t < until; t = this.timeOf(this.next)) {
      const src = this.ctx.createBufferSource();
      src.buffer = this.next < this.countIn ? this.count : this.click;
      src.connect(this.ctx.destination);
      src.start(t);
      this.times.push(t);
      this.next += 1;
    }
  }
}

function clamp(cadence) {
  const c = Math.round(Number(cadence));
  return Math.min(MAX_CADENCE, Math.max(MIN_CADENCE, Number.isFinite(c) ? c : 180));
}

// The live metronome: one AudioContext, a timer that wakes the scheduler, nothing else.
export class Metronome {
  constructor() {
    this.ctx = null;
    this.scheduler = null;
    this.timer = null;
  }

  get running() {
    return this.timer !== null;
  }

  async start(options) {
    if (navigator.audioSession) navigator.audioSession.type = "ambient";  // mix with the runner's music
    this.ctx = this.ctx || new AudioContext({ latencyHint: "interactive" });
    await this.ctx.resume();
    this.scheduler = new Scheduler(this.ctx, options);
    const wake = () => this.scheduler.scheduleUntil(this.ctx.currentTime + LOOK_AHEAD_S);
    wake();
    this.timer = setInterval(wake, WAKE_MS);
  }

  setCadence(cadence) {
    if (this.scheduler) this.scheduler.setCadence(cadence);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.scheduler = null;
    if (this.ctx) this.ctx.suspend();
  }
}

// The same scheduler rendered through an OfflineAudioContext: the samples a listener would hear, for tests.
// changes: [{ afterClicks, cadence }] applied once that many clicks are scheduled, as a tap on ± would be.
export async function renderOffline({ cadence, countIn = 0, every = "step", seconds, sampleRate = 48000,
                                      startAt = 0.1, changes = [] }) {
  const ctx = new OfflineAudioContext(1, Math.round(seconds * sampleRate), sampleRate);
  const scheduler = new Scheduler(ctx, { cadence, countIn, every, startAt });
  for (const change of [...changes].sort((a, b) => a.afterClicks - b.afterClicks)) {
    while (scheduler.next < change.afterClicks && scheduler.timeOf(scheduler.next) < seconds) {
      scheduler.scheduleUntil(scheduler.timeOf(scheduler.next) + 1e-9);
    }
    scheduler.setCadence(change.cadence);
  }
  scheduler.scheduleUntil(seconds);
  const rendered = await ctx.startRendering();
  return { samples: rendered.getChannelData(0), times: scheduler.times, sampleRate };
}

// The service worker: the page's files and the rendered tracks kept on the phone, so a page loaded at home plays at
// the track without a network. The page's files: network first (an update arrives), the cache when offline.
// Tracks: the cache first (a track's id names its bytes, it never changes), with byte ranges for the <audio> element.

const PAGE_CACHE = "stridebeat-page-v1";
const TRACK_CACHE = "stridebeat-tracks";
const PAGE_FILES = ["/", "/static/app.css", "/static/app.js", "/static/api.js", "/static/player.js",
  "/static/metronome.js", "/static/manifest.webmanifest", "/static/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(PAGE_CACHE).then((cache) => cache.addAll(PAGE_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin || event.request.method !== "GET") return;
  if (url.pathname.startsWith("/tracks/")) {
    event.respondWith(track(event.request, url));
  } else if (url.pathname === "/" || url.pathname.startsWith("/static/")) {
    event.respondWith(page(event.request, url));
  }
});

async function page(request, url) {
  const cache = await caches.open(PAGE_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(url.pathname, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(url.pathname);
    if (cached) return cached;
    throw err;
  }
}

async function track(request, url) {
  const cache = await caches.open(TRACK_CACHE);
  const cached = await cache.match(url.pathname);
  if (!cached) return fetch(request);
  const range = request.headers.get("range");
  if (!range) return cached;
  // The <audio> element asks for byte ranges; answer them from the whole cached file.
  const body = await cached.arrayBuffer();
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = m && m[1] !== "" ? Number(m[1]) : 0;
  let end = m && m[2] !== "" ? Math.min(Number(m[2]), body.byteLength - 1) : body.byteLength - 1;
  if (m && m[1] === "" && m[2] !== "") {
    start = Math.max(0, body.byteLength - Number(m[2]));
    end = body.byteLength - 1;
  }
  if (!m || start > end || start >= body.byteLength) {
    return new Response(null, { status: 416, headers: { "content-range": `bytes */${body.byteLength}` } });
  }
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: {
      "content-type": cached.headers.get("content-type") || "audio/mpeg",
      "content-range": `bytes ${start}-${end}/${body.byteLength}`,
      "content-length": String(end - start + 1),
      "accept-ranges": "bytes",
    },
  });
}

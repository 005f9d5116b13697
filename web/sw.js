// Offline support and updates. On install the worker caches every file of the site
// (listed in precache.json by the build) under a cache named for this build, then answers
// same-origin GETs from that cache. API calls (/api/) always go to the network: usage
// events are queued by the engine itself when offline.
//
// BUILD is a hash of every file of the site, written by build_scripts/build_site.py: any
// changed file changes these bytes, which is how the browser notices a new version (it
// compares the script byte for byte). A new version installs in the background and then
// waits, so a page never runs with half old, half new files; register-sw.mjs offers
// "Reload to update", which tells it to take over (message "skip-waiting").
const BUILD = "dev";
const CACHE = `pywebcodecs-${BUILD}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const response = await fetch(`./precache.json?build=${BUILD}`, { cache: "no-store" });
    const { files } = await response.json();
    const cache = await caches.open(CACHE);
    // "reload": straight from the server, never a stale copy from the HTTP cache.
    await cache.addAll(["./", ...files].map((url) => new Request(url, { cache: "reload" })));
    // The first version has no page to disturb: it takes over at once, so the page that
    // installed it works offline from now on.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE && key.startsWith("pywebcodecs-")) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/__files/")) return;
  if (event.request.headers.has("Range")) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(event.request, { ignoreSearch: true });
    return cached || fetch(event.request);
  })());
});

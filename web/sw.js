// Offline support: caches every file of the site (listed in precache.json by the build)
// on install, then answers same-origin GETs from the cache first. API calls (/api/) always
// go to the network: usage events are queued by the engine itself when offline.
const MANIFEST = "./precache.json";

async function cacheName() {
  const response = await fetch(MANIFEST, { cache: "no-store" });
  const manifest = await response.json();
  return { name: `pywebcodecs-${manifest.version}`, files: manifest.files };
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const { name, files } = await cacheName();
    const cache = await caches.open(name);
    await cache.addAll(["./", ...files]);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const { name } = await cacheName().catch(() => ({ name: null }));
    for (const key of await caches.keys()) {
      if (name && key !== name && key.startsWith("pywebcodecs-")) await caches.delete(key);
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
    const cached = await caches.match(event.request, { ignoreSearch: true });
    return cached || fetch(event.request);
  })());
});

// Runs Remotion's own, unmodified usage client (@remotion/licensing, installed under an
// npm alias) against a usage service on loopback.
//
//   node remotion_licensing_client.mjs PACKAGE SERVICE_URL CALLS_JSON
//
// The client posts to its built-in host (https://www.remotion.pro); the only change is
// that globalThis.fetch sends those requests to SERVICE_URL instead. CALLS_JSON is a list
// of {call: "registerUsageEvent" | "getUsage", options}; a getUsage `since` given as
// {daysAgo: N} becomes Date.now() - N days, as a site computes it. Prints one JSON result
// per call, in order: {ok: value} or {error: message}.
const [packageName, serviceUrl, callsJson] = process.argv.slice(2);
const REMOTION_HOST = "https://www.remotion.pro";

const realFetch = globalThis.fetch;
globalThis.fetch = (url, init) => realFetch(String(url).replace(REMOTION_HOST, serviceUrl), init);

const client = await import(packageName);
const results = [];
for (const { call, options } of JSON.parse(callsJson)) {
  if (options.since && typeof options.since === "object") {
    options.since = Date.now() - options.since.daysAgo * 86_400_000;
  }
  try {
    results.push({ ok: (await client[call](options)) ?? null });
  } catch (error) {
    results.push({ error: String(error.message) });
  }
}
console.log(JSON.stringify(results));

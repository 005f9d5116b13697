// Installs the service worker that makes the site work offline (installed PWA), and offers
// new versions. A new build changes sw.js (it carries the build's hash); the browser
// fetches it in the background (on each visit, and here every hour while the page stays
// open), installs it beside the running version and leaves it waiting. Then:
//
// - `window` gets a cancelable `pwc-update-available` event whose `detail.applyUpdate()`
//   switches to the new version and reloads the page;
// - unless a listener called `preventDefault()` (to show its own prompt), a small banner
//   appears at the bottom of the page: "A new version is available. [Reload to update]
//   [Later]". It is a `role="status"` region, so screen readers announce it without
//   moving the focus away from what the user is doing.
//
// A page does not need to do anything: including this module is enough.
const UPDATE_EVENT = "pwc-update-available";
const CHECK_EVERY_MS = 60 * 60 * 1000;

let waiting = null;
let reloading = false;
const banner = document.createElement("div");
banner.id = "pwc-update";
banner.setAttribute("role", "status");
document.body.append(banner);

/** Switch to the waiting version; the page reloads when it has taken over. */
export function applyUpdate() {
  waiting?.postMessage({ type: "skip-waiting" });
}

function offer(worker) {
  waiting = worker;
  const event = new CustomEvent(UPDATE_EVENT, { cancelable: true, detail: { applyUpdate } });
  if (window.dispatchEvent(event)) showBanner();
}

function showBanner() {
  const text = document.createElement("span");
  text.textContent = "A new version is available.";
  const reload = document.createElement("button");
  reload.type = "button";
  reload.textContent = "Reload to update";
  reload.addEventListener("click", applyUpdate);
  const later = document.createElement("button");
  later.type = "button";
  later.textContent = "Later";
  later.addEventListener("click", () => {
    banner.replaceChildren();
    banner.style.cssText = "";
  });
  banner.style.cssText = [
    "position: fixed", "z-index: 1000", "bottom: 1rem", "left: 1rem", "right: 1rem",
    "margin: 0 auto", "max-width: 32rem", "display: flex", "flex-wrap: wrap",
    "align-items: center", "gap: .5rem 1rem", "padding: .75rem 1rem",
    "border-radius: .5rem", "background: #1f4e79", "color: #fff",
    "font: inherit", "box-shadow: 0 2px 8px rgb(0 0 0 / .3)",
  ].join(";");
  banner.replaceChildren(text, reload, later);
}

function watch(registration) {
  // A version that finished installing while no page was looking.
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      // With no controller this is the first install, which takes over by itself.
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  setInterval(() => registration.update().catch(() => {}), CHECK_EVERY_MS);
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only a version the user asked for reloads the page (not the first install).
    if (waiting && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  navigator.serviceWorker.register("./sw.js").then(watch).catch((error) => {
    console.warn("pywebcodecs: offline support unavailable:", error);
  });
}

// Installs the service worker that makes the site work offline (installed PWA).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("./sw.js").catch((error) => {
    console.warn("pywebcodecs: offline support unavailable:", error);
  });
}

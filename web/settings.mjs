// The site owner's public usage key, set in the page instead of in its HTML.
//
// Someone who copies static/ to their own host gets one usage key per site (`pub_…`, from
// `pywebcodecs keys create`). Rather than editing `<body data-api-key="…">`, they open the
// page's settings panel and paste it; it is kept in this browser's localStorage. The key
// is public by design (every page sends it); a secret key (`sec_…`) is refused, because
// whatever a page holds, its visitors can read.
//
//   import { mountSettings, getApiKey } from "./settings.mjs";
//   mountSettings(document.querySelector("#owner-settings"));  // draws the panel in it
//   convert({ ..., apiKey: getApiKey() });                      // at each conversion
//
// `getApiKey()` is the stored key, else the page's `data-api-key`, else null. Saving or
// clearing dispatches `pwc-api-key-change` on window (detail: {apiKey}).
const STORAGE_KEY = "pywebcodecs-api-key";
const KEY_SHAPE = /^pub_[A-Za-z0-9_-]{16,64}$/;
let panels = 0;

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;  // storage blocked (some private modes): fall back to the page's key
  }
}

/** The usage key for this page's conversions, or null for none. */
export function getApiKey() {
  return stored() || document.body.dataset.apiKey || null;
}

/** Why `text` cannot be saved as a key, or null if it can. */
export function keyProblem(text) {
  if (text.startsWith("sec_")) {
    return "That is a secret key: keep it out of pages. Paste the public key (pub_…).";
  }
  if (!KEY_SHAPE.test(text)) {
    return "A public key is pub_ followed by 16 to 64 letters, digits, _ or -.";
  }
  return null;
}

function announce(apiKey) {
  window.dispatchEvent(new CustomEvent("pwc-api-key-change", { detail: { apiKey } }));
}

/** Draw the settings panel (a closed <details>) into `container`. */
export function mountSettings(container) {
  const id = `pwc-key-${++panels}`;
  const details = document.createElement("details");
  details.className = "pwc-settings";
  const summary = document.createElement("summary");
  summary.textContent = "Site owner: usage key";
  const form = document.createElement("form");
  form.noValidate = true;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = "Public usage key";
  const input = document.createElement("input");
  Object.assign(input, { id, type: "text", size: 30, spellcheck: false, autocomplete: "off" });
  input.placeholder = "pub_…";
  input.style.maxWidth = "100%";
  input.setAttribute("aria-describedby", `${id}-status`);
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save key";
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "Remove key";
  const status = document.createElement("p");
  status.id = `${id}-status`;
  status.setAttribute("role", "status");

  const describe = () => {
    const saved = stored();
    input.value = saved || "";
    clear.hidden = !saved;
    status.textContent = saved
      ? "Conversions in this browser are counted under this key."
      : document.body.dataset.apiKey
        ? "Using the key set in this page's HTML."
        : "No key: conversions are counted without one.";
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const problem = keyProblem(text);
    input.setAttribute("aria-invalid", String(problem !== null));
    if (problem) {
      status.textContent = problem;
      input.focus();
      return;
    }
    localStorage.setItem(STORAGE_KEY, text);
    describe();
    status.textContent = "Saved. " + status.textContent;
    announce(text);
  });
  clear.addEventListener("click", () => {
    localStorage.removeItem(STORAGE_KEY);
    input.removeAttribute("aria-invalid");
    describe();
    announce(getApiKey());
    input.focus();
  });

  form.append(label, " ", input, " ", save, " ", clear, status);
  details.append(summary, form);
  container.append(details);
  describe();
  return details;
}

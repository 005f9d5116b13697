// The converter page: plain JS for the interface, the Python engine in a Worker
// (engine-client.mjs), so nothing heavy ever runs on the page's own thread.
//
// One file and one conversion at a time, as a state machine: idle → inspecting → ready →
// converting → done | failed | cancelled. Entering a state shows exactly the panels that
// state lists and clears what earlier states left (result, error, progress), so a stale
// result never sits under a new conversion, a cancel or an error. Each file opened gets a
// new token; an answer for an older token is ignored, so a late answer cannot show the
// previous file's output.
import { EngineClient } from "./engine-client.mjs";
import { getApiKey, mountSettings } from "./settings.mjs";
import {
  automaticSummary, downloadName, droppedTrackWarnings, duration, explainFailure,
  explainWarning, fileSummary, megabytes, outcomeWords, progressWords, trackChoices, trackRows,
} from "./describe.mjs";

const $ = (id) => document.getElementById(id);
const engine = new EngineClient();

// Panels shown in each state; every other panel is hidden.
const PANELS = {
  idle: [],
  inspecting: ["info"],
  ready: ["info", "options"],
  converting: ["info", "options", "progress-box"],
  done: ["info", "options", "progress-box", "result"],
  failed: ["info", "options", "failure"],
  cancelled: ["info", "options"],
};
const ALL_PANELS = ["info", "options", "progress-box", "failure", "result"];

const page = {
  state: "idle", token: 0, batch: 0, file: null, name: "", info: null, job: null, resultUrl: null,
  outputId: null,  // the conversion whose result is shown
  kept: new Set(),  // conversions a batch line still offers for download
};

function enter(state) {
  page.state = state;
  document.body.dataset.state = state;
  const shown = new Set(PANELS[state]);
  if (!page.info) shown.delete("options");
  for (const id of ALL_PANELS) $(id).hidden = !shown.has(id);
  const converting = state === "converting";
  $("settings").disabled = converting;
  $("convert").disabled = converting || !page.info;
  $("cancel").hidden = !converting;
  if (state !== "done") clearResult();
  if (state !== "failed") $("failure-body").replaceChildren();
  if (!["converting", "done"].includes(state)) {
    $("progress").value = 0;
    $("progress-detail").textContent = "";
  }
  const words = { done: "Done.", cancelled: "Cancelled.", failed: page.info ? "The conversion failed." : "" };
  setStatus(words[state] ?? "", state === "failed");
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function clearResult() {
  if (page.resultUrl) URL.revokeObjectURL(page.resultUrl);
  page.resultUrl = null;
  // A large input's output is a file on disk (OPFS): it goes with the result that showed
  // it, unless a batch line still offers it.
  if (page.outputId !== null && !page.kept.has(page.outputId)) engine.remove(page.outputId);
  page.outputId = null;
  $("preview").removeAttribute("src");
  $("preview").load();
  $("download").removeAttribute("href");
  for (const id of ["result-size"]) $(id).textContent = "";
  for (const id of ["warning-list", "result-tracks"]) $(id).replaceChildren();
  $("result-warnings").hidden = true;
}

// At once rather than smoothly: a smooth scroll is cut short by a dialog or the next
// scroll, and the point is that the progress and the result are seen.
function bringIntoView(id) {
  $(id).scrollIntoView({ block: "nearest", behavior: "instant" });
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// Plain words, and the engine's own message one click away.
function explained(plain, technical, className = "error") {
  const details = element("details");
  details.append(element("summary", "Technical details"), element("pre", technical));
  const box = element("div", undefined, "explained");
  box.append(element("p", plain, className), details);
  return box;
}

// ---------------------------------------------------------------- the engine starting

async function startEngine() {
  const started = performance.now();
  const steps = $("engine-steps");
  const answer = await engine.start((step) => {
    steps.lastElementChild?.classList.add("finished");
    steps.append(element("li", `${step}…`));
  });
  steps.lastElementChild?.classList.add("finished");
  if (answer.ok) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    $("engine-status").textContent = `Engine ready (started in ${seconds} s).`;
    steps.hidden = true;
    document.body.dataset.engine = "ready";
  } else {
    document.body.dataset.engine = "failed";
    $("engine-status").replaceChildren(explained(
      "The converter could not start. Check the connection and reload the page.",
      `${answer.errorName}: ${answer.error}`));
  }
}

// ---------------------------------------------------------------- opening a file

// What the person chose: [[file or URL, name], ...]. A running conversion is stopped
// only if they say so; a batch in progress stops at once (its next file is not opened).
async function choose(entries) {
  if (!entries.length) return;
  if (page.state === "converting") {
    const what = entries.length === 1 ? `“${entries[0][1]}”` : `these ${entries.length} files`;
    if (!confirm(`A conversion is running. Stop it and open ${what} instead?`)) {
      $("file-input").value = "";  // it no longer shows a file the page is not working on
      return;
    }
    const job = page.job;
    page.token += 1;  // the running conversion's answer is not shown
    engine.cancel(job.id);
    await job.done;
  }
  const batch = ++page.batch;
  $("batch").hidden = entries.length === 1;
  if (entries.length === 1) await open(...entries[0]);
  else await convertAll(entries, batch);
}

async function open(file, name) {
  const token = ++page.token;
  Object.assign(page, { file, name, info: null, job: null });
  enter("inspecting");
  const waiting = document.body.dataset.engine === "ready" ? "" : " The engine is still starting: it will read the file as soon as it is ready.";
  $("info-body").replaceChildren(element("p", `Reading “${name}”…${waiting}`));
  drawPoster(file, token);
  const answer = await engine.inspect(file);
  if (token !== page.token) return;
  if (!answer.ok) {
    const { plain, technical } = explainFailure(answer, name);
    $("info-body").replaceChildren(explained(plain, technical));
    enter("failed");
    return;
  }
  page.info = answer.info;
  showInfo(answer.info, name);
  enter("ready");
}

function showInfo(info, name) {
  const table = element("table");
  const head = element("tr");
  for (const title of ["Track", "Codec", "Details"]) head.append(element("th", title));
  table.append(head);
  for (const cells of trackRows(info)) {
    const row = element("tr");
    for (const cell of cells) row.append(element("td", cell));
    table.append(row);
  }
  const body = [element("p", name, "file-name"), element("p", fileSummary(info), "muted"), table];
  for (const warning of info.warnings) body.push(explained(explainWarning(warning), warning, "warning-text"));
  const tags = Object.entries(info.tags);
  if (tags.length) {
    const details = element("details", undefined, "muted small");
    details.append(element("summary", `Tags (${tags.length})`));
    for (const [key, value] of tags) details.append(element("p", `${key}: ${value}`));
    body.push(details);
  }
  $("info-body").replaceChildren(...body);
  renderChoices();
}

function drawPoster(file, token) {
  const canvas = $("poster");
  canvas.hidden = true;
  if (!(file instanceof Blob)) return;
  const url = URL.createObjectURL(file);
  const video = element("video");
  video.muted = true;
  video.preload = "auto";
  const finish = () => {
    URL.revokeObjectURL(url);
    video.removeAttribute("src");
  };
  video.addEventListener("loadeddata", () => {
    if (token === page.token && video.videoWidth) {
      const scale = Math.min(1, 320 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.hidden = false;
    }
    finish();
  }, { once: true });
  video.addEventListener("error", finish, { once: true });
  video.src = url;
}

// ---------------------------------------------------------------- output choices

const CROP_FIELDS = ["crop-left", "crop-top", "crop-width", "crop-height"];

function transformed() {
  const fields = ["resize-width", "resize-height", ...CROP_FIELDS];
  return $("rotate").value !== "0" || fields.some((id) => $(id).value !== "");
}

// What is wrong with the crop, in plain words, or null: the four numbers go together and
// must stay inside the picture (the engine would refuse it too, less kindly).
function cropProblem() {
  const values = CROP_FIELDS.map((id) => $(id).value);
  if (values.every((value) => value === "")) return null;
  if (values.some((value) => value === "")) {
    return "To crop, fill in all four numbers (from left, from top, width and height), or clear them all.";
  }
  const [left, top, width, height] = values.map(Number);
  if (![left, top, width, height].every(Number.isInteger) || left < 0 || top < 0) {
    return "Crop with whole numbers of pixels; from left and from top start at 0.";
  }
  if (width < 2 || height < 2) return "The cropped picture must be at least 2 pixels wide and 2 high.";
  const video = page.info?.tracks.find((track) => track.kind === "video");
  if (video && (left + width > video.width || top + height > video.height)) {
    return `The crop goes past the edge of the picture, which is ${video.width}×${video.height} pixels: ` +
      `from left + width can be at most ${video.width}, from top + height at most ${video.height}.`;
  }
  return null;
}

function showCropProblem() {
  const problem = cropProblem();
  $("crop-error").textContent = problem ?? "";
  $("crop-error").hidden = !problem;
  for (const id of CROP_FIELDS) $(id).setAttribute("aria-invalid", String(Boolean(problem)));
  return problem;
}

function renderChoices() {
  const info = page.info;
  if (!info) return;
  const container = $("container").value;
  const rows = info.tracks.map((track) => {
    const id = `track-${track.id}`;
    const before = $(id)?.value ?? "";
    const select = element("select");
    select.id = id;
    select.dataset.trackId = track.id;
    for (const [value, label, disabled] of trackChoices(track, container, info, transformed())) {
      const option = element("option", label);
      option.value = value;
      option.disabled = Boolean(disabled);
      select.append(option);
    }
    const keep = [...select.options].find((o) => o.value === before && !o.disabled);
    select.value = keep ? before : "";
    const label = element("label", `Track ${track.id}: ${track.kind} (${track.codec})`);
    label.htmlFor = id;
    const row = element("p", undefined, "row");
    row.append(label, select);
    return row;
  });
  $("track-rows").replaceChildren(...rows);
  $("automatic-summary").textContent = automaticSummary(info, container, transformed());
}

function chosenOptions() {
  const trackChoicesById = {};
  for (const select of $("track-rows").querySelectorAll("select")) {
    if (select.value) trackChoicesById[select.dataset.trackId] = select.value;
  }
  // A field left empty is left out (null): the engine's default.
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  const pair = (a, b) => (number(a) === null && number(b) === null ? null : [number(a), number(b)]);
  return {
    container: $("container").value,
    rotate: Number($("rotate").value),
    resize: pair("resize-width", "resize-height"),
    trim: pair("trim-start", "trim-end"),
    crop: CROP_FIELDS.every((id) => $(id).value === "") ? null : CROP_FIELDS.map(number),
    quality: $("quality").value,
    channels: number("channels"),
    trackChoices: trackChoicesById,
    apiKey: getApiKey(),
  };
}

// ---------------------------------------------------------------- converting

async function convert() {
  if (!page.info || page.state === "converting") return;
  const cropError = showCropProblem();
  if (cropError) {
    $(CROP_FIELDS.find((id) => $(id).value === "") ?? "crop-left").focus();
    return { ok: false, errorName: "OptionError", error: cropError };  // a batch says so
  }
  const token = page.token;
  const options = chosenOptions();
  enter("converting");
  setStatus(`Converting “${page.name}”…`);
  $("status").focus({ preventScroll: true });
  bringIntoView("status");  // the last line under the progress bar
  page.job = engine.convert(page.file, options, (progress) => {
    if (token !== page.token) return;
    $("progress").value = progress.fraction;
    $("progress-detail").textContent = progressWords(progress);
  });
  const answer = await page.job.done;
  if (token !== page.token) return null;
  page.job = null;
  if (answer.ok) {
    showResult(answer, options.container);
    enter("done");
    $("result-heading").focus({ preventScroll: true });
    bringIntoView("result");
  } else if (answer.errorName === "ConversionAborted") {
    enter("cancelled");
  } else {
    enter("failed");
    const { plain, technical } = explainFailure(answer, page.name);
    $("failure-body").replaceChildren(explained(plain, technical));
    $("failure-heading").focus({ preventScroll: true });
    bringIntoView("failure");
  }
  return answer;
}

// ---------------------------------------------------------------- batch

// Several files: each is opened and converted in turn with the format and picture
// settings chosen (its tracks automatic), and gets its own line with its download.
async function convertAll(entries, batch) {
  const items = entries.map(([, name]) => {
    const item = element("li");
    item.append(element("span", name, "file-name"), " ", element("span", "waiting", "muted"));
    return item;
  });
  $("batch-list").replaceChildren(...items);
  $("batch-status").textContent = "";
  for (const [index, [file, name]] of entries.entries()) {
    if (batch !== page.batch) return;
    const state = items[index].lastChild;
    state.textContent = "converting…";
    await open(file, name);
    if (batch !== page.batch) return;
    const answer = page.state === "ready" ? await convert() : null;
    if (batch !== page.batch) return;
    if (answer?.ok) {
      const link = element("a", `Download ${downloadName(name, $("container").value)}`);
      link.href = URL.createObjectURL(answer.blob);  // kept while the page lives
      link.download = downloadName(name, $("container").value);
      page.kept.add(answer.id);
      const warned = answer.warnings.length + droppedTrackWarnings(answer.tracks).length;
      state.replaceChildren(link, warned ? ` (${warned} warning${warned > 1 ? "s" : ""})` : "");
      state.className = "";
    } else {
      state.textContent = answer ? "failed (see below)" : "cannot be read";
      state.className = "error";
    }
  }
  $("batch-status").textContent = `All ${entries.length} files done.`;
}

function showResult(answer, container) {
  clearResult();
  page.outputId = answer.id;
  page.resultUrl = URL.createObjectURL(answer.blob);
  const name = downloadName(page.name, container);
  const link = $("download");
  link.href = page.resultUrl;
  link.download = name;
  link.textContent = `Download ${name}`;
  $("preview").src = page.resultUrl;
  const s = answer.summary;
  $("progress").value = 1;
  $("progress-detail").textContent = progressWords(s);
  $("result-size").textContent = `${megabytes(answer.blob.size)} · ${duration(s.output_seconds)} · converted in ${duration(s.elapsed_ms / 1000)}`;
  $("result-tracks").replaceChildren(...answer.tracks.map((t) => element("li", outcomeWords(t))));
  const warnings = [
    ...answer.warnings.map((text) => ({ plain: explainWarning(text), technical: text })),
    ...droppedTrackWarnings(answer.tracks),
  ];
  $("warning-list").replaceChildren(...warnings.map(({ plain, technical }) => {
    const item = element("li");
    item.append(explained(plain, technical, "warning-text"));
    return item;
  }));
  $("result-warnings").hidden = warnings.length === 0;
}

// ---------------------------------------------------------------- wiring

function nameOf(url) {
  try {
    return decodeURIComponent(new URL(url, location.href).pathname.split("/").pop()) || url;
  } catch {
    return url;
  }
}

function wire() {
  const input = $("file-input");
  // Cleared before the picker opens, so choosing the same file again is a change too.
  input.addEventListener("click", () => { input.value = ""; });
  const named = (files) => [...files].map((file) => [file, file.name]);
  input.addEventListener("change", () => choose(named(input.files)));
  $("url-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const url = $("url-input").value.trim();
    if (url) choose([[url, nameOf(url)]]);
  });
  $("convert").addEventListener("click", convert);
  $("cancel").addEventListener("click", () => page.job && engine.cancel(page.job.id));
  for (const id of ["container", "rotate", "resize-width", "resize-height", ...CROP_FIELDS]) {
    $(id).addEventListener("change", renderChoices);
  }
  // Told on Convert; once told, each change says whether it is right now.
  for (const id of CROP_FIELDS) {
    $(id).addEventListener("change", () => $("crop-error").hidden || showCropProblem());
  }
  // The whole window takes drops: a file dropped anywhere opens here instead of
  // navigating the tab to it.
  const overlay = $("drop-overlay");
  const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
  for (const name of ["dragenter", "dragover"]) {
    window.addEventListener(name, (event) => {
      event.preventDefault();
      if (carriesFiles(event)) overlay.hidden = false;
    });
  }
  window.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) overlay.hidden = true;
  });
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    overlay.hidden = true;
    choose(named(event.dataTransfer?.files ?? []));
  });
  // Leaving: the outputs on disk are asked to go (the worker may be stopped first; a
  // file left behind is one the browser's storage counts until the site data is cleared).
  window.addEventListener("pagehide", () => {
    for (const id of new Set([page.outputId, ...page.kept])) if (id !== null) engine.remove(id);
  });
  window.addEventListener("paste", (event) => {
    const files = event.clipboardData?.files ?? [];
    if (files.length) {
      event.preventDefault();
      choose(named(files));
    }
  });
}

wire();
mountSettings($("owner-settings"));
enter("idle");
startEngine();

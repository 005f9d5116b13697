// Words for the page: what a file holds, what each track can become, and what went wrong,
// said for the person converting rather than for a developer. The engine's own message is
// kept one click away (a <details>), because it names the byte, track and codec a bug
// report needs.

const CODEC_NAMES = {
  vp8: "VP8", vp9: "VP9", av1: "AV1", h264: "H.264", hevc: "H.265 (HEVC)",
  opus: "Opus", aac: "AAC", flac: "FLAC", mp3: "MP3", vorbis: "Vorbis",
  pcm_u8: "PCM 8-bit", pcm_s16le: "PCM 16-bit", pcm_s32le: "PCM 32-bit",
  pcm_f32le: "PCM 32-bit float",
};

export const codecName = (codec) => CODEC_NAMES[codec] ?? codec;

export function megabytes(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "unknown length";
  const whole = Math.round(seconds);
  if (whole < 60) return `${seconds < 10 ? seconds.toFixed(1) : whole} s`;
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

// The rows of the "what is inside" table: [track, codec, details] per track.
export function trackRows(info) {
  return info.tracks.map((track) => {
    const details = [];
    if (track.kind === "video") {
      details.push(`${track.width}×${track.height}`);
      if (track.frame_rate) details.push(`${Number(track.frame_rate).toFixed(2)} fps`);
      if (track.rotation) details.push(`rotated ${track.rotation}°`);
    } else {
      details.push(`${track.sample_rate} Hz`, `${track.channels} channel${track.channels === 1 ? "" : "s"}`);
    }
    if (track.language && track.language !== "und") details.push(`language: ${track.language}`);
    if (!track.decodable) details.push("this browser cannot decode it (it can only be kept as is)");
    return [`${track.id} (${track.kind})`, track.codec, details.join(", ")];
  });
}

export function fileSummary(info) {
  const parts = [info.container, megabytes(info.size ?? 0), duration(info.duration)];
  if (info.size && info.duration) parts.push(`${Math.round((info.size * 8) / info.duration / 1000)} kbit/s`);
  return parts.join(" · ");
}

// What "automatic" does with one track: "→ VP8", "kept as vp9", "removed: …".
export function automaticWords(plan) {
  if (!plan) return "";
  if (plan.action === "copy") return `kept as ${codecName(plan.codec)}`;
  if (plan.action === "reencode") return `→ ${codecName(plan.codec)}`;
  if (plan.action === "drop") return plan.note.replace(/^dropped/, "removed");
  return "cannot be converted here";
}

// The choices for one track in one container: [value, label, disabled?] with the
// automatic choice first and only codecs this browser encodes and the container holds.
export function trackChoices(track, container, info, transformed) {
  const plans = (transformed && track.kind === "video" ? info.automaticTransformed : info.automatic)[container];
  const plan = plans.find((p) => p.track_id === track.id);
  const holds = new Set(info.holds[container]);
  const choices = [["", `automatic: ${automaticWords(plan)}`]];
  if (holds.has(track.codec)) {
    const blocked = transformed && track.kind === "video";
    choices.push(["copy", `keep as is (${codecName(track.codec)})${blocked ? ": not with crop/rotate/resize" : ""}`, blocked]);
  }
  if (track.decodable) {
    for (const codec of track.encodable) {
      if (holds.has(codec)) choices.push([codec, `convert to ${codecName(codec)}`]);
    }
  }
  choices.push(["drop", "remove this track"]);
  return choices;
}

// "Automatic: video → VP8, audio → Opus" for the chosen container.
export function automaticSummary(info, container, transformed) {
  const words = info.tracks.map((track) => {
    const plans = (transformed && track.kind === "video" ? info.automaticTransformed : info.automatic)[container];
    return `${track.kind} ${automaticWords(plans.find((p) => p.track_id === track.id))}`;
  });
  return `Automatic: ${words.join(", ")}.`;
}

const PLAIN_ERRORS = {
  FormatError: (name) => `“${name}” could not be read. The file is damaged, cut short, or not a video or audio file this converter knows.`,
  UnsupportedError: (name) => `“${name}” cannot be converted this way in this browser. Try another format, or remove the track it names.`,
  CodecError: () => "The browser's video or audio codec stopped with an error during the conversion. Another output format may work.",
  OptionError: () => "One of the chosen settings cannot be used. Check the width and height, or go back to automatic.",
  StorageFullError: () => "There is not enough room on this device for the converted file. Free some disk space, or use a normal (not private) window, which may store more.",
  PyWebCodecsError: (name) => `“${name}” could not be converted with these settings: for instance every track is removed or none fits this format.`,
};

// A failure in plain words, with the engine's message one click away.
export function explainFailure(answer, name) {
  const plain = PLAIN_ERRORS[answer.errorName]?.(name)
    ?? "Something went wrong inside the converter. Reloading the page may help.";
  return { plain, technical: `${answer.errorName}: ${answer.error}` };
}

// A warning of the engine in plain words (the engine's text stays in the details).
export function explainWarning(text) {
  if (/file ends|ends early|truncat|cut short|incomplete/i.test(text)) {
    return "The input file seems to be cut short: the output holds only the part that could be read.";
  }
  if (/timestamp|dts|pts/i.test(text)) return "Some timestamps in the input were broken and have been repaired.";
  return "The conversion noticed something unusual in the input.";
}

// Warnings for tracks the conversion left out without being asked to.
export function droppedTrackWarnings(tracks) {
  return tracks
    .filter((t) => t.action === "drop" && t.note !== "dropped by choice")
    .map((t) => ({ plain: `Track ${t.track_id} (${t.kind}) was left out.`, technical: t.note }));
}

export function outcomeWords(outcome) {
  const head = `Track ${outcome.track_id} (${outcome.kind})`;
  if (outcome.action === "copy") return `${head}: kept as is (${codecName(outcome.output_codec)})`;
  if (outcome.action === "reencode") return `${head}: ${codecName(outcome.input_codec)} → ${codecName(outcome.output_codec)}`;
  return `${head}: removed (${outcome.note.replace(/^dropped:?\s*/, "")})`;
}

// The download's name: the input's stem with the output's extension, never the input's
// own name (a download over the original would be easy to confuse with it).
export function downloadName(inputName, container) {
  const stem = inputName.replace(/\.[^./]*$/, "") || "converted";
  const name = `${stem}.${container}`;
  return name.toLowerCase() === inputName.toLowerCase() ? `${stem}-converted.${container}` : name;
}

// "42% · 120 video frames · 2.3× real time · about 5 s left". Before the output holds a
// frame (encoders start with a queue), the frames read are counted instead.
export function progressWords(p) {
  const parts = [`${Math.floor(p.fraction * 100)}%`];
  if (p.video_frames) parts.push(`${p.video_frames} video frames`);
  else if (p.audio_frames) parts.push(`${p.audio_frames} audio frames`);
  else if (p.input_packets) parts.push(`${p.input_packets} frames read`);
  if (p.rate > 0) parts.push(`${p.rate.toFixed(1)}× real time`);
  if (p.eta_ms != null && !p.done) parts.push(`about ${duration(p.eta_ms / 1000)} left`);
  return parts.join(" · ");
}

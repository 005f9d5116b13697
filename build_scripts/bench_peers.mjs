// The page side of bench_peers.py: runs one job with one side in this tab and answers its
// time. Served next to a Mediabunny bundle that bench_peers.py makes with esbuild at run
// time (never part of static/), on the same origin as the built site, so that our engine
// is imported from the site exactly as a user's page would.
//
// Every side gets the same input Blob, fetched once before any clock starts, and every
// clock stops only when the side's output exists as a Blob (or, for the limit, when the
// last chunk is encoded). The output is then PUT to bench_peers.py, untimed, for ffprobe.
import * as mb from "./mediabunny.mjs";
import { convertMedia, loadEngine } from "/engine.mjs";

const blobs = new Map();
const demuxed = new Map();

async function inputBlob(url) {
  if (!blobs.has(url)) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    blobs.set(url, await response.blob());
  }
  return blobs.get(url);
}

// Fetches the input, boots our engine and, for the limit, demuxes the input beforehand
// (with Mediabunny's demuxer): nothing of this is inside any side's time.
export async function prepare(job) {
  const blob = await inputBlob(job.inputUrl);
  await loadEngine();
  if (job.limit && !demuxed.has(job.inputUrl)) demuxed.set(job.inputUrl, await predemux(blob));
}

export async function run(side, job) {
  const blob = await inputBlob(job.inputUrl);
  if (side === "limit") return limit(demuxed.get(job.inputUrl), job.limit);
  const started = performance.now();
  const output = side === "pywebcodecs" ? await ours(blob, job.ours) : await mediabunny(blob, job.mediabunny);
  const ms = performance.now() - started;
  const response = await fetch(job.outputUrl, { method: "PUT", body: output });
  if (!response.ok) throw new Error(`upload of ${side}'s output: HTTP ${response.status}`);
  return { ms, bytes: output.size };
}

async function ours(blob, options) {
  return (await convertMedia(blob, options)).blob;
}

const FORMATS = {
  webm: () => new mb.WebMOutputFormat(),
  mkv: () => new mb.MkvOutputFormat(),
  mp4: () => new mb.Mp4OutputFormat({ fastStart: "in-memory" }),
  wav: () => new mb.WavOutputFormat(),
};

async function mediabunny(blob, { container, video, audio }) {
  const input = new mb.Input({ source: new mb.BlobSource(blob), formats: mb.ALL_FORMATS });
  const target = new mb.BufferTarget();
  const output = new mb.Output({ format: FORMATS[container](), target });
  const conversion = await mb.Conversion.init({ input, output, video, audio });
  if (conversion.discardedTracks.length) {
    throw new Error(`Mediabunny discarded ${conversion.discardedTracks.map((t) => t.reason).join(", ")}`);
  }
  await conversion.execute();
  return new Blob([target.buffer], { type: output.format.mimeType });
}

// Every packet of the first video and audio track with their decoder configs, the two
// tracks merged by time as a file interleaves them; each keeps its decode order (video
// goes by the latest time shown so far, as B-frames come before earlier pictures).
async function predemux(blob) {
  const input = new mb.Input({ source: new mb.BlobSource(blob), formats: mb.ALL_FORMATS });
  const lists = [];
  const tracks = {};
  for (const [kind, track] of [["video", await input.getPrimaryVideoTrack()], ["audio", await input.getPrimaryAudioTrack()]]) {
    tracks[kind] = await track.getDecoderConfig();
    let latest = -Infinity;
    const list = [];
    for await (const packet of new mb.EncodedPacketSink(track).packets()) {
      latest = Math.max(latest, packet.timestamp);
      list.push({ kind, packet, at: latest });
    }
    lists.push(list);
  }
  const [a, b] = lists;
  const packets = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    packets.push(j >= b.length || (i < a.length && a[i].at <= b[j].at) ? a[i++] : b[j++]);
  }
  return { packets, tracks };
}

// The throughput limit: decode and re-encode pre-demuxed packets with WebCodecs and keep
// the encoded chunks, with our engine's encoder configs and queue depths, no muxing.
async function limit({ packets, tracks }, { video, audio, queue, resume }) {
  let failure = null;
  const fail = (error) => { failure ??= error; };
  const counts = { video: 0, audio: 0 };
  const keep = (kind) => (chunk) => {
    const bytes = new Uint8Array(chunk.byteLength);
    chunk.copyTo(bytes);
    counts[kind]++;
  };
  const started = performance.now();
  const venc = new VideoEncoder({ output: keep("video"), error: fail });
  venc.configure(video.encoder);
  let nextKey = -Infinity;
  const vdec = new VideoDecoder({
    output: (frame) => {
      const key = frame.timestamp >= nextKey;
      if (key) nextKey = frame.timestamp + video.keyframeIntervalUs;
      venc.encode(frame, { keyFrame: key });
      frame.close();
    },
    error: fail,
  });
  vdec.configure(tracks.video);
  const aenc = new AudioEncoder({ output: keep("audio"), error: fail });
  aenc.configure(audio.encoder);
  const adec = new AudioDecoder({
    output: (data) => { if (data.timestamp >= 0) aenc.encode(data); data.close(); },
    error: fail,
  });
  adec.configure(tracks.audio);
  const pairs = {
    video: [vdec, venc, queue.video, resume.video],
    audio: [adec, aenc, queue.audio, resume.audio],
  };
  for (const { kind, packet } of packets) {
    // A full queue (over depth) is waited on until it is down to low, as the engine does.
    const [dec, enc, depth, low] = pairs[kind];
    const over = (limit) => dec.decodeQueueSize > limit || enc.encodeQueueSize > limit;
    if (over(depth)) {
      while (over(low)) {
        await new Promise((resolve) => {
          const stop = new AbortController();
          const done = () => { stop.abort(); resolve(); };
          dec.addEventListener("dequeue", done, { signal: stop.signal });
          enc.addEventListener("dequeue", done, { signal: stop.signal });
        });
      }
    }
    dec.decode(kind === "video" ? packet.toEncodedVideoChunk() : packet.toEncodedAudioChunk());
  }
  await vdec.flush(); await venc.flush(); await adec.flush(); await aenc.flush();
  const ms = performance.now() - started;
  for (const codec of [vdec, venc, adec, aenc]) codec.close();
  if (failure) throw failure;
  return { ms, videoPackets: counts.video, audioPackets: counts.audio };
}

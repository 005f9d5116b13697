// The throughput limit for the benchmark: a plain-JS WebCodecs loop over packets that
// were demuxed beforehand (no demuxing, no muxing, no Python), with the same decoder and
// encoder configs and the same backpressure rule as the engine. Called by bench.py with
// {packetsUrl, index, video, audio} and resolves to {ms, videoChunks, audioChunks}.
async ({ packetsUrl, index, video, audio }) => {
  const data = new Uint8Array(await (await fetch(packetsUrl)).arrayBuffer());
  const MAX_QUEUE = 8;
  const KEY_INTERVAL = 2_000_000;
  let videoChunks = 0, audioChunks = 0, failure = null;
  const fail = (e) => { failure = failure || e; };

  const venc = new VideoEncoder({ output: (c) => { const b = new Uint8Array(c.byteLength); c.copyTo(b); videoChunks++; }, error: fail });
  venc.configure(video.encoder);
  let nextKey = -Infinity;
  const vdec = new VideoDecoder({
    output: (frame) => {
      const key = frame.timestamp >= nextKey;
      if (key) nextKey = frame.timestamp + KEY_INTERVAL;
      venc.encode(frame, { keyFrame: key });
      frame.close();
    },
    error: fail,
  });
  vdec.configure({ ...video.decoder, description: new Uint8Array(video.decoder.description) });

  const aenc = new AudioEncoder({ output: (c) => { const b = new Uint8Array(c.byteLength); c.copyTo(b); audioChunks++; }, error: fail });
  aenc.configure(audio.encoder);
  const adec = new AudioDecoder({
    output: (d) => { if (d.timestamp >= 0) aenc.encode(d); d.close(); },
    error: fail,
  });
  adec.configure({ ...audio.decoder, description: new Uint8Array(audio.decoder.description) });

  const waitForRoom = async (dec, enc) => {
    while (dec.decodeQueueSize > MAX_QUEUE || enc.encodeQueueSize > MAX_QUEUE) {
      await new Promise((resolve) => {
        const ac = new AbortController();
        const done = () => { ac.abort(); resolve(); };
        dec.addEventListener("dequeue", done, { signal: ac.signal });
        enc.addEventListener("dequeue", done, { signal: ac.signal });
      });
    }
  };

  const started = performance.now();
  for (const p of index) {
    const bytes = data.subarray(p.offset, p.offset + p.size);
    if (p.kind === "video") {
      await waitForRoom(vdec, venc);
      vdec.decode(new EncodedVideoChunk({ type: p.key ? "key" : "delta", timestamp: p.pts, duration: p.duration, data: bytes }));
    } else {
      await waitForRoom(adec, aenc);
      adec.decode(new EncodedAudioChunk({ type: "key", timestamp: p.pts, duration: p.duration, data: bytes }));
    }
  }
  await vdec.flush(); await venc.flush(); await adec.flush(); await aenc.flush();
  const ms = performance.now() - started;
  for (const c of [vdec, venc, adec, aenc]) c.close();
  if (failure) throw failure;
  return { ms, videoChunks, audioChunks };
}

// websocketsink viewer: a wall of cameras. Receives frames from the
// element's WebSocket at /ws and draws each camera's frames with their
// detections in its own tile. Message format (see the element docs): uint32
// big-endian N, N bytes of JSON header, then the frame: a JPEG, an H.264
// access unit (Annex B), a VP8 or a VP9 frame; header.camera names the
// camera, header.codec says which, header.key marks key frames.
//
// JPEG is decoded with createImageBitmap; encoded video with WebCodecs'
// VideoDecoder, which browsers only offer to secure pages (http://127.0.0.1,
// http://localhost, https://...). Each decoded frame is drawn with the
// detections of the header it came with.
//
// Query parameters: stall=SECONDS [3], after which a camera without frames
// is shown as stalled; token=SECRET, the element's auth-token, which the
// WebSocket URL carries on (the page and this script were fetched with it).
//
// Counters for tests and curious users: window.viewerStats (connection) and
// window.viewerStats.cameras[name] (per camera, see cameraStats below). A
// "viewerframe" event (detail: {camera}) is dispatched on window after each
// frame is drawn and its tile's info line updated for it.
'use strict';

(function () {
  const BACKOFF_MIN_MS = 250;
  const BACKOFF_MAX_MS = 5000;
  const STATUS_INTERVAL_MS = 250;
  const BOX_COLOUR = '#00ff00';
  const LABEL_PAD = 2;        // pixels between a label and the box or the edge
  // Frames a decoder may hold before the camera starts over at a key frame:
  // a browser that decodes slower than the stream shows fresh pictures
  const MAX_DECODE_QUEUE = 30;

  const params = new URLSearchParams(location.search);
  const STALL_MS = 1000 * (Number(params.get('stall')) > 0 ?
    Number(params.get('stall')) : 3);
  const TOKEN = params.get('token');
  const WS_PATH = '/ws' + (TOKEN ? '?token=' + encodeURIComponent(TOKEN) : '');

  const wall = document.getElementById('wall');
  const template = document.getElementById('tile-template');
  const el = {
    state: document.getElementById('state'),
    cameras: document.getElementById('cameras'),
    webcodecs: document.getElementById('webcodecs'),
    empty: document.getElementById('empty'),
  };
  const hasWebCodecs = typeof window.VideoDecoder === 'function';
  const NO_WEBCODECS = window.isSecureContext ?
    'This browser has no WebCodecs (VideoDecoder): it cannot show H.264, ' +
    'VP8 or VP9. Use a current Chrome, Edge or Firefox, or send JPEG.' :
    'Encoded video needs WebCodecs, which browsers only offer to secure ' +
    'pages: open this page as http://127.0.0.1 or http://localhost on the ' +
    'viewer host, or over HTTPS.';
  el.webcodecs.textContent = hasWebCodecs ? 'WebCodecs available' :
    'no WebCodecs: JPEG only';

  const stats = {
    connected: false,
    connects: 0,        // successful connections
    badMessages: 0,
    stallMs: STALL_MS,
    webcodecs: hasWebCodecs,
    cameras: {},        // name -> per-camera counters
  };
  window.viewerStats = stats;

  const cameras = new Map();    // name -> camera state
  let ws = null;
  let backoff = BACKOFF_MIN_MS;
  let reconnectTimer = null;

  function setState(text, live) {
    el.state.textContent = text;
    el.state.className = live ? 'live' : 'down';
  }

  function cameraStats(name) {
    return {
      name: name,
      codec: null,
      frames: 0,          // frames drawn
      received: 0,        // messages received
      fps: 0,             // frames drawn in the last second
      lastLatencyMs: null,
      avgLatencyMs: null,
      skipped: 0,         // gaps in seq: frames the server (or upstream) skipped
      dropped: 0,         // received but not decoded (replaced, or no key frame yet)
      keyFrameRequests: 0, // decoder restarts: key frames asked of the server
      decodeErrors: 0,
      lastSeq: null,
      stalled: false,
      unsupported: null,  // why this camera cannot be shown, or null
      firstDrawnAt: null, // performance.now() of the first picture
      // {seq, pts, key, width, height, detections, labels} of the frame on
      // screen; labels[i] is {text, x, y, w, h}: the canvas pixels the label
      // of detections[i] covers (its ink), or null when it has no label
      lastDrawn: null,
    };
  }

  function getCamera(name) {
    let cam = cameras.get(name);
    if (cam)
      return cam;
    const tile = template.content.firstElementChild.cloneNode(true);
    tile.dataset.camera = name;
    const q = (c) => tile.querySelector('.' + c);
    cam = {
      name: name,
      tile: tile,
      canvas: q('canvas') || tile.querySelector('canvas'),
      overlay: q('overlay'),
      info: {
        name: q('name'), fps: q('fps'), latency: q('latency'),
        latencyAvg: q('latency-avg'), detections: q('detections'),
        skipped: q('skipped'), frames: q('frames'), size: q('size'),
        codec: q('codec'),
      },
      stats: cameraStats(name),
      drawTimes: [],
      latencySum: 0,
      latencyCount: 0,
      lastDrawnAt: performance.now(),
      // JPEG
      decoding: false,
      queued: null,
      // WebCodecs
      decoder: null,
      decoderCodec: null,
      configuring: false,
      needKey: true,
      chunkTime: 0,
      headers: new Map(),   // chunk timestamp -> header
    };
    cam.ctx = cam.canvas.getContext('2d', { alpha: false });
    cam.info.name.textContent = name;
    tile.addEventListener('click', () => toggleLarge(cam));
    stats.cameras[name] = cam.stats;
    cameras.set(name, cam);
    if (el.empty.parentNode)
      el.empty.remove();
    // Tiles in name order, so a reload shows the same wall
    const after = [...wall.children].find((t) => t.dataset.camera > name);
    wall.insertBefore(tile, after || null);
    el.cameras.textContent = String(cameras.size);
    placeholder(cam, 'Waiting for video…');
    return cam;
  }

  function toggleLarge(cam) {
    const large = !cam.tile.classList.contains('large');
    for (const c of cameras.values())
      c.tile.classList.remove('large');
    cam.tile.classList.toggle('large', large);
    wall.classList.toggle('single', large);
  }

  function placeholder(cam, text) {
    const ctx = cam.ctx;
    ctx.fillStyle = '#303030';
    ctx.fillRect(0, 0, cam.canvas.width, cam.canvas.height);
    ctx.fillStyle = '#aaa';
    ctx.font = '20px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(text, cam.canvas.width / 2, cam.canvas.height / 2);
    ctx.textAlign = 'start';
  }

  function setUnsupported(cam, why) {
    cam.stats.unsupported = why;
    cam.tile.classList.add('unsupported');
    cam.overlay.textContent = why;
  }

  function connect() {
    reconnectTimer = null;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    setState('connecting', false);
    try {
      ws = new WebSocket(scheme + location.host + WS_PATH);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () {
      stats.connected = true;
      stats.connects++;
      backoff = BACKOFF_MIN_MS;
      // A new connection may be a restarted pipeline: its seq starts over,
      // and its encoded video starts again at a key frame
      for (const cam of cameras.values()) {
        cam.stats.lastSeq = null;
        resetDecoder(cam);
      }
      setState('live', true);
    };
    ws.onmessage = function (ev) {
      onMessage(ev.data);
    };
    ws.onclose = function () {
      ws = null;
      stats.connected = false;
      scheduleReconnect();
    };
    // An error is always followed by close, which does the work
    ws.onerror = function () {};
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null)
      return;
    const delay = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    setState('disconnected, retrying in ' + (delay / 1000).toFixed(1) + ' s',
      false);
    reconnectTimer = setTimeout(connect, delay);
  }

  function parse(buf) {
    if (!(buf instanceof ArrayBuffer) || buf.byteLength < 4)
      return null;
    const n = new DataView(buf).getUint32(0, false);
    if (4 + n > buf.byteLength)
      return null;
    let header;
    try {
      header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    } catch (e) {
      return null;
    }
    if (header === null || typeof header !== 'object')
      return null;
    return { header: header, data: new Uint8Array(buf, 4 + n) };
  }

  function onMessage(data) {
    const frame = parse(data);
    if (frame === null) {
      stats.badMessages++;
      return;
    }
    const h = frame.header;
    const cam = getCamera(typeof h.camera === 'string' ? h.camera : 'camera');
    const s = cam.stats;
    s.received++;
    if (typeof h.seq === 'number') {
      if (s.lastSeq !== null && h.seq > s.lastSeq + 1)
        s.skipped += h.seq - s.lastSeq - 1;
      s.lastSeq = h.seq;
    }
    const codec = typeof h.codec === 'string' ? h.codec : 'jpeg';
    if (s.codec !== codec) {
      resetDecoder(cam);
      s.codec = codec;
      cam.info.codec.textContent = codec;
    }
    if (codec === 'jpeg')
      decodeJpeg(cam, frame);
    else
      decodeVideo(cam, codec, frame);
  }

  // ---- JPEG ----

  function decodeJpeg(cam, frame) {
    // One decode at a time; only the newest waiting frame is worth decoding
    if (cam.decoding) {
      if (cam.queued !== null)
        cam.stats.dropped++;
      cam.queued = frame;
      return;
    }
    cam.decoding = true;
    const blob = new Blob([frame.data], { type: 'image/jpeg' });
    createImageBitmap(blob).then(function (bitmap) {
      // Drawn only once decoded: the canvas always holds a complete picture
      draw(cam, frame.header, bitmap, bitmap.width, bitmap.height);
      bitmap.close();
    }, function () {
      cam.stats.decodeErrors++;
    }).then(function () {
      cam.decoding = false;
      if (cam.queued !== null) {
        const next = cam.queued;
        cam.queued = null;
        decodeJpeg(cam, next);
      }
    });
  }

  // ---- WebCodecs ----

  function hex2(n) {
    return (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
  }

  // avc1.PPCCLL from the first SPS in an Annex B access unit, or null
  function h264CodecString(data) {
    for (let i = 0; i + 7 < data.length; i++) {
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 &&
          (data[i + 3] & 0x1f) === 7)
        return 'avc1.' + hex2(data[i + 4]) + hex2(data[i + 5]) + hex2(data[i + 6]);
    }
    return null;
  }

  // vp09.PP.LL.DD: the profile from the uncompressed header, level 4.1 and
  // 8 bits (10 bits from profile 2 on) as most browsers want a full string
  function vp9CodecString(data) {
    if (data.length < 1)
      return null;
    const profile = ((data[0] >> 5) & 1) | (((data[0] >> 4) & 1) << 1);
    return 'vp09.0' + profile + '.41.' + (profile >= 2 ? '10' : '08');
  }

  function codecString(codec, data) {
    if (codec === 'h264')
      return h264CodecString(data);
    if (codec === 'vp8')
      return 'vp8';
    if (codec === 'vp9')
      return vp9CodecString(data);
    return null;
  }

  function resetDecoder(cam) {
    if (cam.decoder !== null && cam.decoder.state !== 'closed')
      cam.decoder.close();
    cam.decoder = null;
    cam.decoderCodec = null;
    cam.needKey = true;
    cam.headers.clear();
    cam.queued = null;
  }

  // The decoder starts again at the next key frame, which the server is
  // asked for: the camera's GOP may be many seconds long
  function restartAtKeyFrame(cam) {
    resetDecoder(cam);
    if (ws !== null && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ 'key-frame': cam.name }));
      cam.stats.keyFrameRequests++;
    }
  }

  function decodeVideo(cam, codec, frame) {
    const h = frame.header;
    const s = cam.stats;
    if (!hasWebCodecs) {
      s.dropped++;
      if (s.unsupported === null)
        setUnsupported(cam, NO_WEBCODECS);
      return;
    }
    if (s.unsupported !== null && cam.decoderCodec !== null) {
      s.dropped++;
      return;
    }
    if (cam.needKey && !h.key) {
      // Nothing to decode it against: wait for the key frame the server
      // sends or has asked the camera for
      s.dropped++;
      return;
    }
    if (cam.configuring) {
      s.dropped++;
      return;
    }
    if (cam.decoder === null) {
      const want = codecString(codec, frame.data);
      if (want === null) {
        s.dropped++;
        if (s.unsupported === null)
          setUnsupported(cam, 'Cannot read the ' + codec + ' parameters of ' +
            'this key frame (for H.264 the SPS must come with it).');
        return;
      }
      configure(cam, codec, want, frame);
      return;
    }
    if (cam.decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // This browser decodes slower than the camera sends: start again at
      // the next key frame rather than fall further behind
      s.dropped++;
      restartAtKeyFrame(cam);
      return;
    }
    submit(cam, frame);
  }

  function configure(cam, codec, want, frame) {
    const config = { codec: want, optimizeForLatency: true };
    cam.configuring = true;
    VideoDecoder.isConfigSupported(config).then(function (r) {
      cam.configuring = false;
      if (!r.supported) {
        cam.decoderCodec = want;
        setUnsupported(cam, 'This browser cannot decode ' + codec + ' (' +
          want + ') with WebCodecs. Send JPEG for this camera, or use a ' +
          'browser with ' + codec + ' support.');
        return;
      }
      cam.decoder = new VideoDecoder({
        output: (vf) => onDecoded(cam, vf),
        error: function (e) {
          cam.stats.decodeErrors++;
          cam.decoder = null;
          restartAtKeyFrame(cam);
        },
      });
      // H.264 without a description: the chunks are Annex B, parameter
      // sets in band (the sink puts them in front of every key frame)
      cam.decoder.configure(config);
      cam.decoderCodec = want;
      cam.tile.classList.remove('unsupported');
      cam.stats.unsupported = null;
      submit(cam, frame);
    }, function (e) {
      cam.configuring = false;
      setUnsupported(cam, 'WebCodecs refused ' + want + ': ' + e.message);
    });
  }

  function submit(cam, frame) {
    const h = frame.header;
    const ts = cam.chunkTime++;
    cam.headers.set(ts, h);
    try {
      cam.decoder.decode(new EncodedVideoChunk({
        type: h.key ? 'key' : 'delta',
        timestamp: ts,
        data: frame.data,
      }));
      cam.needKey = false;
    } catch (e) {
      cam.headers.delete(ts);
      cam.stats.decodeErrors++;
      restartAtKeyFrame(cam);
    }
  }

  function onDecoded(cam, vf) {
    const h = cam.headers.get(vf.timestamp);
    // Headers of frames the decoder will never output (none in practice)
    for (const k of cam.headers.keys()) {
      if (k > vf.timestamp)
        break;
      cam.headers.delete(k);
    }
    if (h !== undefined)
      draw(cam, h, vf, vf.displayWidth, vf.displayHeight);
    vf.close();
  }

  // ---- drawing ----

  function draw(cam, header, image, width, height) {
    const canvas = cam.canvas, ctx = cam.ctx, s = cam.stats;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    ctx.drawImage(image, 0, 0, width, height);

    const detections = Array.isArray(header.detections) ? header.detections : [];
    // Detections are in frame pixels; scale if the picture is another size
    const sx = header.width ? width / header.width : 1;
    const sy = header.height ? height / header.height : 1;
    const line = Math.max(2, Math.round(width / 160));
    ctx.lineWidth = line;
    ctx.strokeStyle = BOX_COLOUR;
    ctx.fillStyle = BOX_COLOUR;
    ctx.font = Math.max(10, Math.round(width / 40)) + 'px system-ui, sans-serif';
    ctx.textAlign = 'start';
    ctx.textBaseline = 'alphabetic';
    const labels = [];
    for (const d of detections) {
      const x = d.x * sx, y = d.y * sy, w = d.w * sx, hh = d.h * sy;
      ctx.strokeRect(x, y, w, hh);
      let text = typeof d.type === 'string' ? d.type : '';
      if (typeof d.score === 'number')
        text += (text ? ' ' : '') + d.score.toFixed(2);
      if (!text) {
        labels.push(null);
        continue;
      }
      const at = placeLabel(ctx.measureText(text), x, y, line, width, height);
      ctx.fillText(text, at.baseX, at.baseY);
      labels.push({ text: text, x: at.x, y: at.y, w: at.w, h: at.h });
    }

    const now = performance.now();
    cam.drawTimes.push(now);
    cam.lastDrawnAt = now;
    if (s.firstDrawnAt === null)
      s.firstDrawnAt = now;

    if (typeof header.capture_time_ns === 'number') {
      const latency = Date.now() - header.capture_time_ns / 1e6;
      s.lastLatencyMs = latency;
      cam.latencySum += latency;
      cam.latencyCount++;
      s.avgLatencyMs = cam.latencySum / cam.latencyCount;
    } else {
      // The latency shown is the one of the frame shown, or none
      s.lastLatencyMs = null;
    }

    s.frames++;
    s.lastDrawn = {
      seq: header.seq,
      pts: header.pts,
      key: header.key !== false,
      width: width,
      height: height,
      detections: detections,
      labels: labels,
    };
    // In the same task as the drawing: the info line never describes an
    // earlier frame than the one on screen
    updateCamera(cam, now);
    window.dispatchEvent(new CustomEvent('viewerframe',
      { detail: { camera: cam.name } }));
  }

  // Where a label goes: above the box, starting at its left edge; just inside
  // the box's top edge when there is no room above; then shifted left and
  // down (or right and up) as far as needed to keep all of it on the canvas,
  // so the score at its end is never cut off. Works on the ink extent that
  // measureText reports, returns the baseline point to draw at and that
  // extent on the canvas.
  function placeLabel(m, x, y, line, width, height) {
    const left = m.actualBoundingBoxLeft, right = m.actualBoundingBoxRight;
    const ascent = m.actualBoundingBoxAscent;
    const descent = m.actualBoundingBoxDescent;
    const gap = line / 2 + LABEL_PAD;
    let bx = x + left;
    let by = y - gap - descent;
    if (by - ascent < LABEL_PAD)
      by = y + gap + ascent;
    bx = Math.max(Math.min(bx, width - LABEL_PAD - right), left);
    by = Math.max(Math.min(by, height - LABEL_PAD - descent), ascent);
    return {
      baseX: bx, baseY: by,
      x: bx - left, y: by - ascent, w: left + right, h: ascent + descent,
    };
  }

  function updateCamera(cam, now) {
    const s = cam.stats, info = cam.info;
    // fps decays to 0 when frames stop arriving
    while (cam.drawTimes.length && cam.drawTimes[0] < now - 1000)
      cam.drawTimes.shift();
    s.fps = cam.drawTimes.length;

    // A picture that stopped moving says so: it is not the live view
    const stalled = s.frames > 0 && now - cam.lastDrawnAt > STALL_MS;
    if (stalled !== s.stalled) {
      s.stalled = stalled;
      cam.tile.classList.toggle('stalled', stalled);
    }
    if (stalled) {
      cam.overlay.textContent = 'STALLED: no frames for ' +
        ((now - cam.lastDrawnAt) / 1000).toFixed(0) + ' s';
    } else if (s.unsupported === null) {
      cam.overlay.textContent = '';
    }

    info.fps.textContent = s.fps.toFixed(1);
    info.latency.textContent = s.lastLatencyMs === null ? '–' :
      s.lastLatencyMs.toFixed(0);
    info.latencyAvg.textContent = s.avgLatencyMs === null ? '–' :
      s.avgLatencyMs.toFixed(0);
    info.detections.textContent = s.lastDrawn ?
      String(s.lastDrawn.detections.length) : '0';
    info.skipped.textContent = String(s.skipped);
    info.frames.textContent = String(s.frames);
    info.size.textContent = s.lastDrawn ?
      s.lastDrawn.width + '×' + s.lastDrawn.height : '–';
  }

  function updateAll() {
    const now = performance.now();
    for (const cam of cameras.values())
      updateCamera(cam, now);
  }

  setInterval(updateAll, STATUS_INTERVAL_MS);
  connect();
})();

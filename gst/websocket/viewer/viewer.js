// websocketsink viewer. Receives frames from the element's WebSocket at /ws
// and draws them with their detections. Message format (see the element
// docs): uint32 big-endian N, N bytes of JSON header, then the JPEG.
//
// Counters for tests and curious users are on window.viewerStats; the frame
// on screen, with where each detection's label was drawn, is
// viewerStats.lastDrawn. A "viewerframe" event is dispatched on window after
// each frame is drawn and the status line updated for it.
'use strict';

(function () {
  const BACKOFF_MIN_MS = 250;
  const BACKOFF_MAX_MS = 5000;
  const STATUS_INTERVAL_MS = 250;
  const BOX_COLOUR = '#00ff00';
  const LABEL_PAD = 2;        // pixels between a label and the box or the edge

  const canvas = document.getElementById('video');
  const ctx = canvas.getContext('2d', { alpha: false });
  const el = {
    state: document.getElementById('state'),
    fps: document.getElementById('fps'),
    latency: document.getElementById('latency'),
    latencyAvg: document.getElementById('latency-avg'),
    skipped: document.getElementById('skipped'),
    frames: document.getElementById('frames'),
    size: document.getElementById('size'),
  };

  const stats = {
    connected: false,
    frames: 0,          // frames drawn
    received: 0,        // messages received
    fps: 0,             // frames drawn in the last second
    lastLatencyMs: null,
    avgLatencyMs: null,
    skipped: 0,         // gaps in seq: frames the server (or upstream) skipped
    dropped: 0,         // received but replaced by a newer one before decoding
    badMessages: 0,
    decodeErrors: 0,
    connects: 0,        // successful connections
    lastSeq: null,
    // {seq, pts, width, height, detections, labels} of the frame on screen;
    // labels[i] is {text, x, y, w, h}: the canvas pixels the label of
    // detections[i] covers (its ink), or null when it has no label
    lastDrawn: null,
  };
  window.viewerStats = stats;

  let ws = null;
  let backoff = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let decoding = false;
  let queued = null;          // newest frame waiting for the decoder
  let latencySum = 0;
  let latencyCount = 0;
  const drawTimes = [];

  function setState(text, live) {
    el.state.textContent = text;
    el.state.className = live ? 'live' : 'down';
  }

  function placeholder(text) {
    ctx.fillStyle = '#303030';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#aaa';
    ctx.font = '20px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(text, canvas.width / 2, canvas.height / 2);
    ctx.textAlign = 'start';
  }

  function connect() {
    reconnectTimer = null;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    setState('connecting', false);
    try {
      ws = new WebSocket(scheme + location.host + '/ws');
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () {
      stats.connected = true;
      stats.connects++;
      backoff = BACKOFF_MIN_MS;
      // A new connection may be a restarted pipeline: its seq starts over
      stats.lastSeq = null;
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
    const jpeg = new Blob([new Uint8Array(buf, 4 + n)], { type: 'image/jpeg' });
    return { header: header, jpeg: jpeg };
  }

  function onMessage(data) {
    const frame = parse(data);
    if (frame === null) {
      stats.badMessages++;
      return;
    }
    stats.received++;
    const seq = frame.header.seq;
    if (typeof seq === 'number') {
      if (stats.lastSeq !== null && seq > stats.lastSeq + 1)
        stats.skipped += seq - stats.lastSeq - 1;
      stats.lastSeq = seq;
    }
    // One decode at a time; only the newest waiting frame is worth decoding
    if (decoding) {
      if (queued !== null)
        stats.dropped++;
      queued = frame;
      return;
    }
    decode(frame);
  }

  function decode(frame) {
    decoding = true;
    createImageBitmap(frame.jpeg).then(function (bitmap) {
      // Drawn only once decoded: the canvas always holds a complete picture
      draw(frame.header, bitmap);
      bitmap.close();
    }, function () {
      stats.decodeErrors++;
    }).then(function () {
      decoding = false;
      if (queued !== null) {
        const next = queued;
        queued = null;
        decode(next);
      }
    });
  }

  function draw(header, bitmap) {
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    ctx.drawImage(bitmap, 0, 0);

    const detections = Array.isArray(header.detections) ? header.detections : [];
    // Detections are in frame pixels; scale if the JPEG is another size
    const sx = header.width ? bitmap.width / header.width : 1;
    const sy = header.height ? bitmap.height / header.height : 1;
    const line = Math.max(2, Math.round(bitmap.width / 160));
    ctx.lineWidth = line;
    ctx.strokeStyle = BOX_COLOUR;
    ctx.fillStyle = BOX_COLOUR;
    ctx.font = Math.max(10, Math.round(bitmap.width / 40)) + 'px system-ui, sans-serif';
    ctx.textAlign = 'start';
    ctx.textBaseline = 'alphabetic';
    const labels = [];
    for (const d of detections) {
      const x = d.x * sx, y = d.y * sy, w = d.w * sx, h = d.h * sy;
      ctx.strokeRect(x, y, w, h);
      let text = typeof d.type === 'string' ? d.type : '';
      if (typeof d.score === 'number')
        text += (text ? ' ' : '') + d.score.toFixed(2);
      if (!text) {
        labels.push(null);
        continue;
      }
      const at = placeLabel(ctx.measureText(text), x, y, line,
        bitmap.width, bitmap.height);
      ctx.fillText(text, at.baseX, at.baseY);
      labels.push({ text: text, x: at.x, y: at.y, w: at.w, h: at.h });
    }

    const now = performance.now();
    drawTimes.push(now);
    while (drawTimes.length && drawTimes[0] < now - 1000)
      drawTimes.shift();
    stats.fps = drawTimes.length;

    if (typeof header.capture_time_ns === 'number') {
      const latency = Date.now() - header.capture_time_ns / 1e6;
      stats.lastLatencyMs = latency;
      latencySum += latency;
      latencyCount++;
      stats.avgLatencyMs = latencySum / latencyCount;
    } else {
      // The latency shown is the one of the frame shown, or none
      stats.lastLatencyMs = null;
    }

    stats.frames++;
    stats.lastDrawn = {
      seq: header.seq,
      pts: header.pts,
      width: bitmap.width,
      height: bitmap.height,
      detections: detections,
      labels: labels,
    };
    // In the same task as the drawing: the status never describes an
    // earlier frame than the one on screen (the timer alone lagged up to
    // STATUS_INTERVAL_MS, showing "frames 0" under the first picture)
    updateStatus();
    window.dispatchEvent(new Event('viewerframe'));
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

  function updateStatus() {
    // fps decays to 0 when frames stop arriving
    const now = performance.now();
    while (drawTimes.length && drawTimes[0] < now - 1000)
      drawTimes.shift();
    stats.fps = drawTimes.length;

    el.fps.textContent = stats.fps.toFixed(1);
    el.latency.textContent = stats.lastLatencyMs === null ? '–' :
      stats.lastLatencyMs.toFixed(0);
    el.latencyAvg.textContent = stats.avgLatencyMs === null ? '–' :
      stats.avgLatencyMs.toFixed(0);
    el.skipped.textContent = String(stats.skipped);
    el.frames.textContent = String(stats.frames);
    el.size.textContent = stats.lastDrawn ?
      stats.lastDrawn.width + '×' + stats.lastDrawn.height : '–';
  }

  placeholder('Waiting for video…');
  setInterval(updateStatus, STATUS_INTERVAL_MS);
  connect();
})();

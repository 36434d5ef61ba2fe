#!/usr/bin/env node
// Browser test of websocketsink's viewer page.
//
// Starts websocketsink-driver (videotestsrc ! jpegenc ! websocketsink with a
// moving white square and a "motion" ROI meta around it), opens the page in
// Debian's chromium through playwright-core, and checks what a person would
// see: live video at the source's rate, never black, the detection box drawn
// around the square, a label in the corner kept whole on the canvas, a status
// line that describes the frame on screen, the latency figure, and the page
// coming back by itself after the pipeline restarts. Then the whole chain
// with a real model: a photo with a face -> Redis -> pipelines/processor
// running OpenCV's face cascade in pyframeproc -> Redis -> pipelines/viewer:
// the page draws the face's box with its label and score. Prints "N passed,
// N failed" (", N skipped" when the face chain cannot run: no OpenCV or
// photo; a failure under CI=true).
//
// Environment (set by meson): DRIVER, CHROMIUM, TEST_BUILD_DIR,
// GST_PLUGIN_PATH_1_0, GST_REGISTRY, REDIS_SERVER, PYTHON.
'use strict';

const { spawn, spawnSync } = require('child_process');
const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const DRIVER = process.env.DRIVER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BUILD_DIR = process.env.TEST_BUILD_DIR || process.cwd();
const SCREENSHOT = path.join(BUILD_DIR, 'websocketsink-viewer.png');
const FACE_SCREENSHOT = path.join(BUILD_DIR, 'websocketsink-viewer-faces.png');
const TOP = path.resolve(__dirname, '..', '..');
const PHOTO = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
const CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';
const OVERALL_TIMEOUT_MS = 240 * 1000;

// Must match websocketsink-driver.c
const WIDTH = 320, HEIGHT = 240, FPS = 30;
const SQUARE = { size: 40, margin: 8, stepX: 4, stepY: 3 };
const EDGE = { type: 'person', x: WIDTH - 20, y: 0, w: 20, h: 30, score: 0.75 };

function expectedSquare(pts) {
  const n = Math.round(pts * FPS / 1e9);
  const x = SQUARE.margin + (n * SQUARE.stepX) % (WIDTH - 2 * SQUARE.margin - SQUARE.size);
  const y = SQUARE.margin + (n * SQUARE.stepY) % (HEIGHT - 2 * SQUARE.margin - SQUARE.size);
  return { x: x & ~1, y: y & ~1, w: SQUARE.size, h: SQUARE.size };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the pipeline process ----

const drivers = new Set();

function startDriver(port, extraArgs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(DRIVER, ['--port', String(port)].concat(extraArgs || []), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: process.env,
    });
    drivers.add(proc);
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      stopDriver(proc);
      reject(new Error('driver did not report a port: ' + err.trim()));
    }, 15000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /^PORT (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc: proc, port: Number(m[1]) });
      }
    });
    proc.stderr.on('data', (chunk) => {
      err += chunk;
      process.stderr.write('[driver] ' + chunk);
    });
    proc.on('exit', (code, signal) => {
      drivers.delete(proc);
      clearTimeout(timer);
      reject(new Error('driver exited (' + (signal || code) + '): ' + err.trim()));
    });
  });
}

async function stopDriver(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timeout = sleep(5000).then(() => 'timeout');
  if (await Promise.race([exited, timeout]) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

function killAllDriversSync() {
  for (const proc of drivers) {
    try {
      proc.kill('SIGKILL');
    } catch (e) {
      // already gone
    }
  }
}
process.on('exit', killAllDriversSync);

// ---- checks ----

const results = [];
const skipped = [];

// A check that cannot run its real component: skipped with the reason, a
// failure under CI=true (tests/cannot-run.sh)
function skip(name, why) {
  if (process.env.CI === 'true') {
    results.push({ name: name, ok: false });
    console.log('not ok - ' + name + ': could not run (a failure under CI=true): ' + why);
    return;
  }
  skipped.push(name);
  console.log('SKIPPED: websocketsink_browser: ' + name + ': ' + why);
}

async function check(name, fn) {
  try {
    await fn();
    results.push({ name: name, ok: true });
    console.log('ok - ' + name);
  } catch (e) {
    results.push({ name: name, ok: false });
    console.log('not ok - ' + name + ': ' + (e && e.message ? e.message : e));
  }
}

function assert(cond, message) {
  if (!cond)
    throw new Error(message);
}

// The one camera of the first driver: its counters with the connection's
const CAM = 'camera';
const stats = (page) => page.evaluate((name) => Object.assign({},
  window.viewerStats, window.viewerStats.cameras[name] || { frames: 0 }), CAM);

// Luma statistics of the whole canvas, in the page
function sampleCanvas(page) {
  return page.evaluate(() => {
    const c = document.querySelector('.tile[data-camera="camera"] canvas');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0, dark = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const l = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += l;
      if (l < 16)
        dark++;
    }
    return { mean: sum / n, darkFraction: dark / n, frames: window.viewerStats.cameras.camera.frames };
  });
}

// The frame on screen, its "motion" detection, and pixels on the box's edge
// and in its middle: all read in one task, so they belong together. hidden
// says a label is drawn over one of those pixels (the corner label when the
// square passes under it): such a sample says nothing about the box.
function sampleDetection(page) {
  return page.evaluate(() => {
    const s = window.viewerStats.cameras.camera.lastDrawn;
    if (!s)
      return null;
    const d = s.detections.find((x) => x.type === 'motion');
    if (!d)
      return null;
    const c = document.querySelector('.tile[data-camera="camera"] canvas');
    const ctx = c.getContext('2d');
    const points = {
      edgeTop: [d.x + d.w / 2, d.y],
      edgeLeft: [d.x, d.y + d.h / 2],
      centre: [d.x + d.w / 2, d.y + d.h / 2],
    };
    const out = { pts: s.pts, seq: s.seq, det: d, canvas: [c.width, c.height], hidden: false };
    for (const [name, [x, y]] of Object.entries(points)) {
      out[name] = Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data);
      for (const l of s.labels || []) {
        if (l && x >= l.x - 2 && x <= l.x + l.w + 2 && y >= l.y - 2 && y <= l.y + l.h + 2)
          out.hidden = true;
      }
    }
    return out;
  });
}

// The "person" detection in the corner, where its label was drawn, and how
// many pixels of the last quarter of that label (the end of the score) are
// the label colour. smpte75's bar under it is blue, so green there is ink.
// clear says the moving square's box is not near the label, so its green
// cannot be mistaken for the label's.
function sampleEdgeLabel(page) {
  return page.evaluate(() => {
    const s = window.viewerStats.cameras.camera.lastDrawn;
    if (!s || !Array.isArray(s.labels))
      return { error: 'the page exposes no label geometry (lastDrawn.labels)' };
    const i = s.detections.findIndex((x) => x.type === 'person');
    if (i < 0)
      return { error: 'no "person" detection on the frame shown' };
    const l = s.labels[i];
    const c = document.querySelector('.tile[data-camera="camera"] canvas');
    const out = { det: s.detections[i], label: l, canvas: [c.width, c.height], ink: 0, clear: true };
    if (!l)
      return out;
    const x0 = Math.max(0, Math.floor(l.x + 0.75 * l.w));
    const x1 = Math.min(c.width, Math.ceil(l.x + l.w));
    const y0 = Math.max(0, Math.floor(l.y));
    const y1 = Math.min(c.height, Math.ceil(l.y + l.h));
    if (x1 > x0 && y1 > y0) {
      const data = c.getContext('2d').getImageData(x0, y0, x1 - x0, y1 - y0).data;
      for (let p = 0; p < data.length; p += 4) {
        if (data[p + 1] - Math.max(data[p], data[p + 2]) > 100)
          out.ink++;
      }
    }
    const m = s.detections.find((x) => x.type === 'motion');
    if (m && m.x + m.w + 4 >= x0 && m.y - 4 <= y1)
      out.clear = false;
    return out;
  });
}

// Records, for every drawn frame, what the status line says at that moment
// (the page dispatches "viewerframe" right after drawing). Installed before
// the page's own script runs, so the first frame is seen too.
function recordStatusPerFrame() {
  const rec = { first: null, frames: 0, mismatches: [] };
  window.statusRecord = rec;
  window.addEventListener('viewerframe', (e) => {
    const s = window.viewerStats.cameras[e.detail.camera];
    const text = document.querySelector('.tile[data-camera="' + e.detail.camera + '"] .info')
      .textContent.replace(/\s+/g, ' ').trim();
    const frames = /frames (\d+)/.exec(text);
    const latency = /latency (\S+) ms/.exec(text);
    const want = s.lastLatencyMs === null ? '–' : s.lastLatencyMs.toFixed(0);
    rec.frames++;
    if (rec.first === null)
      rec.first = { text: text, frames: s.frames, latency: s.lastLatencyMs };
    if ((!frames || Number(frames[1]) !== s.frames || !latency || latency[1] !== want) &&
        rec.mismatches.length < 5)
      rec.mismatches.push('drawn ' + s.frames + ', latency ' + want + ': "' + text + '"');
  });
}

// Waits until @sample (an async function returning a sample with a pts, or
// null) returns a frame other than the one of @prev (pts) whose detection
// no label hides; after @ms, returns the last sample. A busy machine delays
// the browser's drawing in bursts: the samples are taken on new frames, not
// at fixed intervals that a stall can fill with one picture.
async function nextFrame(sample, prev, ms) {
  const deadline = Date.now() + ms;
  let s = null;
  for (;;) {
    s = await sample();
    if (s !== null && (prev === null || s.pts !== prev.pts) && !s.hidden)
      return s;
    if (Date.now() >= deadline)
      return s;
    await sleep(50);
  }
}

// What the sink sends a client that just connected, without a browser: a
// WebSocket handshake on /ws, then, per camera, the first message: when it
// came (ms after the handshake's answer), its seq, key flag and capture time.
// Resolves once every camera of @names sent one, or after @ms with what came.
function firstMessages(port, names, ms) {
  const http = require('http');
  return new Promise((resolve, reject) => {
    const first = {};
    let opened = null;
    let socket = null;
    const done = () => {
      clearTimeout(timer);
      if (socket)
        socket.destroy();
      resolve({ openedAt: opened, first: first });
    };
    const timer = setTimeout(done, ms);
    const req = http.request({ host: '127.0.0.1', port: port, path: '/ws', headers: {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': require('crypto').randomBytes(16).toString('base64') } });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      clearTimeout(timer);
      reject(new Error('no WebSocket: HTTP ' + res.statusCode));
    });
    req.on('upgrade', (res, sock, head) => {
      opened = Date.now();
      socket = sock;
      let buf = head;
      let parts = [];
      sock.on('data', (chunk) => {
        const now = Date.now();
        buf = Buffer.concat([buf, chunk]);
        // RFC 6455 frames from a server: not masked
        for (;;) {
          if (buf.length < 2)
            return;
          let len = buf[1] & 0x7f, at = 2;
          if (len === 126) {
            if (buf.length < 4)
              return;
            len = buf.readUInt16BE(2);
            at = 4;
          } else if (len === 127) {
            if (buf.length < 10)
              return;
            len = Number(buf.readBigUInt64BE(2));
            at = 10;
          }
          if (buf.length < at + len)
            return;
          const fin = (buf[0] & 0x80) !== 0, opcode = buf[0] & 0x0f;
          const payload = buf.subarray(at, at + len);
          buf = buf.subarray(at + len);
          if (opcode === 2 || (opcode === 0 && parts.length > 0))
            parts.push(payload);
          if (!fin || parts.length === 0)
            continue;
          const msg = Buffer.concat(parts);
          parts = [];
          const n = msg.readUInt32BE(0);
          const h = JSON.parse(msg.subarray(4, 4 + n).toString());
          if (!(h.camera in first)) {
            first[h.camera] = { after: now - opened, seq: h.seq, key: h.key,
              captureMs: h.capture_time_ns / 1e6 };
          }
          if (names.every((name) => name in first))
            return done();
        }
      });
    });
    req.end();
  });
}

// Records, per camera, the first message the page received (when, its seq)
// and the first two frames it drew. Installed before the page's own script
// runs.
function recordFirstFrames() {
  const rec = { received: {}, drawn: {}, second: {} };
  window.firstFrames = rec;
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener('message', (ev) => {
      const at = performance.now();
      if (!(ev.data instanceof ArrayBuffer) || ev.data.byteLength < 4)
        return;
      const n = new DataView(ev.data).getUint32(0, false);
      const h = JSON.parse(new TextDecoder().decode(new Uint8Array(ev.data, 4, n)));
      if (!(h.camera in rec.received))
        rec.received[h.camera] = { at: at, seq: h.seq, key: h.key };
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.addEventListener('viewerframe', (e) => {
    const s = window.viewerStats.cameras[e.detail.camera];
    if (!(e.detail.camera in rec.drawn))
      rec.drawn[e.detail.camera] = { at: s.firstDrawnAt, seq: s.lastDrawn.seq };
    else if (!(e.detail.camera in rec.second))
      rec.second[e.detail.camera] = { seq: s.lastDrawn.seq, key: s.lastDrawn.key };
  });
}

// The box is #00ff00; the 75% bars of smpte75 never get near g > 225
const isGreen = (p) => p[1] > 225 && p[0] < 60 && p[2] < 60;
const isWhite = (p) => p[0] > 190 && p[1] > 190 && p[2] > 190;

// ---- the wall: several cameras, H.264 and JPEG ----

// Two H.264 and two JPEG cameras with a 10 s GOP (300 frames at 30 fps)
const WALL = [
  { name: 'gate', codec: 'h264', pattern: 'smpte75' },
  { name: 'yard', codec: 'jpeg', pattern: 'smpte' },
  { name: 'dock', codec: 'h264', pattern: 'snow' },
  { name: 'roof', codec: 'jpeg', pattern: 'pinwheel' },
];
const WALL_GOP = 300;
const GOP_MS = WALL_GOP * 1000 / FPS;
const STALL_S = 2;

function wallCameras(page) {
  return page.evaluate(() => {
    const out = {};
    for (const [name, c] of Object.entries(window.viewerStats.cameras)) {
      const tile = document.querySelector('.tile[data-camera="' + name + '"]');
      const canvas = tile.querySelector('canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0, hash = 0;
      for (let i = 0; i < data.length; i += 4 * 7) {
        sum += data[i + 1];
        hash = (hash * 31 + data[i] + 3 * data[i + 1] + 7 * data[i + 2]) >>> 0;
      }
      const motion = c.lastDrawn && c.lastDrawn.detections.find((d) => d.type === 'motion');
      out[name] = {
        frames: c.frames, codec: c.codec, stalled: c.stalled, unsupported: c.unsupported,
        decodeErrors: c.decodeErrors, firstDrawnAt: c.firstDrawnAt,
        label: tile.querySelector('.name').textContent,
        info: tile.querySelector('.info').textContent.replace(/\s+/g, ' ').trim(),
        overlay: tile.querySelector('.overlay').textContent,
        tileClass: tile.className, visible: tile.offsetWidth > 0,
        mean: sum / (data.length / 28), hash: hash,
        motion: motion ? motion.x + ',' + motion.y : null,
        pts: c.lastDrawn ? c.lastDrawn.pts : null,
        drawnSeq: c.lastDrawn ? c.lastDrawn.seq : null,
        lastSeq: c.lastSeq, skipped: c.skipped, received: c.received, at: performance.now(),
      };
    }
    return out;
  });
}

// The frame on screen of @name, its "motion" detection and the pixels on the
// box's edge and in its middle, read in one task (see sampleDetection)
function sampleCameraDetection(page, name) {
  return page.evaluate((name) => {
    const s = window.viewerStats.cameras[name].lastDrawn;
    const d = s && s.detections.find((x) => x.type === 'motion');
    if (!d)
      return null;
    const c = document.querySelector('.tile[data-camera="' + name + '"] canvas');
    const ctx = c.getContext('2d');
    const px = (x, y) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data);
    let hidden = false;
    for (const l of s.labels || []) {
      if (l && d.x + d.w >= l.x - 2 && d.y <= l.y + l.h + 2 && d.x <= l.x + l.w + 2)
        hidden = true;
    }
    return { pts: s.pts, key: s.key, det: d, hidden: hidden,
      edgeTop: px(d.x + d.w / 2, d.y), edgeLeft: px(d.x, d.y + d.h / 2),
      centre: px(d.x + d.w / 2, d.y + d.h / 2) };
  }, name);
}

function driverCommand(driver, line) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('driver did not answer "' + line + '"')), 5000);
    const onData = (chunk) => {
      if (String(chunk).includes('OK ' + line)) {
        clearTimeout(timer);
        driver.proc.stdout.off('data', onData);
        resolve();
      }
    };
    driver.proc.stdout.on('data', onData);
    driver.proc.stdin.write(line + '\n');
  });
}

async function wallChecks(context, pageErrors) {
  let driver = null;
  const pages = [];
  try {
    driver = await startDriver(0, ['--gop', String(WALL_GOP)].concat(
      ...WALL.map((c) => ['--camera', c.name + ':' + c.codec + ':' + c.pattern])));
    const url = 'http://127.0.0.1:' + driver.port + '/?stall=' + STALL_S;
    let page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (e) => pageErrors.push('wall: ' + e.message));

    await check('a wall of 4 cameras (H.264 and JPEG) shows 4 moving pictures with their labels', async () => {
      await page.goto(url, { timeout: 15000 });
      await page.waitForFunction((n) => Object.values(window.viewerStats.cameras)
        .filter((c) => c.frames > 10).length === n, WALL.length, { timeout: 20000 });
      // The rate over 5 s: a busy machine delays the browser's drawing in
      // bursts, which a 1 s window cannot tell from a slow page
      const a = await wallCameras(page);
      await sleep(5000);
      const b = await wallCameras(page);
      for (const cam of WALL) {
        const x = a[cam.name], y = b[cam.name];
        assert(x && y, 'no tile for ' + cam.name + ': ' + Object.keys(b));
        const dt = (y.at - x.at) / 1000;
        // the rate against what the camera made in that time (see the
        // single camera's check): 15 of 30
        const made = y.lastSeq - x.lastSeq, got = y.received - x.received;
        const drawn = y.frames - x.frames;
        console.log('# ' + cam.name + ': ' + y.info + '; in ' + dt.toFixed(2) + ' s made ' +
          made + ', received ' + got + ', drew ' + drawn);
        assert(y.label === cam.name, 'tile of ' + cam.name + ' is labelled "' + y.label + '"');
        assert(y.codec === cam.codec, cam.name + ' arrives as ' + y.codec);
        assert(y.unsupported === null && y.decodeErrors === 0, cam.name + ': ' +
          y.unsupported + ', ' + y.decodeErrors + ' decode errors');
        // what the sink sent, then what the page drew of it
        assert(made > 0, cam.name + ': no frame in ' + dt.toFixed(2) + ' s');
        assert(got >= made / 2, cam.name + ' received ' + got + ' of ' + made + ' frames');
        assert(drawn >= made / 2, cam.name + ' drew ' + drawn + ' of ' + made + ' frames');
        assert(y.mean > 30, cam.name + ' is dark: mean green ' + y.mean.toFixed(1));
        assert(x.hash !== y.hash && x.motion !== y.motion, cam.name + ' did not move: ' +
          x.motion + ' -> ' + y.motion);
        assert(/\d+(\.\d)? fps/.test(y.info) && /latency -?\d+ ms/.test(y.info),
          cam.name + ' info "' + y.info + '" lacks fps or latency');
      }
    });

    await check('seq counts frames on every camera, H.264 after h264parse too', async () => {
      // h264parse and vp8enc put bytes and times in the buffer offset: a
      // seq taken from them would leap by thousands per frame, and the tile
      // would say "skipped 3743685". Compared with the frames the source
      // made between the two pictures drawn (their PTS, in frames at FPS),
      // not with the wall clock: a live source that was starved catches up
      // in a burst.
      const a = await wallCameras(page);
      await sleep(1000);
      // a new picture on every camera (within a GOP: a decoder that fell
      // behind starts again at the next key frame)
      let b = await wallCameras(page);
      const deadline = Date.now() + WALL_GOP * 1000 / FPS + 2000;
      while (WALL.some((c) => b[c.name].pts === a[c.name].pts) && Date.now() < deadline) {
        await sleep(50);
        b = await wallCameras(page);
      }
      for (const cam of WALL) {
        const x = a[cam.name], y = b[cam.name];
        const dseq = y.drawnSeq - x.drawnSeq;
        const made = Math.round((y.pts - x.pts) * FPS / 1e9);
        console.log('# ' + cam.name + ': seq ' + x.drawnSeq + ' -> ' + y.drawnSeq + ' over ' +
          made + ' frames of the source (PTS), skipped ' + y.skipped + ' of ' +
          (y.received + y.skipped));
        assert(made >= 1, cam.name + ': no new picture for ' + (WALL_GOP / FPS + 3) + ' s');
        assert(dseq >= 1 && dseq <= made, cam.name + ': seq went from ' + x.drawnSeq +
          ' to ' + y.drawnSeq + ' while the source made ' + made + ' frames');
      }
    });

    await check('H.264: the detection box is drawn on the frame it belongs to', async () => {
      for (const cam of WALL.filter((c) => c.codec === 'h264')) {
        const seen = new Set();
        let s = null;
        for (let i = 0; i < 5; i++) {
          // five different frames, each within a GOP (a decoder that fell
          // behind starts again at the next key frame)
          const prev = s;
          s = await nextFrame(() => sampleCameraDetection(page, cam.name), prev,
            WALL_GOP * 1000 / FPS + 2000);
          assert(s !== null, 'no motion detection on ' + cam.name);
          assert(prev === null || s.pts !== prev.pts, cam.name + ': no new picture for ' +
            (WALL_GOP / FPS + 2) + ' s');
          if (s.hidden)
            continue;
          const want = expectedSquare(s.pts);
          assert(s.det.x === want.x && s.det.y === want.y, cam.name + ': detection ' +
            JSON.stringify(s.det) + ' is not where the source put it ' + JSON.stringify(want));
          assert(isGreen(s.edgeTop) && isGreen(s.edgeLeft), cam.name + ': box edge ' +
            s.edgeTop + ' / ' + s.edgeLeft);
          // The white square of the decoded picture is inside the box drawn for it
          assert(isWhite(s.centre), cam.name + ': box centre is ' + s.centre +
            ', not the white square (box and picture from different frames)');
          seen.add(s.det.x + ',' + s.det.y);
        }
        assert(seen.size >= 3, cam.name + ': the box did not move: ' + [...seen].join(' '));
      }
    });

    await check('a late-joining page shows its first picture within 1 s (10 s GOP)', async () => {
      // Well inside a GOP: the last key frame is seconds old. The page's
      // part: its first picture of every camera is the key frame the sink
      // sent it first, not a later one it waited for. Loading the page and
      // starting a decoder are the browser's work, which on a busy machine
      // takes more than a second (1.6 s for an H.264 decoder at load 13 on
      // two cores): the time from navigation start is a figure, and the
      // window from the frame's arrival to the picture is a third of the
      // GOP, well below the wait for the camera's next key frame (up to the
      // GOP, half of it on average). The first page leaves: one wall of
      // four cameras is what the browser draws, and the late page is the
      // one the next checks use
      await page.close();
      pages.splice(pages.indexOf(page), 1);
      const late = await context.newPage();
      pages.push(late);
      page = late;
      late.on('pageerror', (e) => pageErrors.push('late: ' + e.message));
      await late.addInitScript(recordFirstFrames);
      await late.goto(url, { timeout: 15000 });
      await late.waitForFunction((n) => Object.keys(window.firstFrames.drawn).length === n,
        WALL.length, { timeout: 10000 });
      const rec = await late.evaluate(() => window.firstFrames);
      console.log('# first picture after navigation start (ms): ' + JSON.stringify(
        Object.fromEntries(Object.entries(rec.drawn).map(([n, d]) => [n, Math.round(d.at)]))) +
        '; after the page received its frame: ' + JSON.stringify(Object.fromEntries(
        Object.entries(rec.drawn).map(([n, d]) => [n, Math.round(d.at - rec.received[n].at)]))));
      for (const cam of WALL) {
        const r = rec.received[cam.name], d = rec.drawn[cam.name];
        assert(r.key === true, cam.name + ': the page first received a delta frame');
        assert(d.seq === r.seq, cam.name + ': first picture is frame ' + d.seq +
          ', not the key frame ' + r.seq + ' the page got first');
        assert(d.at - r.at < GOP_MS / 3, cam.name + ': first picture ' +
          (d.at - r.at).toFixed(0) + ' ms after the page received it');
      }
      // And live from the next key frame on, which the sink asked for: the
      // next picture of an H.264 camera is a key frame, or the frame right
      // after the first when that was the newest (a delta whose reference
      // the page did not get would be garbage); from then on the rate
      // over 5 s, 15 of 30 (see the wall's check)
      await late.waitForFunction((n) => Object.keys(window.firstFrames.second).length === n,
        WALL.length, { timeout: GOP_MS + 5000 });
      const second = await late.evaluate(() => window.firstFrames.second);
      console.log('# the next picture after the first: ' + JSON.stringify(second));
      for (const cam of WALL) {
        assert(second[cam.name].seq > rec.drawn[cam.name].seq, cam.name + ': went back to ' +
          second[cam.name].seq + ' after ' + rec.drawn[cam.name].seq);
        assert(second[cam.name].key || second[cam.name].seq === rec.drawn[cam.name].seq + 1,
          cam.name + ': the picture after the first (' + rec.drawn[cam.name].seq +
          ') is delta frame ' + second[cam.name].seq);
      }
      const a = await wallCameras(late);
      await sleep(5000);
      const b = await wallCameras(late);
      for (const cam of WALL) {
        const x = a[cam.name], y = b[cam.name];
        const made = y.lastSeq - x.lastSeq, drawn = y.frames - x.frames;
        assert(made > 0 && drawn >= made / 2, cam.name + ' drew ' + drawn + ' of the ' + made +
          ' frames the camera made in the ' + ((y.at - x.at) / 1000).toFixed(2) +
          ' s after joining');
      }
      // The sink's part, without a browser (after the page, whose own
      // joining would otherwise find the key frames this client's joining
      // asked for): every camera's last key frame, sent at once to a
      // client that connects
      const sent = await firstMessages(driver.port, WALL.map((c) => c.name), 10000);
      console.log('# a client that connects gets (ms after the handshake): ' + JSON.stringify(
        Object.fromEntries(Object.entries(sent.first).map(([n, f]) => [n, f.after]))));
      for (const cam of WALL) {
        const f = sent.first[cam.name];
        assert(f !== undefined, cam.name + ': nothing within 10 s of connecting');
        assert(f.key === true, cam.name + ': the first frame sent is not a key frame');
        assert(f.captureMs < sent.openedAt, cam.name + ': the first frame sent was captured ' +
          (f.captureMs - sent.openedAt).toFixed(0) + ' ms after connecting, not the last key frame');
        assert(f.after < 1000, cam.name + ': the last key frame came ' + f.after +
          ' ms after connecting');
      }
    });

    await check('an H.264 tile whose decoder fell behind goes on at the key frame it asks for (10 s GOP)', async () => {
      // The next H.264 frame finds its decoder more than 30 frames behind
      // (a stand-in for a browser that could not keep up): the page starts
      // the decoder again and asks the sink for a key frame, rather than
      // wait up to the 10 s GOP
      await page.evaluate(() => {
        const rec = { at: null, seqs: null, after: {} };
        window.fellBehind = rec;
        const proto = VideoDecoder.prototype;
        const native = Object.getOwnPropertyDescriptor(proto, 'decodeQueueSize');
        Object.defineProperty(proto, 'decodeQueueSize', { configurable: true, get() {
          if (rec.at !== null)
            return native.get.call(this);
          rec.at = performance.now();
          rec.seqs = Object.fromEntries(Object.entries(window.viewerStats.cameras)
            .map(([n, c]) => [n, { seq: c.lastSeq, requests: c.keyFrameRequests }]));
          return 1000;
        } });
        window.addEventListener('viewerframe', (e) => {
          const c = window.viewerStats.cameras[e.detail.camera];
          if (rec.at !== null && !(e.detail.camera in rec.after))
            rec.after[e.detail.camera] = { seq: c.lastDrawn.seq, key: c.lastDrawn.key };
        });
      });
      const h264 = WALL.filter((c) => c.codec === 'h264').map((c) => c.name);
      const behind = await page.waitForFunction((names) => {
        const rec = window.fellBehind;
        const name = rec.at === null ? undefined : names.find((n) =>
          window.viewerStats.cameras[n].keyFrameRequests > rec.seqs[n].requests);
        return name !== undefined && name in rec.after ? name : null;
      }, h264, { timeout: (WALL_GOP / FPS + 5) * 1000 }).then((h) => h.jsonValue());
      const rec = await page.evaluate(() => window.fellBehind);
      const from = rec.seqs[behind].seq, next = rec.after[behind];
      console.log('# ' + behind + ' fell behind at frame ' + from + ', went on at frame ' +
        next.seq + (next.key ? ' (a key frame)' : ''));
      assert(next.key, behind + ': the first picture after falling behind is a delta frame');
      // The key frame asked for comes within a second or so of frames
      // (the sink asks at most once a second); the camera's own next one
      // could be up to 300 frames away
      assert(next.seq - from <= 3 * FPS, behind + ': went on ' + (next.seq - from) +
        ' frames after falling behind');
    });

    await check('a camera that stops is shown as stalled, and live again when it resumes', async () => {
      await driverCommand(driver, 'stop yard');
      await page.waitForFunction(() => window.viewerStats.cameras.yard.stalled, null,
        { timeout: (STALL_S + 5) * 1000 });
      const s = await wallCameras(page);
      console.log('# yard: ' + s.yard.overlay);
      assert(/stalled/.test(s.yard.tileClass) && /STALLED/.test(s.yard.overlay),
        'yard tile "' + s.yard.tileClass + '", overlay "' + s.yard.overlay + '"');
      for (const cam of WALL.filter((c) => c.name !== 'yard'))
        assert(!s[cam.name].stalled, cam.name + ' is shown as stalled too');
      await driverCommand(driver, 'start yard');
      await page.waitForFunction(() => !window.viewerStats.cameras.yard.stalled, null,
        { timeout: 10000 });
    });

    await check('a click shows one camera large, another click the wall again', async () => {
      await page.click('.tile[data-camera="dock"]');
      let s = await wallCameras(page);
      assert(/large/.test(s.dock.tileClass) && s.dock.visible, 'dock is not large');
      for (const cam of WALL.filter((c) => c.name !== 'dock'))
        assert(!s[cam.name].visible, cam.name + ' is still shown');
      await page.click('.tile[data-camera="dock"]');
      s = await wallCameras(page);
      for (const cam of WALL)
        assert(s[cam.name].visible && !/large/.test(s[cam.name].tileClass),
          cam.name + ' after the second click: ' + s[cam.name].tileClass);
    });

    await check('without WebCodecs the page says why H.264 is not shown', async () => {
      const plain = await context.newPage();
      pages.push(plain);
      await plain.addInitScript(() => { delete window.VideoDecoder; });
      await plain.goto(url, { timeout: 15000 });
      await plain.waitForFunction(() => window.viewerStats.cameras.gate &&
        window.viewerStats.cameras.gate.unsupported !== null &&
        window.viewerStats.cameras.yard && window.viewerStats.cameras.yard.frames > 5,
      null, { timeout: 10000 });
      const s = await wallCameras(plain);
      console.log('# gate without WebCodecs: ' + s.gate.overlay);
      assert(/WebCodecs/.test(s.gate.overlay), 'gate says "' + s.gate.overlay + '"');
      assert(s.yard.unsupported === null, 'JPEG is refused too: ' + s.yard.unsupported);
      await plain.close();
      pages.pop();
    });
  } finally {
    for (const p of pages)
      await p.close().catch(() => {});
    if (driver !== null)
      await stopDriver(driver.proc);
  }
}

// ---- a real model through Redis: faces from pyframeproc on the page ----

const spawned = new Set();

// Starts cmd in its own process group, output to log; stopped by killing
// the group (by its pid)
function startProcess(cmd, args, env, log) {
  const fd = fs.openSync(log, 'a');
  const proc = spawn(cmd, args, { env: env, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  spawned.add(proc);
  proc.on('exit', () => spawned.delete(proc));
  return proc;
}

async function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    process.kill(-proc.pid, 'SIGINT');
  } catch (e) {
    return;
  }
  if (await Promise.race([exited, sleep(5000).then(() => 'timeout')]) === 'timeout') {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch (e) {
      // gone
    }
    await exited;
  }
}

process.on('exit', () => {
  for (const proc of spawned) {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch (e) {
      // gone
    }
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      srv.close(() => resolve(port));
    });
  });
}

// true once the server on the unix socket answers PING
function redisPing(sock) {
  return new Promise((resolve) => {
    const c = net.createConnection(sock);
    let out = '';
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      out += d;
      if (out.includes('+PONG')) {
        c.destroy();
        resolve(true);
      }
    });
    c.on('error', () => resolve(false));
    setTimeout(() => { c.destroy(); resolve(false); }, 1000);
  });
}

function faceMissing() {
  const missing = [];
  if (!process.env.REDIS_SERVER)
    missing.push('redis-server');
  const python = process.env.PYTHON || '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import cv2, numpy']).status !== 0)
    missing.push('python3-opencv');
  if (!fs.existsSync(CASCADE))
    missing.push('opencv-data');
  if (!fs.existsSync(PHOTO))
    missing.push('python-matplotlib-data');
  return missing;
}

// The face on the frame shown: its detection, its label, and pixels on the
// box's edge, read in one task
function sampleFace(page) {
  return page.evaluate(() => {
    const s = window.viewerStats.cameras.camera && window.viewerStats.cameras.camera.lastDrawn;
    if (!s)
      return null;
    const i = s.detections.findIndex((d) => d.type === 'face');
    if (i < 0)
      return { detections: s.detections };
    const d = s.detections[i];
    const c = document.querySelector('.tile[data-camera="camera"] canvas');
    const ctx = c.getContext('2d');
    const px = (x, y) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data);
    return { det: d, label: s.labels[i], canvas: [c.width, c.height],
      edgeBottom: px(d.x + d.w / 2, d.y + d.h), edgeLeft: px(d.x, d.y + d.h / 2),
      edgeRight: px(d.x + d.w, d.y + d.h / 2) };
  });
}

async function faceChecks(context, pageErrors) {
  const name = 'a face found by pyframeproc (OpenCV in pipelines/processor) is drawn with ' +
    'its label and score';
  const missing = faceMissing();
  if (missing.length > 0) {
    skip(name, missing.join(', ') + ' not found (pipelines/install-deps --tests)');
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsviewer-faces-'));
  const sock = path.join(tmp, 'redis.sock');
  const procs = [];
  let page = null;
  try {
    await check(name, async () => {
      procs.push(startProcess(process.env.REDIS_SERVER, ['--port', '0', '--unixsocket', sock,
        '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', tmp],
      process.env, path.join(tmp, 'redis.log')));
      for (let i = 0; i < 100 && !(await redisPing(sock)); i++)
        await sleep(100);
      assert(await redisPing(sock), 'redis-server did not start');
      const port = await freePort();
      const env = Object.assign({}, process.env, {
        REDIS_SOCKET: sock, INPUT_STREAM: 'faces-in', OUTPUT_STREAM: 'faces-out',
        VIEWER_PORT: String(port), CONSUMER: 'browser',
        PROCESS_PY: path.join(TOP, 'docs', 'examples', 'python', 'facedetect.py'),
      });
      delete env.DISPLAY;
      // the photo, 640x480, as a live camera at 10 fps: the cascade keeps up
      procs.push(startProcess('gst-launch-1.0', ['filesrc', 'location=' + PHOTO, '!',
        'jpegdec', '!', 'imagefreeze', 'is-live=true', '!', 'videoscale', 'add-borders=true', '!',
        'videoconvert', '!',
        'video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1,framerate=10/1',
        '!', 'redisstreamsink', 'socket-path=' + sock, 'stream=faces-in', 'maxlen=100'],
      env, path.join(tmp, 'producer.log')));
      procs.push(startProcess('bash', [path.join(TOP, 'pipelines', 'processor')], env,
        path.join(tmp, 'processor.log')));
      procs.push(startProcess('bash', [path.join(TOP, 'pipelines', 'viewer')], env,
        path.join(tmp, 'viewer.log')));
      page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push('faces: ' + e.message));
      const url = 'http://127.0.0.1:' + port + '/';
      let loaded = false;
      for (let i = 0; i < 60 && !loaded; i++) {
        try {
          await page.goto(url, { timeout: 5000 });
          loaded = true;
        } catch (e) {
          await sleep(500);
        }
      }
      const logs = () => ['producer', 'processor', 'viewer'].map((n) => n + ': ' +
        (fs.existsSync(path.join(tmp, n + '.log')) ?
          fs.readFileSync(path.join(tmp, n + '.log'), 'utf8').slice(-600) : '')).join('\n');
      assert(loaded, 'the viewer did not serve its page:\n' + logs());
      try {
        await page.waitForFunction(() => {
          const c = window.viewerStats && window.viewerStats.cameras.camera;
          return c && c.frames > 3 && c.lastDrawn &&
            c.lastDrawn.detections.some((d) => d.type === 'face');
        }, null, { timeout: 60000 });
      } catch (e) {
        throw new Error('no face on the page within 60 s:\n' + logs());
      }
      let s = null;
      for (let i = 0; i < 20; i++) {
        s = await sampleFace(page);
        if (s && s.det)
          break;
        await sleep(100);
      }
      assert(s && s.det, 'the frame shown has no face: ' + JSON.stringify(s));
      console.log('# face ' + JSON.stringify(s.det) + ', label ' + JSON.stringify(s.label));
      const d = s.det;
      // the photo's face, scaled into 640x480: around (232, 80), 192x192
      assert(s.canvas[0] === 640 && s.canvas[1] === 480, 'canvas ' + s.canvas);
      assert(d.x > 180 && d.x < 290 && d.y > 30 && d.y < 140 && d.w > 120 && d.w < 260,
        'the face box ' + JSON.stringify(d) + ' is not on the face');
      assert(typeof d.score === 'number' && d.score > 0, 'no score: ' + JSON.stringify(d));
      assert(s.label && s.label.text === 'face ' + d.score.toFixed(2),
        'label ' + JSON.stringify(s.label) + ', not "face ' + d.score.toFixed(2) + '"');
      assert(isGreen(s.edgeBottom) && isGreen(s.edgeLeft) && isGreen(s.edgeRight),
        'box edges ' + s.edgeBottom + ' / ' + s.edgeLeft + ' / ' + s.edgeRight +
        ' are not the box colour');
      await page.screenshot({ path: FACE_SCREENSHOT });
      console.log('# screenshot: ' + FACE_SCREENSHOT);
    });
  } finally {
    if (page !== null)
      await page.close().catch(() => {});
    for (const proc of procs.reverse())
      await stopProcess(proc);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  assert(DRIVER, 'DRIVER is not set (run through meson test)');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsviewer-chromium-'));
  let context = null;
  let driver = null;
  const pageErrors = [];

  try {
    driver = await startDriver(0);
    const port = driver.port;
    const url = 'http://127.0.0.1:' + port + '/';

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu',
        '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
      viewport: { width: 800, height: 600 },
    });
    const page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.addInitScript(recordStatusPerFrame);
    const pwVersion = JSON.parse(fs.readFileSync(path.join(
      path.dirname(require.resolve('playwright-core')), 'package.json'))).version;
    console.log('# node ' + process.version + ', playwright-core ' + pwVersion +
      ', ' + CHROMIUM);

    await check('page loads and receives frames', async () => {
      await page.goto(url, { timeout: 15000 });
      await page.waitForFunction(() => window.viewerStats &&
        window.viewerStats.connected && window.viewerStats.cameras.camera &&
        window.viewerStats.cameras.camera.frames > 5,
        null, { timeout: 15000 });
      console.log('# ' + await page.evaluate(() => navigator.userAgent));
    });

    await check('the status line describes the frame on screen, from the first', async () => {
      const rec = await page.evaluate(() => window.statusRecord);
      assert(rec && rec.first !== null, 'no "viewerframe" event after a drawn frame');
      console.log('# status at the first frame: ' + rec.first.text);
      assert(rec.first.frames >= 1, 'first event with ' + rec.first.frames + ' frames drawn');
      const frames = /frames (\d+)/.exec(rec.first.text);
      assert(frames && Number(frames[1]) >= 1, 'a frame is drawn, the status says "' +
        rec.first.text + '"');
      const latency = /latency (-?\d+) ms/.exec(rec.first.text);
      assert(latency && Number.isFinite(Number(latency[1])),
        'the frame carries its capture time, the status says "' + rec.first.text + '"');
      assert(rec.mismatches.length === 0, rec.mismatches.length + ' of ' + rec.frames +
        ' frames out of step: ' + rec.mismatches.join('; '));
    });

    await check('frames advance at the source rate (20 of every 30 drawn)', async () => {
      // Over 5 s: a busy machine delays the browser's drawing in bursts.
      // The source rate is what the camera made in that time (the seq of
      // the newest frame that reached the page): on a busy machine a live
      // source makes fewer than 30 a second, then catches up
      const a = await stats(page);
      const t0 = Date.now();
      await sleep(5000);
      const b = await stats(page);
      const dt = (Date.now() - t0) / 1000;
      const made = b.lastSeq - a.lastSeq, got = b.received - a.received;
      const drawn = b.frames - a.frames;
      console.log('# in ' + dt.toFixed(2) + ' s the camera made ' + made + ' frames (' +
        (made / dt).toFixed(1) + ' fps), the page received ' + got + ', drew ' + drawn + ' (' +
        (drawn / dt).toFixed(1) + ' fps); page reports ' + b.fps + ' fps, skipped ' + b.skipped +
        ', dropped ' + b.dropped);
      // what the sink sent, then what the page drew of it: 20 of 30
      assert(made > 0, 'no frame in ' + dt.toFixed(2) + ' s');
      assert(got >= made * 2 / 3, 'received ' + got + ' of ' + made + ' frames');
      assert(drawn >= made * 2 / 3, 'drew ' + drawn + ' of ' + made + ' frames');
      assert(b.decodeErrors === 0 && b.badMessages === 0,
        'decode errors ' + b.decodeErrors + ', bad messages ' + b.badMessages);
    });

    await check('the canvas is never black', async () => {
      let lastFrames = -1;
      for (let i = 0; i < 10; i++) {
        const s = await sampleCanvas(page);
        assert(s.mean > 40 && s.darkFraction < 0.5, 'sample ' + i + ': mean luma ' +
          s.mean.toFixed(1) + ', ' + (100 * s.darkFraction).toFixed(0) + '% dark');
        lastFrames = s.frames;
        await sleep(100);
      }
      assert(lastFrames > 0, 'no frame drawn');
    });

    await check('the detection box is drawn around the moving square', async () => {
      const seen = new Set();
      let s = null;
      for (let i = 0; i < 5; i++) {
        // five different frames, at least 300 ms apart
        const prev = s;
        if (prev !== null)
          await sleep(300);
        s = await nextFrame(() => sampleDetection(page), prev, 5000);
        assert(s !== null, 'no motion detection on the frame shown');
        assert(prev === null || s.pts !== prev.pts, 'no new picture for 5 s');
        if (s.hidden)
          continue;
        assert(s.canvas[0] === WIDTH && s.canvas[1] === HEIGHT, 'canvas ' + s.canvas);
        const want = expectedSquare(s.pts);
        assert(s.det.type === 'motion', 'type ' + s.det.type);
        assert(s.det.x === want.x && s.det.y === want.y && s.det.w === want.w &&
          s.det.h === want.h, 'detection ' + JSON.stringify(s.det) +
          ' is not where the source put it ' + JSON.stringify(want));
        assert(isGreen(s.edgeTop) && isGreen(s.edgeLeft), 'box edge is ' +
          s.edgeTop + ' / ' + s.edgeLeft + ', not the box colour');
        // The square in the picture is inside the box drawn for that picture
        assert(isWhite(s.centre), 'box centre is ' + s.centre + ', not the white square');
        seen.add(s.det.x + ',' + s.det.y);
      }
      assert(seen.size >= 3, 'the box did not move: ' + [...seen].join(' '));
    });

    await check('a label at the canvas edge is kept whole on the canvas', async () => {
      let s = null;
      for (let i = 0; i < 50; i++) {
        s = await sampleEdgeLabel(page);
        if (s.error || s.clear)
          break;
        await sleep(100);
      }
      assert(!s.error, s.error);
      const d = s.det, l = s.label;
      assert(d.x === EDGE.x && d.y === EDGE.y && d.w === EDGE.w && d.h === EDGE.h &&
        d.score === EDGE.score, 'detection ' + JSON.stringify(d) + ', not ' + JSON.stringify(EDGE));
      assert(l !== null, 'no label drawn');
      console.log('# corner label ' + JSON.stringify(l) + ', ' + s.ink + ' ink pixels at its end');
      assert(l.text === 'person 0.75', 'label "' + l.text + '"');
      assert(l.w > 10 && l.h > 4, 'label extent ' + l.w + 'x' + l.h);
      assert(l.x >= 0 && l.y >= 0 && l.x + l.w <= s.canvas[0] && l.y + l.h <= s.canvas[1],
        'label [' + l.x.toFixed(1) + ', ' + l.y.toFixed(1) + '] + ' + l.w.toFixed(1) + 'x' +
        l.h.toFixed(1) + ' leaves the ' + s.canvas.join('x') + ' canvas');
      assert(s.clear, 'the moving box stayed over the label');
      assert(s.ink >= 3, 'only ' + s.ink + ' label-coloured pixels where the score ends');
    });

    await check('the status line shows the latency', async () => {
      await page.waitForFunction(() => /latency\s+-?\d+\s*ms\s*\(avg\s+-?\d+\s*ms\)/
        .test(document.querySelector('.tile[data-camera="camera"] .info').textContent), null,
        { timeout: 5000 });
      const s = await stats(page);
      const text = await page.textContent('.tile[data-camera="camera"] .info');
      console.log('# status: ' + text.replace(/\s+/g, ' ').trim());
      assert(Number.isFinite(s.lastLatencyMs) && s.lastLatencyMs > -50 &&
        s.lastLatencyMs < 2000, 'latency ' + s.lastLatencyMs + ' ms');
      assert(/\d+(\.\d)? fps/.test(text), 'no fps in "' + text + '"');
    });

    await check('screenshot saved', async () => {
      await page.screenshot({ path: SCREENSHOT });
      assert(fs.statSync(SCREENSHOT).size > 1000, 'empty screenshot');
      console.log('# screenshot: ' + SCREENSHOT);
    });

    await check('page reloads leave no connections behind in the server', async () => {
      const fds = () => fs.readdirSync('/proc/' + driver.proc.pid + '/fd').length;
      const before = fds();
      for (let i = 0; i < 10; i++) {
        await page.reload({ timeout: 15000 });
        await page.waitForFunction(() => window.viewerStats.connected &&
          window.viewerStats.cameras.camera && window.viewerStats.cameras.camera.frames > 0,
          null, { timeout: 15000 });
      }
      // Closing finishes asynchronously in the server
      let after = fds();
      for (let i = 0; i < 50 && after > before; i++) {
        await sleep(100);
        after = fds();
      }
      console.log('# server fds: ' + before + ' before 10 reloads, ' + after + ' after');
      assert(after <= before + 1, before + ' fds before, ' + after + ' after');
    });

    await check('the page reconnects when the pipeline comes back', async () => {
      await stopDriver(driver.proc);
      driver = null;
      await page.waitForFunction(() => !window.viewerStats.connected, null,
        { timeout: 10000 });
      const before = await stats(page);
      // The last picture stays up while the server is away
      const s = await sampleCanvas(page);
      assert(s.mean > 40, 'canvas went dark while disconnected');
      await sleep(1000);

      // Same port; a few tries in case the old socket lingers
      let lastError = null;
      for (let i = 0; i < 10 && driver === null; i++) {
        try {
          driver = await startDriver(port);
        } catch (e) {
          lastError = e;
          await sleep(500);
        }
      }
      assert(driver !== null, 'could not restart on port ' + port + ': ' + lastError);
      await page.waitForFunction((n) => window.viewerStats.connected &&
        window.viewerStats.cameras.camera.frames > n + 10, before.frames, { timeout: 20000 });
      const after = await stats(page);
      assert(after.connects >= 2, 'connects ' + after.connects);
      const state = await page.textContent('#state');
      assert(state === 'live', 'state "' + state + '"');
    });

    await wallChecks(context, pageErrors);

    await faceChecks(context, pageErrors);

    await check('no script errors on the page', async () => {
      assert(pageErrors.length === 0, pageErrors.join('; '));
    });
  } finally {
    if (driver !== null)
      await stopDriver(driver.proc);
    if (context !== null)
      await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

const overall = setTimeout(() => {
  console.log('not ok - the test did not finish in ' + OVERALL_TIMEOUT_MS / 1000 + ' s');
  killAllDriversSync();
  const passed = results.filter((r) => r.ok).length;
  console.log(passed + ' passed, ' + (results.length - passed + 1) + ' failed');
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

main().catch((e) => {
  results.push({ name: 'setup', ok: false });
  console.log('not ok - setup: ' + (e && e.stack ? e.stack : e));
}).finally(() => {
  clearTimeout(overall);
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(passed + ' passed, ' + failed + ' failed' +
    (skipped.length ? ', ' + skipped.length + ' skipped' : ''));
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});

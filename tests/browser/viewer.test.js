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
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (e) => pageErrors.push('wall: ' + e.message));

    await check('a wall of 4 cameras (H.264 and JPEG) shows 4 moving pictures with their labels', async () => {
      await page.goto(url, { timeout: 15000 });
      await page.waitForFunction((n) => Object.values(window.viewerStats.cameras)
        .filter((c) => c.frames > 10).length === n, WALL.length, { timeout: 20000 });
      const a = await wallCameras(page);
      await sleep(1000);
      const b = await wallCameras(page);
      for (const cam of WALL) {
        const x = a[cam.name], y = b[cam.name];
        assert(x && y, 'no tile for ' + cam.name + ': ' + Object.keys(b));
        console.log('# ' + cam.name + ': ' + y.info);
        assert(y.label === cam.name, 'tile of ' + cam.name + ' is labelled "' + y.label + '"');
        assert(y.codec === cam.codec, cam.name + ' arrives as ' + y.codec);
        assert(y.unsupported === null && y.decodeErrors === 0, cam.name + ': ' +
          y.unsupported + ', ' + y.decodeErrors + ' decode errors');
        assert(y.frames - x.frames >= 15, cam.name + ' drew ' + (y.frames - x.frames) + ' frames in 1 s');
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
      // would say "skipped 3743685"
      const a = await wallCameras(page);
      await sleep(1000);
      const b = await wallCameras(page);
      for (const cam of WALL) {
        const x = a[cam.name], y = b[cam.name];
        const dt = (y.at - x.at) / 1000;
        const dseq = y.lastSeq - x.lastSeq;
        console.log('# ' + cam.name + ': seq ' + x.lastSeq + ' -> ' + y.lastSeq + ' in ' +
          dt.toFixed(2) + ' s, skipped ' + y.skipped + ' of ' + (y.received + y.skipped));
        assert(dseq >= 1 && dseq <= FPS * dt * 1.5 + 5, cam.name + ': seq went from ' +
          x.lastSeq + ' to ' + y.lastSeq + ' in ' + dt.toFixed(2) + ' s at ' + FPS + ' fps');
      }
    });

    await check('H.264: the detection box is drawn on the frame it belongs to', async () => {
      for (const cam of WALL.filter((c) => c.codec === 'h264')) {
        const seen = new Set();
        for (let i = 0, tries = 0; i < 5 && tries < 40; tries++) {
          const s = await sampleCameraDetection(page, cam.name);
          assert(s !== null, 'no motion detection on ' + cam.name);
          if (s.hidden) {
            await sleep(50);
            continue;
          }
          const want = expectedSquare(s.pts);
          assert(s.det.x === want.x && s.det.y === want.y, cam.name + ': detection ' +
            JSON.stringify(s.det) + ' is not where the source put it ' + JSON.stringify(want));
          assert(isGreen(s.edgeTop) && isGreen(s.edgeLeft), cam.name + ': box edge ' +
            s.edgeTop + ' / ' + s.edgeLeft);
          // The white square of the decoded picture is inside the box drawn for it
          assert(isWhite(s.centre), cam.name + ': box centre is ' + s.centre +
            ', not the white square (box and picture from different frames)');
          seen.add(s.det.x + ',' + s.det.y);
          i++;
          await sleep(150);
        }
        assert(seen.size >= 3, cam.name + ': the box did not move: ' + [...seen].join(' '));
      }
    });

    await check('a late-joining page shows its first picture within 1 s (10 s GOP)', async () => {
      // Well inside a GOP: the last key frame is seconds old
      const late = await context.newPage();
      pages.push(late);
      late.on('pageerror', (e) => pageErrors.push('late: ' + e.message));
      await late.goto(url, { timeout: 15000 });
      await late.waitForFunction((n) => Object.values(window.viewerStats.cameras)
        .filter((c) => c.firstDrawnAt !== null).length === n, WALL.length, { timeout: 10000 });
      const first = await late.evaluate(() => Object.fromEntries(Object.entries(
        window.viewerStats.cameras).map(([n, c]) => [n, c.firstDrawnAt])));
      console.log('# first picture after navigation start (ms): ' + JSON.stringify(first));
      for (const cam of WALL)
        assert(first[cam.name] < 1000, cam.name + ': first picture after ' +
          first[cam.name].toFixed(0) + ' ms');
      // And live from the next key frame on, which the sink asked for
      const a = await wallCameras(late);
      await sleep(2000);
      const b = await wallCameras(late);
      for (const cam of WALL) {
        const n = b[cam.name].frames - a[cam.name].frames;
        assert(n >= 30, cam.name + ' drew ' + n + ' frames in the 2 s after joining');
      }
      await late.close();
      pages.pop();
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

    await check('frames advance at the source rate (>= 20 fps of 30)', async () => {
      const a = await stats(page);
      const t0 = Date.now();
      await sleep(3000);
      const b = await stats(page);
      const fps = (b.frames - a.frames) / ((Date.now() - t0) / 1000);
      console.log('# drawn ' + fps.toFixed(1) + ' fps, page reports ' + b.fps +
        ', skipped ' + b.skipped + ', dropped ' + b.dropped);
      assert(fps >= 20, 'only ' + fps.toFixed(1) + ' fps');
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
      let hidden = 0;
      for (let i = 0; i < 5; i++) {
        const s = await sampleDetection(page);
        assert(s !== null, 'no motion detection on the frame shown');
        if (s.hidden && hidden < 20) {
          hidden++;
          i--;
          await sleep(100);
          continue;
        }
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
        await sleep(300);
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

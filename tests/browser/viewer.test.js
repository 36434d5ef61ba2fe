#!/usr/bin/env node
// Browser test of websocketsink's viewer page.
//
// Starts websocketsink-driver (videotestsrc ! jpegenc ! websocketsink with a
// moving white square and a "motion" ROI meta around it), opens the page in
// Debian's chromium through playwright-core, and checks what a person would
// see: live video at the source's rate, never black, the detection box drawn
// around the square, a label in the corner kept whole on the canvas, a status
// line that describes the frame on screen, the latency figure, and the page
// coming back by itself after the pipeline restarts. Prints "N passed, N
// failed".
//
// Environment (set by meson): DRIVER, CHROMIUM, TEST_BUILD_DIR,
// GST_PLUGIN_PATH_1_0, GST_REGISTRY.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const DRIVER = process.env.DRIVER;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BUILD_DIR = process.env.TEST_BUILD_DIR || process.cwd();
const SCREENSHOT = path.join(BUILD_DIR, 'websocketsink-viewer.png');
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

function startDriver(port) {
  return new Promise((resolve, reject) => {
    const proc = spawn(DRIVER, ['--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
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

const stats = (page) => page.evaluate(() => Object.assign({}, window.viewerStats));

// Luma statistics of the whole canvas, in the page
function sampleCanvas(page) {
  return page.evaluate(() => {
    const c = document.getElementById('video');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0, dark = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const l = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += l;
      if (l < 16)
        dark++;
    }
    return { mean: sum / n, darkFraction: dark / n, frames: window.viewerStats.frames };
  });
}

// The frame on screen, its "motion" detection, and pixels on the box's edge
// and in its middle: all read in one task, so they belong together. hidden
// says a label is drawn over one of those pixels (the corner label when the
// square passes under it): such a sample says nothing about the box.
function sampleDetection(page) {
  return page.evaluate(() => {
    const s = window.viewerStats.lastDrawn;
    if (!s)
      return null;
    const d = s.detections.find((x) => x.type === 'motion');
    if (!d)
      return null;
    const c = document.getElementById('video');
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
    const s = window.viewerStats.lastDrawn;
    if (!s || !Array.isArray(s.labels))
      return { error: 'the page exposes no label geometry (lastDrawn.labels)' };
    const i = s.detections.findIndex((x) => x.type === 'person');
    if (i < 0)
      return { error: 'no "person" detection on the frame shown' };
    const l = s.labels[i];
    const c = document.getElementById('video');
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
  window.addEventListener('viewerframe', () => {
    const s = window.viewerStats;
    const text = document.getElementById('status').textContent.replace(/\s+/g, ' ').trim();
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
        window.viewerStats.connected && window.viewerStats.frames > 5,
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
        .test(document.getElementById('status').textContent), null, { timeout: 5000 });
      const s = await stats(page);
      const text = await page.textContent('#status');
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
          window.viewerStats.frames > 0, null, { timeout: 15000 });
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
        window.viewerStats.frames > n + 10, before.frames, { timeout: 20000 });
      const after = await stats(page);
      assert(after.connects >= 2, 'connects ' + after.connects);
      const state = await page.textContent('#state');
      assert(state === 'live', 'state "' + state + '"');
    });

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
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});

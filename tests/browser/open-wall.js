#!/usr/bin/env node
// Opens websocketsink's viewer page (the camera wall) in Debian's chromium,
// headless, as an operator does, watches it for a while and prints what it
// saw as one JSON line. Used by the Python tests that run the whole system:
// tests/e2e (pipelines/demo --tls) and tests/deployment (the wall over HTTPS
// from another network namespace); they make the assertions.
//
//   node open-wall.js URL [--spki HASH] [--seconds S] [--cameras N]
//                         [--timeout S]
//   (or the URL in the environment variable WALL_URL, so that a token in it
//   stays off the command line)
//   node open-wall.js --check      exits 0 when playwright-core loads (run
//                                  through run.sh, which installs it)
//
//   --spki HASH   trust the CA (or server) whose public key has this SHA-256
//                 (base64, Chromium's --ignore-certificate-errors-spki-list);
//                 without it only the system's CAs are trusted
//   --cameras N   wait (up to --timeout [30] s) until N cameras have drawn a
//                 frame, or for N tiles when nothing is drawn (a page that
//                 cannot decode), before watching
//   --seconds S   then watch for S [10] s
//
// The JSON: {url, status, error (a navigation error such as
// net::ERR_CERT_AUTHORITY_INVALID, or null), secure, protocol, webcodecs,
// connected, start_ms and end_ms (Date.now () of the watch), cameras: {NAME:
// {frames, received, dropped, skipped, decodeErrors, unsupported, overlay
// (the text the tile shows over its picture), codec, width, height,
// drawn: [[capture_ms, latency_ms], ...] for every frame drawn while
// watching, at_start: {frames, received, skipped, dropped, decodeErrors}
// when the watch began}}, page_errors}. capture_ms is the frame's capture time (the
// page's Date.now () at drawing minus the latency it shows, which gives the
// capture time the frame came with, to a microsecond). Exit status 0
// when the JSON was printed, 1 when the browser could not run.
//
// Environment: CHROMIUM [/usr/bin/chromium].
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv) {
  const o = { url: process.env.WALL_URL || null, spki: null, seconds: 10, cameras: 1, timeout: 30, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check')
      o.check = true;
    else if (a === '--spki')
      o.spki = argv[++i];
    else if (a === '--seconds')
      o.seconds = Number(argv[++i]);
    else if (a === '--cameras')
      o.cameras = Number(argv[++i]);
    else if (a === '--timeout')
      o.timeout = Number(argv[++i]);
    else if (!a.startsWith('--'))
      o.url = a;
    else
      throw new Error('unknown argument ' + a);
  }
  if (!o.check && !o.url)
    throw new Error('usage: open-wall.js URL [--spki HASH] [--seconds S] [--cameras N]');
  return o;
}

// Installed before the page's own script: notes every frame drawn (the page
// dispatches "viewerframe" right after drawing it and updating its stats).
// The page's latency is Date.now () at drawing minus the capture time; the
// value of that Date.now () call (kept here, unchanged) gives the capture
// time back exactly.
function recorder() {
  window.wallRecord = { on: false, drawn: {}, lastNow: null };
  const dateNow = Date.now;
  Date.now = function () {
    const v = dateNow.call(Date);
    window.wallRecord.lastNow = v;
    return v;
  };
  window.addEventListener('viewerframe', (e) => {
    const rec = window.wallRecord;
    if (!rec.on)
      return;
    const s = window.viewerStats.cameras[e.detail.camera];
    const now = rec.lastNow;
    const lat = s.lastLatencyMs;
    (rec.drawn[e.detail.camera] = rec.drawn[e.detail.camera] || []).push(
      lat === null ? [null, null] : [now - lat, lat]);
  });
}

async function watch(o) {
  const { chromium } = require('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'open-wall-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'];
  if (o.spki)
    args.push('--ignore-certificate-errors-spki-list=' + o.spki);
  const out = { url: o.url.replace(/token=[^&]*/, 'token=(hidden)'), status: null, error: null,
    cameras: {}, page_errors: [] };
  let context = null;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM, headless: true, args: args,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (e) => out.page_errors.push(e.message));
    await page.addInitScript(recorder);
    let response = null;
    try {
      response = await page.goto(o.url, { timeout: 20000 });
    } catch (e) {
      out.error = String(e.message || e).split('\n')[0];
      return out;
    }
    out.status = response.status();
    if (out.status !== 200)
      return out;
    // the cameras: drawing, or (a page that cannot decode) their tiles
    const ready = await page.waitForFunction((n) => {
      const st = window.viewerStats;
      if (!st)
        return false;
      const cams = Object.values(st.cameras);
      return cams.filter((c) => c.frames > 0).length >= n ||
        (cams.length >= n && cams.every((c) => c.unsupported !== null));
    }, o.cameras, { timeout: o.timeout * 1000 }).then(() => true, () => false);
    out.ready = ready;
    const start = await page.evaluate(() => {
      window.wallRecord.on = true;
      const at = {};
      for (const [name, c] of Object.entries(window.viewerStats.cameras))
        at[name] = { frames: c.frames, received: c.received, skipped: c.skipped,
          dropped: c.dropped, decodeErrors: c.decodeErrors };
      return { ms: Date.now(), at: at };
    });
    out.start_ms = start.ms;
    await sleep(o.seconds * 1000);
    const r = await page.evaluate(() => {
      window.wallRecord.on = false;
      const st = window.viewerStats;
      const cams = {};
      for (const [name, c] of Object.entries(st ? st.cameras : {})) {
        const tile = document.querySelector('[data-camera="' + CSS.escape(name) + '"]');
        const overlay = tile ? tile.querySelector('.overlay') : null;
        cams[name] = {
          frames: c.frames, received: c.received, dropped: c.dropped, skipped: c.skipped,
          decodeErrors: c.decodeErrors, unsupported: c.unsupported, codec: c.codec,
          overlay: overlay ? overlay.textContent : null,
          width: c.lastDrawn ? c.lastDrawn.width : null,
          height: c.lastDrawn ? c.lastDrawn.height : null,
          drawn: window.wallRecord.drawn[name] || [],
        };
      }
      return { end_ms: Date.now(), secure: window.isSecureContext,
        protocol: location.protocol, webcodecs: st ? st.webcodecs : null,
        connected: st ? st.connected : null, cameras: cams };
    });
    Object.assign(out, r);
    for (const [name, c] of Object.entries(out.cameras))
      c.at_start = start.at[name] || null;
    return out;
  } finally {
    if (context)
      await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.check) {
    require('playwright-core');
    if (!fs.existsSync(CHROMIUM))
      throw new Error(CHROMIUM + ' not found');
    console.log('{"check": "ok"}');
    return;
  }
  const overall = setTimeout(() => {
    console.error('open-wall.js: no result within ' + (o.timeout + o.seconds + 60) + ' s');
    process.exit(1);
  }, (o.timeout + o.seconds + 60) * 1000);
  const out = await watch(o);
  clearTimeout(overall);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error('open-wall.js: ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
});

#!/usr/bin/env node
// Opens the viewer page in Debian's chromium (playwright-core from
// tests/browser/node_modules) and records, for SECONDS after WARMUP seconds,
// the capture-to-canvas latency of every frame drawn (the page's
// Date.now() at drawing minus the frame's capture_time_ns), the frames
// drawn per camera and the bytes of the WebSocket messages received.
// Prints one JSON line.
//
// Usage: node measure.js URL WARMUP SECONDS
'use strict';

const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'browser',
  'node_modules', 'playwright-core'));

async function main() {
  const [url, warmup, seconds] = [process.argv[2], Number(process.argv[3]),
    Number(process.argv[4])];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.addInitScript(() => {
      window.benchSamples = null;
      window.benchBytes = 0;
      // Bytes of every message the page's WebSocket receives while measuring
      const Orig = window.WebSocket;
      window.WebSocket = class extends Orig {
        constructor(...a) {
          super(...a);
          this.addEventListener('message', (e) => {
            if (window.benchSamples !== null)
              window.benchBytes += e.data.byteLength || e.data.size || 0;
          });
        }
      };
      window.addEventListener('viewerframe', (e) => {
        if (window.benchSamples === null)
          return;
        const c = window.viewerStats.cameras[e.detail.camera];
        if (c.lastLatencyMs !== null)
          window.benchSamples.push(c.lastLatencyMs);
      });
    });
    await page.goto(url, { timeout: 20000 });
    await page.waitForTimeout(warmup * 1000);
    const start = await page.evaluate(() => {
      window.benchSamples = [];
      return Object.fromEntries(Object.entries(window.viewerStats.cameras)
        .map(([n, c]) => [n, c.frames]));
    });
    await page.waitForTimeout(seconds * 1000);
    const out = await page.evaluate((start) => {
      const s = window.benchSamples.slice().sort((a, b) => a - b);
      const q = (p) => s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null;
      const cams = window.viewerStats.cameras;
      return {
        cameras: Object.keys(cams).length,
        fps: Object.fromEntries(Object.entries(cams).map(([n, c]) => [n, c.frames - (start[n] || 0)])),
        unsupported: Object.values(cams).filter((c) => c.unsupported !== null).map((c) => c.unsupported),
        decodeErrors: Object.values(cams).reduce((a, c) => a + c.decodeErrors, 0),
        samples: s.length, p50: q(0.5), p95: q(0.95), bytes: window.benchBytes,
      };
    }, start);
    for (const n of Object.keys(out.fps))
      out.fps[n] /= seconds;
    console.log(JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

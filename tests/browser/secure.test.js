#!/usr/bin/env node
// websocketsink's viewer page in Debian's chromium over HTTPS, with its
// secret, and behind nginx: what an operator on another machine does.
//
//   node secure.test.js https   the element serves HTTPS itself
//                               (tls-certificate-file/tls-key-file, a
//                               throw-away CA made with the openssl CLI) and
//                               asks for auth-token. Chromium trusts that CA
//                               (--ignore-certificate-errors-spki-list with
//                               the CA's key hash; the server sends its
//                               certificate and the CA's). With ?token= the
//                               page is a secure context, its script loads and
//                               WSS frames are drawn; the page without it gets
//                               401, and from that page neither the script nor
//                               the WebSocket without the token gets anything;
//                               Chromium trusting another key refuses the
//                               server (ERR_CERT_AUTHORITY_INVALID).
//                               Then HTTP basic (auth-user/auth-password):
//                               Chromium with the credentials draws frames.
//   node secure.test.js nginx   the nginx recipe of docs/websocketsink.md, as
//                               written there but for the ports and files:
//                               nginx terminates HTTPS and proxies to the
//                               element on 127.0.0.1 (plain HTTP, auth-token,
//                               allowed-origins set to the proxy's origin); the
//                               page through the proxy draws frames, without
//                               the token it gets 401.
//
// Prints "N passed, N failed". Environment (set by meson): CHROMIUM, NGINX,
// GST_PLUGIN_PATH_1_0, GST_REGISTRY.
'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const DOC = path.join(__dirname, '..', '..', 'docs', 'websocketsink.md');
const OVERALL_TIMEOUT_MS = 200 * 1000;
const TOKEN = 'b1e6c0ffee-7d3a-token-42f9';
const SOURCE = ['videotestsrc', 'is-live=true', 'pattern=ball', '!',
  'video/x-raw,width=320,height=240,framerate=30/1', '!', 'jpegenc', '!'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wssecure-'));

// ---- processes, stopped by PID ----

const procs = new Set();

function start(cmd, args, name) {
  const log = fs.openSync(path.join(tmp, name + '.log'), 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', log], env: process.env });
  proc.logName = name;
  proc.out = '';
  proc.stdout.on('data', (chunk) => { proc.out += chunk; });
  procs.add(proc);
  proc.on('exit', () => procs.delete(proc));
  return proc;
}

async function stop(proc, signal) {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal || 'SIGTERM');
  if (await Promise.race([exited, sleep(5000).then(() => 'timeout')]) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

process.on('exit', () => {
  for (const proc of procs) {
    try {
      proc.kill('SIGKILL');
    } catch (e) {
      // gone
    }
  }
});

// gst-launch-1.0 -v ... websocketsink port=0 PROPS: resolves with the port
async function startPipeline(props) {
  const proc = start('gst-launch-1.0', ['-v'].concat(SOURCE,
    ['websocketsink', 'port=0'], props), 'pipeline');
  for (let i = 0; i < 300; i++) {
    const m = /current-port = (\d+)/.exec(proc.out);
    if (m && Number(m[1]) > 0)
      return { proc: proc, port: Number(m[1]) };
    if (proc.exitCode !== null)
      break;
    await sleep(100);
  }
  throw new Error('the pipeline reported no port: ' + proc.out.slice(-2000) +
    fs.readFileSync(path.join(tmp, 'pipeline.log'), 'utf8').slice(-2000));
}

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

async function waitListening(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok)
      return;
    await sleep(100);
  }
  throw new Error('nothing listens on port ' + port);
}

// ---- certificates ----

function openssl(args, input) {
  return execFileSync('openssl', args, { cwd: tmp, input: input });
}

// A CA, a server certificate for 127.0.0.1 signed by it, the chain file
// the server sends (its certificate, then the CA's) and the SHA-256 of the
// CA's public key as Chromium's --ignore-certificate-errors-spki-list wants
function makeCertificates() {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=viewer test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(tmp, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
    '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  fs.writeFileSync(path.join(tmp, 'chain.crt'),
    fs.readFileSync(path.join(tmp, 'server.crt'), 'utf8') +
    fs.readFileSync(path.join(tmp, 'ca.crt'), 'utf8'));
  const pub = openssl(['x509', '-in', 'ca.crt', '-pubkey', '-noout']);
  const der = openssl(['pkey', '-pubin', '-outform', 'der'], pub);
  const spki = require('crypto').createHash('sha256').update(der).digest('base64');
  return {
    chain: path.join(tmp, 'chain.crt'),
    key: path.join(tmp, 'server.key'),
    spki: spki,
  };
}

// ---- the browser ----

async function launch(spki, extra) {
  const dir = fs.mkdtempSync(path.join(tmp, 'chromium-'));
  return chromium.launchPersistentContext(dir, Object.assign({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
      '--ignore-certificate-errors-spki-list=' + spki],
    viewport: { width: 800, height: 600 },
  }, extra || {}));
}

// Frames drawn by the page, summed over its cameras
const drawn = (page) => page.evaluate(() => window.viewerStats ?
  Object.values(window.viewerStats.cameras).reduce((n, c) => n + c.frames, 0) : -1);

async function expectFrames(page, url, what) {
  const response = await page.goto(url, { timeout: 15000 });
  assert(response.status() === 200, what + ': status ' + response.status());
  await page.waitForFunction(() => window.viewerStats && window.viewerStats.connected &&
    Object.values(window.viewerStats.cameras).some((c) => c.frames > 10),
  null, { timeout: 20000 });
  const info = await page.evaluate(() => ({ secure: window.isSecureContext,
    protocol: location.protocol, webcodecs: window.viewerStats.webcodecs }));
  const n = await drawn(page);
  console.log('# ' + what + ': ' + n + ' frames drawn, ' + JSON.stringify(info));
  return info;
}

// The page without the secret: 401, no script, no WebSocket, no frame. And
// from the page with it: the script and the WebSocket without it get
// nothing.
async function expectRefusals(page, base, goodUrl) {
  const response = await page.goto(base + '/', { timeout: 15000 });
  assert(response.status() === 401, 'page without the token: ' + response.status());
  await sleep(1000);
  assert(await drawn(page) === -1, 'the 401 page runs the viewer');
  await page.goto(goodUrl, { timeout: 15000 });
  const r = await page.evaluate(async (wsBase) => {
    const script = (await fetch('/viewer.js')).status;
    const ws = await new Promise((resolve) => {
      const sock = new WebSocket(wsBase + '/ws');
      let messages = 0, opened = false;
      sock.binaryType = 'arraybuffer';
      sock.onopen = () => { opened = true; };
      sock.onmessage = () => { messages++; };
      sock.onclose = () => resolve({ opened, messages });
      setTimeout(() => { sock.close(); resolve({ opened, messages }); }, 3000);
    });
    return { script, ws };
  }, base.replace(/^http/, 'ws'));
  console.log('# without the token from the page: viewer.js ' + r.script +
    ', WebSocket ' + JSON.stringify(r.ws));
  assert(r.script === 401, 'viewer.js without the token: ' + r.script);
  assert(!r.ws.opened && r.ws.messages === 0, 'WebSocket without the token: ' +
    JSON.stringify(r.ws));
}

// ---- checks ----

const results = [];

async function check(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log('ok - ' + name);
  } catch (e) {
    results.push(false);
    console.log('not ok - ' + name + ': ' + (e && e.message ? e.message : e));
  }
}

function assert(cond, message) {
  if (!cond)
    throw new Error(message);
}

async function httpsChecks(certs) {
  let pipeline = null, context = null;
  try {
    pipeline = await startPipeline(['tls-certificate-file=' + certs.chain,
      'tls-key-file=' + certs.key, 'auth-token=' + TOKEN]);
    const base = 'https://127.0.0.1:' + pipeline.port;
    context = await launch(certs.spki);
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await check('HTTPS with ?token=: a secure page that draws WSS frames', async () => {
      const info = await expectFrames(page, base + '/?token=' + TOKEN, 'https');
      assert(info.secure && info.protocol === 'https:' && info.webcodecs,
        'not a secure context with WebCodecs: ' + JSON.stringify(info));
    });
    await check('without the token: 401 for the page, its script and the WebSocket', async () => {
      await expectRefusals(page, base, base + '/?token=' + TOKEN);
    });
    await check('no script errors on the page', async () => {
      assert(errors.length === 0, errors.join('; '));
    });
    await check('Chromium trusting another key refuses the server', async () => {
      const other = await launch(require('crypto').createHash('sha256')
        .update('another CA').digest('base64'));
      try {
        const p = other.pages()[0] || await other.newPage();
        let error = null;
        await p.goto(base + '/?token=' + TOKEN, { timeout: 15000 }).catch((e) => {
          error = e.message;
        });
        console.log('# another key: ' + (error || 'loaded').split('\n')[0]);
        assert(error && /ERR_CERT_AUTHORITY_INVALID/.test(error), 'loaded: ' + error);
      } finally {
        await other.close().catch(() => {});
      }
    });
  } finally {
    if (context)
      await context.close().catch(() => {});
    if (pipeline)
      await stop(pipeline.proc, 'SIGINT');
  }

  pipeline = context = null;
  try {
    pipeline = await startPipeline(['tls-certificate-file=' + certs.chain,
      'tls-key-file=' + certs.key, 'auth-user=operator', 'auth-password=' + TOKEN]);
    const base = 'https://127.0.0.1:' + pipeline.port;
    await check('HTTP basic: Chromium with the credentials draws frames', async () => {
      context = await launch(certs.spki,
        { httpCredentials: { username: 'operator', password: TOKEN } });
      const page = context.pages()[0] || await context.newPage();
      await expectFrames(page, base + '/', 'basic');
      await context.close();
      context = await launch(certs.spki,
        { httpCredentials: { username: 'operator', password: 'wrong' } });
      const wrong = context.pages()[0] || await context.newPage();
      const response = await wrong.goto(base + '/', { timeout: 15000 });
      assert(response.status() === 401, 'a wrong password got ' + response.status());
    });
  } finally {
    if (context)
      await context.close().catch(() => {});
    if (pipeline)
      await stop(pipeline.proc, 'SIGINT');
  }
}

// The recipe: the ```nginx block after <!-- nginx-recipe --> in the docs,
// with its port, certificate files and upstream port replaced, each exactly
// once (a recipe that changed shape fails here)
function nginxConfig(certs, listenPort, upstreamPort) {
  const doc = fs.readFileSync(DOC, 'utf8');
  const m = /<!-- nginx-recipe -->\s*```nginx\n([\s\S]*?)```/.exec(doc);
  assert(m, DOC + ' has no ```nginx block after <!-- nginx-recipe -->');
  let recipe = m[1];
  const replace = (re, by) => {
    const n = (recipe.match(new RegExp(re.source, 'gm')) || []).length;
    assert(n === 1, 'the recipe has ' + n + ' lines matching ' + re + ', not 1');
    recipe = recipe.replace(re, by);
  };
  replace(/listen 443 ssl;/m, 'listen 127.0.0.1:' + listenPort + ' ssl;');
  replace(/ssl_certificate\s+\S+;/m, 'ssl_certificate ' + certs.chain + ';');
  replace(/ssl_certificate_key\s+\S+;/m, 'ssl_certificate_key ' + certs.key + ';');
  replace(/proxy_pass http:\/\/127\.0\.0\.1:8080;/m,
    'proxy_pass http://127.0.0.1:' + upstreamPort + ';');
  const t = (name) => path.join(tmp, name);
  return [
    'daemon off;', 'master_process off;', 'worker_processes 1;',
    'error_log ' + t('nginx-error.log') + ' info;', 'pid ' + t('nginx.pid') + ';',
    'events { worker_connections 64; }',
    'http {',
    '  access_log ' + t('nginx-access.log') + ';',
    '  client_body_temp_path ' + t('nginx-body') + ';',
    '  proxy_temp_path ' + t('nginx-proxy') + ';',
    '  fastcgi_temp_path ' + t('nginx-fastcgi') + ';',
    '  uwsgi_temp_path ' + t('nginx-uwsgi') + ';',
    '  scgi_temp_path ' + t('nginx-scgi') + ';',
    recipe,
    '}', ''].join('\n');
}

async function nginxChecks(certs) {
  let pipeline = null, nginx = null, context = null;
  try {
    const nginxPort = await freePort();
    const origin = 'https://127.0.0.1:' + nginxPort;
    pipeline = await startPipeline(['auth-token=' + TOKEN, 'allowed-origins=' + origin]);
    const conf = path.join(tmp, 'nginx.conf');
    fs.writeFileSync(conf, nginxConfig(certs, nginxPort, pipeline.port));
    nginx = start(NGINX, ['-c', conf, '-p', tmp, '-e', path.join(tmp, 'nginx-error.log')],
      'nginx');
    try {
      await waitListening(nginxPort, 10000);
    } catch (e) {
      throw new Error(e.message + ': ' + fs.readFileSync(path.join(tmp, 'nginx-error.log'),
        'utf8').slice(-2000));
    }
    console.log('# nginx ' + NGINX + ' on ' + origin + ' -> websocketsink on 127.0.0.1:' +
      pipeline.port);
    context = await launch(certs.spki);
    const page = context.pages()[0] || await context.newPage();
    await check('through the nginx recipe: the page draws frames', async () => {
      const info = await expectFrames(page, origin + '/?token=' + TOKEN, 'nginx');
      assert(info.secure && info.protocol === 'https:', JSON.stringify(info));
    });
    await check('through nginx without the token: 401 for the page, script and WebSocket',
      async () => {
        await expectRefusals(page, origin, origin + '/?token=' + TOKEN);
      });
    await check('the token is not in nginx\'s logs', async () => {
      for (const name of ['nginx-access.log', 'nginx-error.log']) {
        const file = path.join(tmp, name);
        const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
        assert(!text.includes(TOKEN), name + ' holds the token');
      }
    });
  } finally {
    if (context)
      await context.close().catch(() => {});
    if (nginx)
      await stop(nginx, 'SIGQUIT');
    if (pipeline)
      await stop(pipeline.proc, 'SIGINT');
  }
}

async function main() {
  const mode = process.argv[2];
  assert(mode === 'https' || mode === 'nginx', 'usage: secure.test.js https|nginx');
  const certs = makeCertificates();
  console.log('# chromium ' + CHROMIUM + ', test CA key sha256 ' + certs.spki);
  if (mode === 'https')
    await httpsChecks(certs);
  else
    await nginxChecks(certs);
}

const overall = setTimeout(() => {
  console.log('not ok - the test did not finish in ' + OVERALL_TIMEOUT_MS / 1000 + ' s');
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

main().catch((e) => {
  results.push(false);
  console.log('not ok - setup: ' + (e && e.stack ? e.stack : e));
}).finally(() => {
  clearTimeout(overall);
  const passed = results.filter((r) => r).length;
  const failed = results.length - passed;
  console.log(passed + ' passed, ' + failed + ' failed');
  if (failed === 0)
    fs.rmSync(tmp, { recursive: true, force: true });
  else
    console.log('# files kept in ' + tmp);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});

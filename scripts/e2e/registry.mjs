#!/usr/bin/env node
// scripts/e2e/registry.mjs — the small servers the e2e part "registry" puts around Debian's real
// docker-registry (CNCF distribution). No dependencies, node built-ins only.
//
//   registry.mjs token PORT KEY CERT LOG   a token server for distribution's `auth: token`: GET
//       /token?service=…&scope=repository:NAME:ACTIONS with Basic auth answers an RS256 JWT whose
//       header carries the signing certificate (x5c; the registry trusts it via rootcertbundle).
//       lfuser:lfpass may pull and push lf/*, reader:readerpass may only pull, anyone else gets a
//       token with no access (so the registry answers 401/403, as a real one does).
//   registry.mjs proxy PORT UPSTREAM_PORT MODE LOG   an HTTP proxy in front of a plain registry:
//       MODE corrupt flips one byte in the body of the first blob GET over 1 KiB (its length
//       unchanged); drop closes the connection after 64 KiB of the first two blob GETs; slow sends
//       every blob at $RG_SLOW_RATE bytes/s (default 256 KiB/s), so a registry restart can land
//       mid-blob; slowup sends every PATCH body upstream at that rate (an upload longer than any
//       fixed timeout); pass does nothing.
//   registry.mjs connect PORT LOG   a proxy that only tunnels (CONNECT), for HTTPS_PROXY.
// Each writes one line per interesting event to LOG and stops on SIGTERM.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const log = (file, line) => fs.appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
const b64url = (b) => Buffer.from(b).toString('base64url');

function tokenServer(port, keyFile, certFile, logFile) {
  const key = fs.readFileSync(keyFile, 'utf8');
  const der = new crypto.X509Certificate(fs.readFileSync(certFile)).raw;
  const users = { lfuser: ['lfpass', ['pull', 'push']], reader: ['readerpass', ['pull']] };
  http
    .createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/token') return void res.writeHead(404).end();
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [user, pass] = basic ? Buffer.from(basic[1], 'base64').toString().split(/:(.*)/s) : [];
      const known = users[user];
      if (basic && (!known || known[0] !== pass)) {
        log(logFile, `401 ${user}`);
        return void res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
      }
      const allowed = known ? known[1] : [];
      const access = url.searchParams.getAll('scope').flatMap((s) => {
        const [type, name, actions] = s.split(':');
        if (type !== 'repository' || !name.startsWith('lf/')) return [];
        return [{ type, name, actions: actions.split(',').filter((a) => allowed.includes(a)) }];
      });
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
      const claims = {
        iss: 'lf-token',
        sub: user ?? '',
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access,
      };
      const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const token = `${signing}.${b64url(crypto.sign('sha256', Buffer.from(signing), key))}`;
      log(logFile, `token ${user ?? 'anonymous'} ${JSON.stringify(access)}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
    })
    .listen(Number(port), '127.0.0.1');
}

function faultProxy(port, upstreamPort, how, logFile) {
  const rate = Number(process.env.RG_SLOW_RATE) || 256 * 1024;
  let blobs = 0;
  http
    .createServer((req, res) => {
      const up = http.request(
        { host: '127.0.0.1', port: Number(upstreamPort), path: req.url, method: req.method, headers: req.headers },
        (r) => {
          const blob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url) && r.statusCode < 300;
          const big = Number(r.headers['content-length'] ?? 0) > 1024;
          const n = blob && big ? ++blobs : 0;
          if (n) log(logFile, `blob ${n} ${req.url} ${req.headers.range ?? ''} -> ${r.statusCode}`);
          res.writeHead(r.statusCode, r.headers);
          if (how === 'corrupt' && n === 1) {
            let flipped = false;
            r.on('data', (c) => {
              if (!flipped && c.length > 0) {
                c = Buffer.from(c);
                c[Math.floor(c.length / 2)] ^= 0xff;
                flipped = true;
                log(logFile, 'flipped one byte');
              }
              res.write(c);
            });
            r.on('end', () => res.end());
          } else if (how === 'drop' && n >= 1 && n <= 2) {
            let sent = 0;
            r.on('data', (c) => {
              if (sent < 65536) {
                const part = c.subarray(0, 65536 - sent);
                sent += part.length;
                res.write(part);
                if (sent >= 65536) {
                  log(logFile, `dropped blob ${n} after ${sent} bytes`);
                  r.destroy();
                  setTimeout(() => res.socket?.destroy(), 100); // the bytes written reach the client first
                }
              }
            });
          } else if (how === 'slow' && blob) {
            r.on('data', (c) => {
              r.pause();
              res.write(c);
              setTimeout(() => r.resume(), Math.ceil((c.length / rate) * 1000));
            });
            r.on('end', () => res.end());
            r.on('error', () => res.socket?.destroy());
            r.on('aborted', () => res.socket?.destroy());
          } else {
            r.pipe(res);
          }
        },
      );
      up.on('error', () => res.socket?.destroy());
      if (how === 'slowup' && req.method === 'PATCH') {
        const t0 = Date.now();
        let sent = 0;
        req.on('data', (c) => {
          req.pause();
          up.write(c);
          sent += c.length;
          setTimeout(() => req.resume(), Math.ceil((c.length / rate) * 1000));
        });
        req.on('end', () => {
          log(logFile, `PATCH of ${sent} bytes took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
          up.end();
        });
        req.on('aborted', () => up.destroy());
      } else {
        req.pipe(up);
      }
    })
    .listen(Number(port), '127.0.0.1');
}

function connectProxy(port, logFile) {
  const server = http.createServer((req, res) => res.writeHead(405).end('CONNECT only\n'));
  server.on('connect', (req, client, head) => {
    const [host, p] = req.url.split(':');
    log(logFile, `CONNECT ${req.url}`);
    const upstream = net.connect(Number(p), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const close = () => (upstream.destroy(), client.destroy());
    upstream.on('error', close);
    client.on('error', close);
  });
  server.listen(Number(port), '127.0.0.1');
}

if (mode === 'token') tokenServer(...args);
else if (mode === 'proxy') faultProxy(...args);
else if (mode === 'connect') connectProxy(...args);
else {
  console.error('usage: registry.mjs token|proxy|connect …');
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));

/**
 * One HTTP(S) request to a registry over node:http / node:https (Node 16.14 has no fetch), with
 * what skopeo users expect: certificates from a cert dir (`*.crt` CAs added to the system's, a
 * `*.cert` + `*.key` client pair), `--tls-verify=false`, and HTTPS_PROXY / HTTP_PROXY / NO_PROXY
 * (through https-proxy-agent's CONNECT tunnel; proxy-from-env reads the variables as curl does).
 * Each request gets its own connection, so nothing is shared between the runs of a long-lived caller.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { LayerflatError } from '../../errors.js';

/** How long connecting may take, and how long a response may stay silent. */
const CONNECT_TIMEOUT_MS = 30_000;
const IDLE_TIMEOUT_MS = 120_000;

export interface TlsSettings {
  /** Check the server's certificate (default true). False also allows plain http. */
  verify: boolean;
  /** CA certificates to trust besides the system's, and a client certificate, if any. */
  ca?: string[];
  cert?: string;
  key?: string;
}

/** The words a sysadmin knows for socket errors. */
const NET_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved now',
  EPIPE: 'the connection was closed',
};

const TLS_HINT = 'give its CA with --cert-dir DIR (DIR/ca.crt), or --tls-verify=false';

/** A failure to reach the server at all (as opposed to an HTTP answer). */
export class NetworkError extends LayerflatError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly tlsProblem = false,
  ) {
    super('IO', message);
  }
}

function networkError(err: unknown, where: string): NetworkError {
  if (err instanceof NetworkError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ALTNAME/.test(code)) {
    return new NetworkError(`${where}: TLS: ${e.message} (${code}); ${TLS_HINT}`, false, true);
  }
  if (/EPROTO|wrong version number|packet length too long/i.test(`${code} ${e.message}`)) {
    return new NetworkError(`${where}: TLS handshake failed (${e.message}): is it plain http?`, false, true);
  }
  const words = NET_WORDS[code] ?? e.message;
  return new NetworkError(`${where}: ${words}${code && NET_WORDS[code] ? ` (${code})` : ''}`, code !== 'ENOTFOUND');
}

/** The request to make. `body` is written as it comes (chunked) unless it is a Buffer. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | AsyncIterable<Buffer>;
}

/** Send one request; resolves with the response once its head has arrived. */
export function send(
  req: HttpRequest,
  tlsSettings: TlsSettings,
  env: NodeJS.ProcessEnv,
): Promise<http.IncomingMessage> {
  const { url } = req;
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = { 'User-Agent': 'layerflat', ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
  else if (req.body === undefined && !['GET', 'HEAD'].includes(req.method)) headers['Content-Length'] = '0';
  const tlsOptions = secure
    ? {
        rejectUnauthorized: tlsSettings.verify,
        ...(tlsSettings.ca ? { ca: [...tls.rootCertificates, ...tlsSettings.ca] } : {}),
        ...(tlsSettings.cert && tlsSettings.key ? { cert: tlsSettings.cert, key: tlsSettings.key } : {}),
      }
    : {};
  const proxy = proxyFor(url, env);
  const agent = proxy ? new HttpsProxyAgent(proxy, { ...tlsOptions, keepAlive: false }) : false;
  const options: https.RequestOptions = { method: req.method, headers, agent, ...tlsOptions };
  // A proxied plain-http request still goes through the tunnel: the agent speaks CONNECT for both.
  const request = (secure ? https : http).request(url, options);
  return new Promise((resolve, reject) => {
    const where = `${req.method} ${url.origin}${url.pathname}`;
    request.once('response', (res) => {
      res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      resolve(res);
    });
    request.on('error', (err) => reject(networkError(err, where)));
    // Two limits, neither on how long a transfer takes (a streamed PATCH of gigabytes ends only
    // when its body does): one on connecting, one on silence once connected, either way.
    const timedOut = (what: string) => () => request.destroy(Object.assign(new Error(what), { code: 'ETIMEDOUT' }));
    const timer = setTimeout(timedOut('connection timed out'), CONNECT_TIMEOUT_MS);
    request.once('socket', (socket) => {
      const connected = () => clearTimeout(timer);
      if (!socket.connecting) connected();
      else socket.once(secure && !proxy ? 'secureConnect' : 'connect', connected);
    });
    request.setTimeout(IDLE_TIMEOUT_MS, timedOut(`no bytes either way for ${IDLE_TIMEOUT_MS / 1000} s`));
    request.once('response', () => clearTimeout(timer));
    request.once('close', () => clearTimeout(timer));
    writeBody(request, req.body).catch((err: unknown) => request.destroy(err as Error));
  });
}

async function writeBody(request: http.ClientRequest, body: HttpRequest['body']): Promise<void> {
  if (body === undefined || Buffer.isBuffer(body)) {
    request.end(body);
    return;
  }
  for await (const chunk of body) {
    if (request.destroyed) return;
    if (!request.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          request.off('drain', done);
          request.off('close', done);
          resolve();
        };
        request.once('drain', done);
        request.once('close', done);
      });
    }
  }
  request.end();
}

function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (env === process.env) return getProxyForUrl(url.href) || undefined;
  // proxy-from-env reads only process.env: a caller's own env (a server serving many users) is
  // swapped in for this synchronous call, and nothing else runs meanwhile.
  const saved = PROXY_VARS.map((k) => [k, process.env[k]] as const);
  try {
    for (const k of PROXY_VARS) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
    return getProxyForUrl(url.href) || undefined;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const PROXY_VARS = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
  'npm_config_proxy',
  'npm_config_https_proxy',
  'npm_config_no_proxy',
];

/**
 * The TLS settings for `registry`: the cert dir given, else the first of
 * ~/.config/containers/certs.d/REGISTRY, /etc/containers/certs.d/REGISTRY and
 * /etc/docker/certs.d/REGISTRY that exists (containers/image's and Docker's places).
 */
export async function tlsSettingsFor(
  registry: string,
  o: { verify?: boolean; certDir?: string; env: NodeJS.ProcessEnv },
): Promise<TlsSettings> {
  const verify = o.verify ?? true;
  const home = o.env['HOME'] || os.homedir();
  const dirs = o.certDir
    ? [o.certDir]
    : [
        path.join(home, '.config', 'containers', 'certs.d', registry),
        path.join('/etc/containers/certs.d', registry),
        path.join('/etc/docker/certs.d', registry),
      ];
  for (const dir of dirs) {
    const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (o.certDir)
        throw new LayerflatError(
          'NOT_FOUND',
          `--cert-dir ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`,
        );
      return undefined;
    });
    if (!names) continue;
    const read = (n: string) => fs.readFile(path.join(dir, n), 'utf8');
    const ca = await Promise.all(
      names
        .filter((n) => n.endsWith('.crt'))
        .sort()
        .map(read),
    );
    const certName = names.find((n) => n.endsWith('.cert'));
    const keyName = certName && names.find((n) => n === certName.replace(/\.cert$/, '.key'));
    return {
      verify,
      ...(ca.length > 0 ? { ca } : {}),
      ...(certName && keyName ? { cert: await read(certName), key: await read(keyName) } : {}),
    };
  }
  return { verify };
}

/** Read a small answer whole (errors, tokens, manifests), refusing one larger than `max`. */
export async function readSmall(res: http.IncomingMessage, max: number, where: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.destroy();
      throw new LayerflatError('BAD_MANIFEST', `${where}: the answer is larger than ${max} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

/** Drain and forget a response body (so its connection closes cleanly). */
export function discard(res: http.IncomingMessage): void {
  res.resume();
  res.on('error', () => undefined);
}

/**
 * The few Docker Engine API calls layerflat makes, over node:http on the daemon's socket (no
 * docker CLI, no fetch: it runs on Node 16.14). Each request has its own connection, so
 * nothing is shared between runs of a long-lived caller. Unversioned paths: the daemon answers
 * them with its own API version, whichever engine it is.
 */
import http from 'node:http';
import type { Writable } from 'node:stream';
import { asLayerflatError, LayerflatError } from '../../errors.js';
import type { DaemonAddress } from './address.js';

/** How long connecting may take (a tcp:// host that drops packets would otherwise hang for minutes). */
const CONNECT_TIMEOUT_MS = 30_000;
/** The most of an error or JSON answer that is read (they are small; a stray huge one is cut). */
const MAX_ANSWER_BYTES = 4 << 20;

/** Socket errors that errors.ts has no words for, as a sysadmin knows them. */
const CONNECT_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved now',
};

/** A request being sent: its body to write, and the daemon's response once it comes. */
export interface OpenRequest {
  body: Writable;
  response: Promise<http.IncomingMessage>;
}

export class DaemonClient {
  constructor(readonly address: DaemonAddress) {}

  /** Start `method path`; write to `body` and end it (a GET is ended at once). */
  open(method: string, path: string, headers: Record<string, string> = {}): OpenRequest {
    const a = this.address;
    const req = http.request({
      ...(a.kind === 'unix' ? { socketPath: a.socketPath } : { host: a.host, port: a.port }),
      method,
      path,
      headers: { Host: 'docker', ...headers },
      agent: false,
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.on('error', (err) => reject(this.unreachable(err)));
    });
    response.catch(() => undefined); // a caller that fails while writing may never await it
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timedOut = Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' });
      const timer = setTimeout(() => req.destroy(timedOut), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    if (method === 'GET') req.end();
    return { body: req, response };
  }

  /** GET `path`; the response, which must be 2xx (else the daemon's message as an error). */
  async get(path: string, what: string): Promise<http.IncomingMessage> {
    const res = await this.open('GET', path).response;
    if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) return res;
    throw await this.refused(res, what);
  }

  /** GET `path` as JSON; undefined for a 404 (no such image). */
  async getJSON(path: string, what: string): Promise<unknown> {
    const res = await this.open('GET', path).response;
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) throw await this.refused(res, what);
    const text = await this.readAnswer(res);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LayerflatError('IO', `${what}: the Docker daemon at ${this.address.text} answered with no JSON`);
    }
  }

  /** The whole (small) body of a response as text. */
  async readAnswer(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
        size += chunk.length;
      }
    } catch (err) {
      throw this.unreachable(err);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** A non-2xx response as one line: the daemon's own message (NOT_FOUND for 404). */
  async refused(res: http.IncomingMessage, what: string): Promise<LayerflatError> {
    const text = await this.readAnswer(res).catch(() => '');
    let message = text.trim();
    try {
      const json = JSON.parse(text) as { message?: unknown };
      if (typeof json.message === 'string') message = json.message;
    } catch {
      // not JSON (a proxy's page, say): its first line will do
    }
    const said = message.split('\n', 1)[0] || `HTTP ${res.statusCode ?? '?'}`;
    const code = res.statusCode === 404 ? 'NOT_FOUND' : 'IO';
    return new LayerflatError(code, `${what}: the Docker daemon at ${this.address.text} says: ${said}`, {
      located: true,
    });
  }

  /** A connection failure as one IO line naming the address, with what to check. */
  unreachable(err: unknown): LayerflatError {
    if (err instanceof LayerflatError) return err;
    const { text, kind } = this.address;
    const plain = kind === 'tcp' ? ' (layerflat speaks plain HTTP to tcp://; TLS is not supported)' : '';
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (code.startsWith('HPE_')) {
      return new LayerflatError('IO', `${text} did not answer as a Docker daemon over HTTP${plain}`, { cause: err });
    }
    const words = CONNECT_WORDS[code];
    const cause = words
      ? `cannot reach the Docker daemon at ${text}: ${words} (${code})`
      : asLayerflatError(err, `cannot reach the Docker daemon at ${text}`).message;
    const hint = code === 'ECONNRESET' ? '' : `; is dockerd running, and is DOCKER_HOST right?${plain}`;
    return new LayerflatError('IO', `${cause}${hint}`, { cause: err, located: true });
  }
}

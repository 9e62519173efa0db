/**
 * The distribution-spec calls layerflat makes on one repository: ping, manifests, blobs (read
 * with retries that resume with `Range` after a dropped connection), blob existence, cross-repo
 * mounts, and uploads — a streamed PATCH whose digest is known only at its end, then `PUT
 * ?digest=`. Every request goes through `request`, which adds the Authorization the registry's
 * challenge asked for and retries once after a 401 with a fresh token.
 */
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LayerflatError } from '../../errors.js';
import { Digest } from '../../image/digest.js';
import { Authorizer } from './auth.js';
import { credentialsFor, type CredentialOptions } from './credentials.js';
import { discard, NetworkError, readSmall, send, tlsSettingsFor, type TlsSettings } from './http.js';
import { describeRegistryImage, isDigestRef, type RegistryImage } from './reference.js';

/** Options of one side (source or destination) of a run. */
export interface RegistryOptions {
  /** "USER:PASS". */
  creds?: string;
  authFile?: string;
  /** false: accept any certificate, and fall back to plain http (skopeo's --tls-verify=false). */
  tlsVerify?: boolean;
  certDir?: string;
  /**
   * The environment auth files, HOME, XDG_RUNTIME_DIR and proxies are read from. The library never
   * reads the process's own: the CLI passes it; without one, only ~/ defaults apply and no proxy.
   */
  env?: NodeJS.ProcessEnv;
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Manifests and configs are small; a larger answer is refused (containers/image's limits). */
const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_CONFIG_BYTES = 8 << 20;
const RETRIES = 5;
const MAX_REDIRECTS = 5;

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

interface Call {
  method: string;
  /** A path under /v2/ ("NAME/manifests/REF"), or a whole URL (an upload's Location). */
  path: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | AsyncIterable<Buffer>;
  /** Push and pull rights are asked for when a push is done. */
  push?: boolean;
}

export class RegistryClient {
  private base: URL | undefined;
  private auth: Authorizer | undefined;
  private tls: TlsSettings | undefined;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly image: RegistryImage,
    private readonly options: RegistryOptions = {},
  ) {
    this.env = options.env ?? {};
  }

  get name(): string {
    return describeRegistryImage(this.image);
  }

  /** The scope for this repository (and, for a mount, the one blobs come from). */
  private scope(push: boolean, from?: string): string {
    const own = `repository:${this.image.repository}:${push ? 'pull,push' : 'pull'}`;
    return from && from !== this.image.repository ? `${own} repository:${from}:pull` : own;
  }

  /** Find the API (https, or http when TLS is off and https fails) and how it authenticates. */
  async ping(): Promise<void> {
    if (this.base) return;
    const { registry, host } = this.image;
    this.tls = await tlsSettingsFor(registry, {
      verify: this.options.tlsVerify,
      certDir: this.options.certDir,
      env: this.env,
    });
    const credentialOptions: CredentialOptions = {
      creds: this.options.creds,
      authFile: this.options.authFile,
      env: this.env,
    };
    const credentials = await credentialsFor(registry, credentialOptions);
    const from = this.options.creds !== undefined ? '--creds' : 'an auth file';
    this.auth = new Authorizer(
      registry,
      credentials,
      (url, headers, form) => this.tokenRequest(url, headers, form),
      from,
    );
    const schemes = this.tls.verify ? ['https:'] : ['https:', 'http:'];
    let last: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}//${host}/v2/`);
      try {
        const res = await send({ method: 'GET', url: base }, this.tls, this.env);
        discard(res);
        if (res.statusCode === 401) await this.auth.challenged(header(res, 'www-authenticate'), this.scope(false));
        else if (res.statusCode !== 200 && res.statusCode !== 404) {
          // 404: some registries do not serve /v2/ itself; the API answers below anyway
          throw new LayerflatError('REGISTRY_FAILED', `${host}: GET /v2/ answered HTTP ${res.statusCode}`);
        }
        this.base = base;
        return;
      } catch (err) {
        last = err;
        if (!(err instanceof NetworkError) || (!err.tlsProblem && err.retryable === false)) break;
      }
    }
    throw last;
  }

  private tokenRequest(url: URL, headers: Record<string, string>, form?: string): Promise<http.IncomingMessage> {
    const body = form === undefined ? undefined : Buffer.from(form);
    return send({ method: body ? 'POST' : 'GET', url, headers, ...(body ? { body } : {}) }, this.tls!, this.env);
  }

  /** One call with authentication; a 401 is answered once with fresh credentials. */
  private async request(call: Call, from?: string): Promise<http.IncomingMessage> {
    await this.ping();
    const scope = this.scope(call.push === true, from);
    const url = typeof call.path === 'string' ? new URL(call.path, this.base) : call.path;
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth!.header(scope);
      const headers = { ...call.headers, ...(authorization ? { Authorization: authorization } : {}) };
      const res = await send({ method: call.method, url, headers, body: call.body }, this.tls!, this.env);
      if (res.statusCode !== 401 || attempt > 0 || (call.body !== undefined && !Buffer.isBuffer(call.body))) return res;
      discard(res);
      if (!(await this.auth!.challenged(header(res, 'www-authenticate'), scope))) return res;
    }
  }

  /** Make sure the credentials give `push` (or pull) rights before anything big is sent. */
  async authorize(push: boolean): Promise<void> {
    await this.ping();
    await this.auth!.header(this.scope(push));
  }

  /** An error answer as a LayerflatError naming what was asked, with the registry's own words. */
  private async failure(res: http.IncomingMessage, what: string): Promise<LayerflatError> {
    const body = await readSmall(res, 1 << 16, what).catch(() => Buffer.alloc(0));
    const message = registryMessage(body);
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) return this.auth!.refused(status, what, message);
    const detail = message ? `: ${message}` : '';
    return new LayerflatError('REGISTRY_FAILED', `${what}: HTTP ${status}${detail}`);
  }

  /** The manifest (or index) `ref` names, checked against `ref` when it is a digest. */
  async manifest(ref: string, expected?: Digest): Promise<FetchedManifest> {
    const what = `${describeRegistryImage({ ...this.image, ref })}`;
    const res = await this.request({
      method: 'GET',
      path: `${this.image.repository}/manifests/${ref}`,
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (res.statusCode === 404) {
      discard(res);
      throw new LayerflatError('REF_NOT_FOUND', `${what}: no such image (manifest unknown) in ${this.image.registry}`);
    }
    if (res.statusCode !== 200) throw await this.failure(res, what);
    const bytes = await readSmall(res, MAX_MANIFEST_BYTES, what);
    const digest = Digest.of(bytes);
    const want = expected ?? (isDigestRef(ref) ? Digest.parse(ref) : undefined);
    if (want && !want.equals(digest)) {
      throw new LayerflatError('DIGEST_MISMATCH', `${what}: the manifest's bytes hash to ${digest}, not ${want}`);
    }
    const declared = (res.headers['content-type'] ?? '').split(';', 1)[0]!.trim();
    let mediaType = declared;
    try {
      const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
      if (typeof j.mediaType === 'string') mediaType = j.mediaType;
    } catch {
      throw new LayerflatError('BAD_MANIFEST', `${what}: the manifest is not JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** Whether the manifest `ref` exists (a destination tag about to be replaced). */
  async hasManifest(ref: string): Promise<boolean> {
    const res = await this.request({
      method: 'HEAD',
      path: `${this.image.repository}/manifests/${ref}`,
      headers: { Accept: MANIFEST_ACCEPT },
      push: true,
    });
    discard(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.failure(res, `${this.name}: HEAD manifest`);
  }

  /** A small blob (the config) whole, checked against its digest and size. */
  async smallBlob(digest: Digest, size: number | undefined, what: string): Promise<Buffer> {
    if (size !== undefined && size > MAX_CONFIG_BYTES) {
      throw new LayerflatError('BAD_MANIFEST', `${what}: ${size} bytes is too large for a config`);
    }
    const parts: Buffer[] = [];
    for await (const chunk of this.blob(digest, 0)) parts.push(chunk);
    const bytes = Buffer.concat(parts);
    if (size !== undefined && bytes.length !== size) {
      throw new LayerflatError('SIZE_MISMATCH', `${what}: ${bytes.length} bytes, the manifest says ${size}`);
    }
    const got = Digest.of(bytes);
    if (!got.equals(digest))
      throw new LayerflatError('DIGEST_MISMATCH', `${what}: the bytes hash to ${got}, not ${digest}`);
    return bytes;
  }

  /**
   * A blob's bytes from `offset` on, as they arrive (unchecked: the reader checks them). A
   * connection that drops mid-blob is retried from the byte reached, with `Range`; a registry
   * that ignores Range (200) has the bytes already read skipped.
   */
  async *blob(digest: Digest, offset: number): AsyncGenerator<Buffer> {
    let at = offset;
    const what = `${this.name}: blob ${digest.short()}`;
    for (let attempt = 0; ; attempt++) {
      let res: http.IncomingMessage;
      try {
        res = await this.blobResponse(digest, at, what);
      } catch (err) {
        if (err instanceof NetworkError && err.retryable && attempt < RETRIES) {
          await sleep(backoff(attempt));
          continue;
        }
        throw err;
      }
      let skip = res.statusCode === 200 ? at : 0; // the registry ignored Range: skip what we have
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (skip >= chunk.length) {
            skip -= chunk.length;
            continue;
          }
          const piece = skip > 0 ? chunk.subarray(skip) : chunk;
          skip = 0;
          at += piece.length;
          yield piece;
        }
        if (!res.complete) throw Object.assign(new Error('the connection closed mid-blob'), { code: 'ECONNRESET' });
        return;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const dropped =
          ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED'].includes(e.code ?? '') || /aborted/i.test(e.message);
        if (!dropped || attempt >= RETRIES) throw new NetworkError(`${what}: ${e.message} after ${at} bytes`, false);
        await sleep(backoff(attempt));
      }
    }
  }

  /** GET the blob from `at`, following redirects (a CDN, without our Authorization). */
  private async blobResponse(digest: Digest, at: number, what: string): Promise<http.IncomingMessage> {
    await this.ping();
    const range: Record<string, string> = at > 0 ? { Range: `bytes=${at}-` } : {};
    let url = new URL(`${this.image.repository}/blobs/${digest}`, this.base);
    let res = await this.request({ method: 'GET', path: url, headers: range });
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.statusCode ?? 0); hops++) {
      const location = header(res, 'location');
      discard(res);
      if (!location || hops >= MAX_REDIRECTS)
        throw new LayerflatError('REGISTRY_FAILED', `${what}: too many redirects`);
      url = new URL(location, url);
      res = await send({ method: 'GET', url, headers: range }, this.tls!, this.env);
    }
    if (res.statusCode === 200 || (res.statusCode === 206 && at > 0)) {
      if (res.statusCode === 206 && !contentRangeStartsAt(res, at)) {
        discard(res);
        throw new LayerflatError(
          'REGISTRY_FAILED',
          `${what}: asked for bytes ${at}- and got ${header(res, 'content-range')}`,
        );
      }
      return res;
    }
    if (res.statusCode === 404) {
      discard(res);
      throw new LayerflatError('NOT_FOUND', `${what}: the registry has no such blob (blob unknown)`);
    }
    if ((res.statusCode ?? 0) >= 500) {
      discard(res);
      throw new NetworkError(`${what}: HTTP ${res.statusCode}`, true);
    }
    throw await this.failure(res, what);
  }

  /** Whether this repository has the blob already (then a push skips it). */
  async hasBlob(digest: Digest): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', path: `${this.image.repository}/blobs/${digest}`, push: true });
    discard(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.failure(res, `${this.name}: HEAD blob ${digest.short()}`);
  }

  /** Mount `digest` from repository `from` of the same registry; false when the registry would not. */
  async mount(digest: Digest, from: string): Promise<boolean> {
    const query = `mount=${encodeURIComponent(String(digest))}&from=${encodeURIComponent(from)}`;
    const path = `${this.image.repository}/blobs/uploads/?${query}`;
    const res = await this.request({ method: 'POST', path, push: true }, from);
    discard(res);
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // an upload was opened instead: close it, the bytes will come through a normal upload
      const location = header(res, 'location');
      if (location) discard(await this.request({ method: 'DELETE', path: new URL(location, this.base), push: true }));
      return false;
    }
    throw await this.failure(res, `${this.name}: mount of blob ${digest.short()} from ${from}`);
  }

  /** Upload `chunks` as one blob; the digest is computed by the caller and given at the end. */
  async upload(chunks: AsyncIterable<Buffer> | Buffer, digest: () => Digest): Promise<void> {
    const what = `${this.name}: upload`;
    await this.authorize(true); // a fresh token before a long streamed PATCH that cannot be replayed
    const start = await this.request({ method: 'POST', path: `${this.image.repository}/blobs/uploads/`, push: true });
    if (start.statusCode !== 202) throw await this.failure(start, `${what} start`);
    discard(start);
    let location = uploadLocation(start, this.base!, what);
    try {
      const patch = await this.request({
        method: 'PATCH',
        path: location,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: chunks,
        push: true,
      });
      if (patch.statusCode !== 202 && patch.statusCode !== 204) throw await this.failure(patch, `${what} of the bytes`);
      discard(patch);
      location = uploadLocation(patch, this.base!, what);
      const end = new URL(location);
      end.searchParams.set('digest', String(digest()));
      const put = await this.request({ method: 'PUT', path: end, push: true });
      if (put.statusCode !== 201) throw await this.failure(put, `${what} end (digest ${digest().short()})`);
      discard(put);
    } catch (err) {
      await this.cancelUpload(location);
      throw err;
    }
  }

  /**
   * A failed upload is cancelled (DELETE), so the registry drops the bytes it holds for it at once
   * rather than when its upload purging runs (distribution: after a week). Best effort: the failure
   * that brought us here is what the user must see. distribution refuses the cancel of an upload
   * whose PATCH was cut midway (404 BLOB_UPLOAD_INVALID: the state we hold no longer matches the
   * bytes it stored), so those bytes wait for its purge.
   */
  private async cancelUpload(location: URL): Promise<void> {
    try {
      discard(await this.request({ method: 'DELETE', path: location, push: true }));
    } catch {
      // the registry may be what failed
    }
  }

  /** Store a manifest under `ref` (a digest first, then each tag). */
  async putManifest(ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    const res = await this.request({
      method: 'PUT',
      path: `${this.image.repository}/manifests/${ref}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      push: true,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) {
      throw await this.failure(res, `${describeRegistryImage({ ...this.image, ref })}: PUT manifest`);
    }
    discard(res);
  }
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function uploadLocation(res: http.IncomingMessage, base: URL, what: string): URL {
  const location = header(res, 'location');
  if (!location) throw new LayerflatError('REGISTRY_FAILED', `${what}: the registry gave no upload Location`);
  return new URL(location, base);
}

function contentRangeStartsAt(res: http.IncomingMessage, at: number): boolean {
  const m = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
  return m !== null && Number(m[1]) === at;
}

/** The registry's own error words: `{"errors":[{"code":"DENIED","message":"…"}]}`. */
export function registryMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const j = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    if (Array.isArray(j.errors) && j.errors.length > 0) {
      return j.errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
    }
  } catch {
    // not JSON: the text itself, cut short
  }
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

function backoff(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 4000);
}

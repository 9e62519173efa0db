/**
 * Registry authentication as the distribution spec and Docker's token spec describe it: a 401's
 * `WWW-Authenticate` says Basic (send the credentials) or Bearer (ask its `realm` for a token for
 * `service` and `scope`, with the credentials as Basic auth, or an identity token as an OAuth2
 * refresh token). Tokens are kept per scope for this client only, and renewed when half their
 * life has passed. The challenge parser is pure.
 */
import { LayerflatError } from '../../errors.js';
import type { Credentials } from './credentials.js';
import { readSmall } from './http.js';
import type http from 'node:http';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (several challenges may be comma-joined). */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (re: RegExp) => {
    while (i < header.length && re.test(header[i]!)) i++;
  };
  const word = () => {
    const start = i;
    skip(/[^\s,=]/);
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const name = word();
    if (name === '') {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] !== '=') {
      out.push({ scheme: name.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++)
        value += header[i] === '\\' ? (header[++i] ?? '') : header[i];
      i++;
    } else value = word();
    const current = out.at(-1);
    if (current) current.params[name.toLowerCase()] = value; // a parameter before any scheme is ignored
  }
  return out;
}

/** What a token request needs to send: the client's HTTP, for the realm's URL. */
export type TokenFetch = (url: URL, headers: Record<string, string>, form?: string) => Promise<http.IncomingMessage>;

interface Token {
  value: string;
  renewAt: number;
}

/** The Authorization header for each scope of one registry, learned from its challenges. */
export class Authorizer {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Token>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | undefined,
    private readonly fetchToken: TokenFetch,
    /** Where the credentials came from, for messages ("--creds", "auth file …", "none"). */
    private readonly credentialsFrom: string,
  ) {}

  /** The header for `scope` if we already know how to authenticate, else undefined. */
  async header(scope: string): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return this.basic();
    const token = this.tokens.get(scope);
    if (token && Date.now() < token.renewAt) return `Bearer ${token.value}`;
    return `Bearer ${await this.newToken(scope)}`;
  }

  /** A 401 came: learn its challenge; true when a retry with new credentials may succeed. */
  async challenged(wwwAuthenticate: string | undefined, scope: string): Promise<boolean> {
    const all = parseChallenges(wwwAuthenticate ?? '');
    const chosen = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    const known = this.challenge;
    const same = known && known.scheme === chosen.scheme && known.params['realm'] === chosen.params['realm'];
    if (same && chosen.scheme === 'basic') return false; // the same credentials again would fail again
    if (same && this.tokens.has(scope) && !chosen.params['error']) {
      this.tokens.delete(scope); // an expired token: one more try with a fresh one
      return true;
    }
    if (same && this.tokens.has(scope)) return false;
    this.challenge = chosen;
    if (chosen.scheme === 'basic') return this.credentials !== undefined;
    return true;
  }

  /** The words for a final 401/403, naming where the credentials came from. */
  refused(status: number, what: string, registryMessage: string): LayerflatError {
    const creds = this.credentials ? `credentials from ${this.credentialsFrom}` : 'no credentials (none found)';
    const why =
      status === 403
        ? 'access denied'
        : this.credentials
          ? 'the registry refused the credentials'
          : 'authentication required';
    const detail = registryMessage ? `: ${registryMessage}` : '';
    const hint = this.credentials ? '' : '; give --creds USER:PASS or log in (podman login / docker login)';
    return new LayerflatError('AUTH_FAILED', `${what}: ${why} (${status}, ${creds})${detail}${hint}`);
  }

  private basic(): string | undefined {
    const c = this.credentials;
    if (!c || !('password' in c)) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private async newToken(scope: string): Promise<string> {
    const params = this.challenge!.params;
    const realm = params['realm'];
    if (!realm) throw new LayerflatError('REGISTRY_FAILED', `${this.registry}: a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (params['service']) url.searchParams.set('service', params['service']);
    for (const s of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const c = this.credentials;
    let res: http.IncomingMessage;
    if (c && 'identityToken' in c) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: c.identityToken,
        service: params['service'] ?? '',
        scope,
        client_id: 'layerflat',
      }).toString();
      res = await this.fetchToken(new URL(realm), { 'Content-Type': 'application/x-www-form-urlencoded' }, form);
    } else {
      const basic = this.basic();
      res = await this.fetchToken(url, basic ? { Authorization: basic } : {});
    }
    const body = await readSmall(res, 1 << 20, `token from ${url.origin}`);
    if (res.statusCode !== 200) {
      const text = body.toString('utf8').trim().slice(0, 300);
      if (res.statusCode === 401 || res.statusCode === 403)
        throw this.refused(res.statusCode, `token from ${url.origin}`, text);
      throw new LayerflatError('REGISTRY_FAILED', `token from ${url.origin}: HTTP ${res.statusCode}: ${text}`);
    }
    let j: { token?: string; access_token?: string; expires_in?: number };
    try {
      j = JSON.parse(body.toString('utf8')) as typeof j;
    } catch {
      throw new LayerflatError('REGISTRY_FAILED', `token from ${url.origin}: the answer is not JSON`);
    }
    const value = j.token || j.access_token;
    if (!value) throw new LayerflatError('REGISTRY_FAILED', `token from ${url.origin}: no token in the answer`);
    const life = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60;
    this.tokens.set(scope, { value, renewAt: Date.now() + (life * 1000) / 2 });
    return value;
  }
}

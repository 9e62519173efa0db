/**
 * Credentials for a registry, found where podman, skopeo and docker keep them, in their order:
 * `--creds USER[:PASS]`; the auth file given (`--authfile`, else $REGISTRY_AUTH_FILE), else
 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, then Docker's
 * $DOCKER_CONFIG/config.json (~/.docker/config.json). In each file: `credHelpers[registry]`, then
 * `auths[registry]` (keys may be full URLs; Docker Hub's is "https://index.docker.io/v1/"), then
 * `credsStore`. Helpers are the `docker-credential-NAME` programs, asked with `get`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LayerflatError } from '../../errors.js';

export type Credentials = { username: string; password: string } | { identityToken: string; username?: string };

export interface CredentialOptions {
  /** "USER:PASS" (or "USER", whose password is then empty). */
  creds?: string;
  /** An auth file to read instead of the default ones. */
  authFile?: string;
  env: NodeJS.ProcessEnv;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const HUB_KEYS = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'];

/** "USER:PASS" → credentials (the password may itself hold ":"). */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  const username = colon < 0 ? text : text.slice(0, colon);
  if (username === '') throw new LayerflatError('USAGE', '--creds: expected USER:PASS with a non-empty USER');
  return { username, password: colon < 0 ? '' : text.slice(colon + 1) };
}

/** The auth files to read, in order. */
export function authFiles(o: CredentialOptions): string[] {
  const given = o.authFile ?? o.env['REGISTRY_AUTH_FILE'];
  if (given) return [given];
  const home = o.env['HOME'] || os.homedir();
  const runtime = o.env['XDG_RUNTIME_DIR'];
  const dockerDir = o.env['DOCKER_CONFIG'] || path.join(home, '.docker');
  return [
    ...(runtime ? [path.join(runtime, 'containers', 'auth.json')] : []),
    path.join(o.env['XDG_CONFIG_HOME'] || path.join(home, '.config'), 'containers', 'auth.json'),
    path.join(dockerDir, 'config.json'),
  ];
}

/** The keys an auths map may use for `registry`: itself, as a URL, and Docker Hub's aliases. */
function keysFor(registry: string): string[] {
  if (registry === 'docker.io') return HUB_KEYS;
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

/** Credentials for `registry`, or undefined for anonymous access. */
export async function credentialsFor(registry: string, o: CredentialOptions): Promise<Credentials | undefined> {
  if (o.creds !== undefined) return parseCreds(o.creds);
  const explicit = o.authFile ?? o.env['REGISTRY_AUTH_FILE'];
  for (const file of authFiles(o)) {
    const parsed = await readAuthFile(file, explicit !== undefined);
    if (!parsed) continue;
    const found = await fromFile(parsed, registry, file, o.env);
    if (found) return found;
  }
  return undefined;
}

async function readAuthFile(file: string, mustExist: boolean): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && !mustExist) return undefined;
    throw new LayerflatError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `auth file ${file}: ${e.message}`);
  }
  if (text.trim() === '') return {}; // as containers/image reads it: an empty file holds no logins
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object') throw new Error('not a JSON object');
    return json as AuthFile;
  } catch (err) {
    throw new LayerflatError('USAGE', `auth file ${file}: ${(err as Error).message}`);
  }
}

async function fromFile(
  file: AuthFile,
  registry: string,
  where: string,
  env: NodeJS.ProcessEnv,
): Promise<Credentials | undefined> {
  const keys = keysFor(registry);
  const helper = keys.map((k) => file.credHelpers?.[k]).find((h) => typeof h === 'string');
  if (helper) return fromHelper(helper, registry, env);
  const key = keys.find((k) => file.auths?.[k] !== undefined);
  const entry = key !== undefined ? file.auths![key]! : undefined;
  if (entry) return fromEntry(entry, registry, where);
  if (typeof file.credsStore === 'string' && file.credsStore) return fromHelper(file.credsStore, registry, env, true);
  return undefined;
}

function fromEntry(entry: AuthEntry, registry: string, where: string): Credentials | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new LayerflatError('USAGE', `${where}: the "auth" of ${registry} is not base64 of USER:PASS`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username) return { username: entry.username, password: entry.password ?? '' };
  return undefined;
}

/**
 * Ask `docker-credential-NAME get` (the server URL on stdin, JSON on stdout). A store that has
 * nothing for this registry (credsStore holds every registry's) means anonymous; a helper named
 * for this registry that fails is an error.
 */
function fromHelper(
  name: string,
  registry: string,
  env: NodeJS.ProcessEnv,
  store = false,
): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const server = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException;
        const notFound = /credentials not found/i.test(`${stdout}${stderr}`);
        if (notFound && store) return resolve(undefined);
        if (e.code === 'ENOENT') {
          return reject(
            new LayerflatError('MISSING_TOOL', `${program} (the credential helper for ${registry}) is not on PATH`),
          );
        }
        return reject(
          new LayerflatError(
            'AUTH_FAILED',
            `${program} get for ${registry} failed: ${(stderr || stdout || e.message).trim()}`,
          ),
        );
      }
      try {
        const j = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!j.Secret) return resolve(undefined);
        // Docker's convention: a username of "<token>" marks an identity (refresh) token.
        resolve(
          j.Username === '<token>' ? { identityToken: j.Secret } : { username: j.Username ?? '', password: j.Secret },
        );
      } catch {
        reject(new LayerflatError('AUTH_FAILED', `${program} get for ${registry}: its answer is not JSON`));
      }
    });
    child.stdin?.end(server);
  });
}

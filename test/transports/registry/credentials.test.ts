import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authFiles, credentialsFor, parseCreds } from '../../../src/transports/registry/credentials.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lf-creds-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString('base64');
function write(rel: string, json: unknown): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

describe('registry credentials, where podman, skopeo and docker keep them', () => {
  it('--creds wins; a password may hold ":"', async () => {
    expect(parseCreds('u:p:q')).toEqual({ username: 'u', password: 'p:q' });
    expect(() => parseCreds(':p')).toThrow(/USER/);
    expect(await credentialsFor('r', { creds: 'a:b', env: {} })).toEqual({ username: 'a', password: 'b' });
  });

  it("reads the files in podman's order: $XDG_RUNTIME_DIR, ~/.config/containers, then docker's", () => {
    const env = { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/5' };
    expect(authFiles({ env })).toEqual([
      '/run/user/5/containers/auth.json',
      '/h/.config/containers/auth.json',
      '/h/.docker/config.json',
    ]);
    expect(authFiles({ env: { ...env, REGISTRY_AUTH_FILE: '/x.json' } })).toEqual(['/x.json']);
    expect(authFiles({ env, authFile: '/y.json' })).toEqual(['/y.json']);
    expect(authFiles({ env: { HOME: '/h', DOCKER_CONFIG: '/d' } }).at(-1)).toBe('/d/config.json');
  });

  it('finds auths by host or URL key, Docker Hub under its v1 URL, and falls through to the next file', async () => {
    const home = path.join(tmp, 'home1');
    write('home1/.config/containers/auth.json', { auths: { 'quay.io': { auth: b64('q:1') } } });
    write('home1/.docker/config.json', {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:2') },
        'https://reg.example:5000': { username: 'r', password: '3' },
      },
    });
    const env = { HOME: home };
    expect(await credentialsFor('quay.io', { env })).toEqual({ username: 'q', password: '1' });
    expect(await credentialsFor('docker.io', { env })).toEqual({ username: 'hub', password: '2' });
    expect(await credentialsFor('reg.example:5000', { env })).toEqual({ username: 'r', password: '3' });
    expect(await credentialsFor('other.example', { env })).toBeUndefined();
  });

  it('asks credHelpers / credsStore programs (docker-credential-NAME get), and says when one is missing', async () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const helper = path.join(bin, 'docker-credential-lftest');
    fs.writeFileSync(
      helper,
      '#!/bin/sh\nread server\nif [ "$server" = "helped.example" ]; then echo \'{"Username":"h","Secret":"s"}\'; ' +
        'else echo "credentials not found in native keychain"; exit 1; fi\n',
      { mode: 0o755 },
    );
    const home = path.join(tmp, 'home2');
    write('home2/.docker/config.json', { credsStore: 'lftest', credHelpers: { 'gone.example': 'nosuch' } });
    const env = { HOME: home, PATH: `${bin}:/usr/bin:/bin` };
    expect(await credentialsFor('helped.example', { env })).toEqual({ username: 'h', password: 's' });
    expect(await credentialsFor('elsewhere.example', { env })).toBeUndefined();
    await expect(credentialsFor('gone.example', { env })).rejects.toThrow(/MISSING_TOOL|docker-credential-nosuch/);
  });

  it('refuses a named auth file that is missing or not JSON, in one line', async () => {
    await expect(credentialsFor('r', { authFile: path.join(tmp, 'none.json'), env: {} })).rejects.toThrow(
      /auth file .*none\.json/,
    );
    fs.writeFileSync(path.join(tmp, 'bad.json'), '{');
    await expect(credentialsFor('r', { authFile: path.join(tmp, 'bad.json'), env: {} })).rejects.toThrow(/bad\.json/);
  });

  it('reads an empty auth file (as /dev/null or a fresh touch) as one with no logins', async () => {
    fs.writeFileSync(path.join(tmp, 'empty.json'), '');
    await expect(credentialsFor('r', { authFile: path.join(tmp, 'empty.json'), env: {} })).resolves.toBeUndefined();
    await expect(credentialsFor('r', { authFile: '/dev/null', env: {} })).resolves.toBeUndefined();
  });
});

/**
 * Where the Docker daemon listens: a DOCKER_HOST value read as the docker CLI reads it —
 * `unix://PATH` (default unix:///var/run/docker.sock) or `tcp://HOST[:PORT]` (port 2375). The
 * caller passes the value in (the CLI passes $DOCKER_HOST); nothing here reads the environment.
 * TLS to a tcp:// daemon is not supported: layerflat speaks plain HTTP only.
 */
import { LayerflatError } from '../../errors.js';

const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
const DEFAULT_TCP_PORT = 2375;

export type DaemonAddress =
  { kind: 'unix'; socketPath: string; text: string } | { kind: 'tcp'; host: string; port: number; text: string };

function invalid(text: string, why: string): LayerflatError {
  return new LayerflatError('USAGE', `DOCKER_HOST=${text}: ${why}`);
}

/** Hints for the schemes the docker CLI knows and layerflat does not speak. */
const UNSUPPORTED_SCHEMES: Readonly<Record<string, string>> = {
  ssh:
    'ssh:// is not supported; forward the socket instead (ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST) ' +
    'and set DOCKER_HOST=unix:///tmp/docker.sock',
  npipe: 'npipe:// (Windows named pipes) is not supported',
  fd: 'fd:// is an address dockerd listens on, not one a client can connect to',
  https: 'TLS to the Docker daemon is not supported; use unix:// (or a plain-HTTP tcp://HOST:PORT)',
};

/** The address `dockerHost` names; undefined or empty means the default socket. */
export function parseDockerHost(dockerHost: string | undefined): DaemonAddress {
  const text = dockerHost === undefined || dockerHost === '' ? DEFAULT_DOCKER_HOST : dockerHost;
  const scheme = /^([a-z]+):\/\//.exec(text)?.[1];
  if (scheme === undefined) throw invalid(text, 'expected unix://PATH or tcp://HOST:PORT');
  const rest = text.slice(scheme.length + 3);
  if (scheme === 'unix') {
    // "unix://" alone is the default socket, as the docker CLI takes it
    return { kind: 'unix', socketPath: rest === '' ? DEFAULT_DOCKER_HOST.slice('unix://'.length) : rest, text };
  }
  if (scheme === 'tcp' || scheme === 'http') return { kind: 'tcp', ...hostAndPort(text, rest), text };
  throw invalid(
    text,
    UNSUPPORTED_SCHEMES[scheme] ?? `unknown scheme "${scheme}://"; use unix://PATH or tcp://HOST:PORT`,
  );
}

/** "HOST", "HOST:PORT", "[v6]:PORT", ":PORT" (localhost), with an optional trailing "/". */
function hostAndPort(text: string, rest: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]*)(?::(\d+))?\/?$/.exec(rest);
  if (!m) throw invalid(text, 'expected tcp://HOST:PORT (a path after the address is not supported)');
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = m[2] === undefined ? DEFAULT_TCP_PORT : Number(m[2]);
  if (port < 1 || port > 65535) throw invalid(text, `port ${m[2]!} is out of range`);
  return { host, port };
}

/** Option value parsers shared by the commands; a bad value is a USAGE error in commander's words. */
import { InvalidArgumentError, type Command } from 'commander';
import type { RegistryOptions } from '../index.js';

/** "0", "12" — a whole number of things. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** --podman: the podman program for containers-storage: / podman: references. */
export const PODMAN_OPTION_HELP =
  'the podman program for containers-storage: / podman: (default: $LAYERFLAT_PODMAN, else podman on PATH)';

/** The podman program: --podman, else $LAYERFLAT_PODMAN (the library itself never reads the environment). */
export function podmanProgram(flag: string | undefined): string | undefined {
  return flag ?? (process.env['LAYERFLAT_PODMAN'] || undefined);
}

/** true / false, as skopeo's --tls-verify=false takes it. */
function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

/** The registry flags of a command; `sides`: also --src-… and --dest-… ones (flatten, verify). */
export interface RegistryFlags {
  creds?: string;
  srcCreds?: string;
  destCreds?: string;
  authfile?: string;
  tlsVerify?: boolean;
  srcTlsVerify?: boolean;
  destTlsVerify?: boolean;
  certDir?: string;
  srcCertDir?: string;
  destCertDir?: string;
}

/** Add skopeo's registry options to `command`. */
export function withRegistryOptions(command: Command, sides: boolean): Command {
  command
    .option('--creds <user:pass>', 'docker:// credentials (default: the auth files, as podman and docker keep them)')
    .option('--authfile <file>', 'the auth file to read instead of the default ones (default: $REGISTRY_AUTH_FILE)')
    .option('--tls-verify <bool>', "docker://: check the registry's certificate; false also allows plain http", bool)
    .option('--cert-dir <dir>', 'docker://: CA certificates (*.crt) and a client *.cert/*.key pair to use');
  if (!sides) return command;
  return command
    .option('--src-creds <user:pass>', 'as --creds, for the source only')
    .option('--dest-creds <user:pass>', 'as --creds, for the destination only')
    .option('--src-tls-verify <bool>', 'as --tls-verify, for the source only', bool)
    .option('--dest-tls-verify <bool>', 'as --tls-verify, for the destination only', bool)
    .option('--src-cert-dir <dir>', 'as --cert-dir, for the source only')
    .option('--dest-cert-dir <dir>', 'as --cert-dir, for the destination only');
}

/** The registry options of one side; the environment is the process's (the library never reads it). */
export function registryOptions(f: RegistryFlags, side?: 'src' | 'dest'): RegistryOptions {
  const pick = <T>(both: T | undefined, src: T | undefined, dest: T | undefined) =>
    (side === 'src' ? src : side === 'dest' ? dest : undefined) ?? both;
  const creds = pick(f.creds, f.srcCreds, f.destCreds);
  const tlsVerify = pick(f.tlsVerify, f.srcTlsVerify, f.destTlsVerify);
  const certDir = pick(f.certDir, f.srcCertDir, f.destCertDir);
  return {
    env: process.env,
    ...(creds !== undefined ? { creds } : {}),
    ...(f.authfile !== undefined ? { authFile: f.authfile } : {}),
    ...(tlsVerify !== undefined ? { tlsVerify } : {}),
    ...(certDir !== undefined ? { certDir } : {}),
  };
}

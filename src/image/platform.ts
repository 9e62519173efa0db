/**
 * Platforms ("os/arch[/variant]"): parsing --platform, the host's own, and matching an index
 * entry. Names are normalised the way containerd does (aarch64 → arm64, arm64/v8 → arm64,
 * arm → arm/v7) so that what users type and what indexes say compare equal.
 */
import os from 'node:os';
import { LayerflatError } from '../errors.js';
import type { Platform } from './types.js';

/** Node's process.arch → OCI architecture (GOARCH spelling). */
const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: os.endianness() === 'LE' ? 'ppc64le' : 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};

/**
 * Parse "os/arch[/variant]" as given to --platform. Fails with USAGE naming the input when it has
 * fewer than two or more than three non-empty parts. The result is normalised.
 */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new LayerflatError(
      'USAGE',
      `invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`,
    );
  }
  const [osName, architecture, variant] = parts as [string, string, string | undefined];
  return normalizePlatform({ os: osName, architecture, ...(variant ? { variant } : {}) });
}

/** The platform of the machine we run on, as an image for it would declare it. */
export function hostPlatform(): Platform {
  const osName = process.platform === 'win32' ? 'windows' : 'linux'; // macOS engines run Linux VMs
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  if (architecture !== 'arm') return normalizePlatform({ os: osName, architecture });
  const armVersion = String((process.config.variables as Record<string, unknown>)['arm_version'] ?? '7');
  return normalizePlatform({ os: osName, architecture, variant: `v${armVersion}` });
}

/** Lower-case, apply containerd's architecture aliases, and drop default variants. */
export function normalizePlatform(p: Platform): Platform {
  const osName = p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64';
  else if (arch === 'i386') arch = '386';
  else if (arch === 'aarch64') arch = 'arm64';
  else if (arch === 'armhf') [arch, variant] = ['arm', 'v7'];
  else if (arch === 'armel') [arch, variant] = ['arm', 'v6'];
  if (variant && /^\d/.test(variant)) variant = `v${variant}`;
  if (arch === 'arm64' && (variant === 'v8' || variant === 'v8.0')) variant = undefined;
  if (arch === 'arm' && !variant) variant = 'v7';
  if (arch === 'amd64' && variant === 'v1') variant = undefined;
  return { os: osName, architecture: arch, ...(variant ? { variant } : {}) };
}

/**
 * Whether an index entry's platform satisfies the wanted one: same os and architecture after
 * normalisation, and the same variant when the wanted platform names one (or implies one, as
 * arm implies v7).
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || w.variant === h.variant;
}

/** "os/arch[/variant]". */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

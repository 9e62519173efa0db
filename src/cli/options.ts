/** Option value parsers shared by the commands; a bad value is a USAGE error in commander's words. */
import { InvalidArgumentError } from 'commander';

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

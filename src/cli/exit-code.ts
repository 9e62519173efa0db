/**
 * Exit codes, as a pure function of how a command ended (docs/errors.md lists them):
 * 0 done; 1 the images differ (verify), or reclaim did part of its work; 2 bad input or usage — a
 * LayerflatError; 3 another layerflat holds the lock (reclaim); 70 a bug.
 */
import { LayerflatError } from '../index.js';

const EXIT_OK = 0;
const EXIT_DIFFERENT = 1;
export const EXIT_BAD_INPUT = 2;
const EXIT_BUSY = 3;
const EXIT_INTERNAL = 70;

export function exitCodeFor(outcome: { error?: unknown; different?: boolean }): number {
  if (outcome.error === undefined) return outcome.different ? EXIT_DIFFERENT : EXIT_OK;
  if (outcome.error instanceof LayerflatError) {
    if (outcome.error.code === 'BUSY') return EXIT_BUSY;
    return outcome.error.code === 'VERIFY_FAILED' ? EXIT_DIFFERENT : EXIT_BAD_INPUT;
  }
  return EXIT_INTERNAL;
}

import { LayerflatError, type ErrorCode } from '../errors.js';

/**
 * A problem found by a parser that does not know where it is (pax records, numeric fields, paths).
 * It is a LayerflatError already; the header machine re-throws it naming the archive and offset.
 */
export class TarProblem extends LayerflatError {}

/**
 * The one-line error every tar failure becomes: "<what> at byte offset <n>", with "<where>: " in
 * front when the reader was told where it is (else the layer loop adds it, see withContext).
 */
export function tarError(code: ErrorCode, where: string | undefined, offset: number, what: string): LayerflatError {
  const message = `${what} at byte offset ${offset}`;
  if (where === undefined) return new LayerflatError(code, message);
  return new LayerflatError(code, `${where}: ${message}`, { located: true });
}

/** Turn a TarProblem into a located LayerflatError; anything else passes through unchanged. */
export function locate(err: unknown, where: string | undefined, offset: number): unknown {
  return err instanceof TarProblem ? tarError(err.code, where, offset, err.message) : err;
}

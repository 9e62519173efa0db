import { LayerflatError, type ErrorCode } from '../errors.js';

/**
 * A problem found by a parser that does not know where it is (pax records, numeric fields, paths).
 * It is a LayerflatError already; the header machine re-throws it naming the archive and offset.
 */
export class TarProblem extends LayerflatError {}

/** The one-line error every tar failure becomes: "<where>: <what> at byte offset <n>". */
export function tarError(code: ErrorCode, where: string, offset: number, what: string): LayerflatError {
  return new LayerflatError(code, `${where}: ${what} at byte offset ${offset}`);
}

/** Turn a TarProblem into a located LayerflatError; anything else passes through unchanged. */
export function locate(err: unknown, where: string, offset: number): unknown {
  return err instanceof TarProblem ? tarError(err.code, where, offset, err.message) : err;
}

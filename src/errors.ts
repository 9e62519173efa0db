/**
 * The one error type of layerflat. Every failure the user can meet carries a stable `code`
 * (listed in docs/errors.md) and a one-line message that names the problem and the place;
 * the underlying error, if any, hangs off `cause`.
 */
export type ErrorCode =
  | 'BAD_REFERENCE' // a transport:reference string we cannot parse
  | 'UNSUPPORTED_TRANSPORT' // a transport we know by name but do not implement yet
  | 'NOT_FOUND' // a file, directory or blob that is not there
  | 'REF_NOT_FOUND' // the :REF asked for is not in the source
  | 'AMBIGUOUS_REF' // several images and no REF (or a REF matching several)
  | 'PLATFORM_NOT_FOUND' // no manifest in an index matches --platform
  | 'NOT_A_TAR' // input that should be a tar is not one
  | 'TRUNCATED' // a tar or blob ends early
  | 'BAD_CHECKSUM' // a tar header whose checksum does not match
  | 'BAD_TAR' // any other malformed tar header or pax record
  | 'BAD_PATH' // an entry path that is absolute, contains "..", or is a bare ".wh."
  | 'DIGEST_MISMATCH' // a blob whose bytes do not hash to its digest
  | 'SIZE_MISMATCH' // a blob whose length differs from its descriptor
  | 'BAD_MANIFEST' // JSON that is not a valid manifest / index / config
  | 'UNKNOWN_MEDIA_TYPE' // a media type we cannot read
  | 'UNSUPPORTED' // valid input we deliberately do not handle (named precisely)
  | 'MISSING_TOOL' // an external program we need (zstd) is not installed
  | 'DEST_EXISTS' // the destination exists and --force was not given
  | 'VERIFY_FAILED' // --verify found the output differs from the input
  | 'IO' // an operating-system error reading or writing
  | 'USAGE'; // bad command-line usage

export class LayerflatError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LayerflatError';
    this.code = code;
  }
}

/** Wrap any thrown value as a LayerflatError, keeping ours as they are. */
export function asLayerflatError(err: unknown, context?: string): LayerflatError {
  if (err instanceof LayerflatError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = context ? `${context}: ` : '';
  if (e && e.code === 'ENOENT') return new LayerflatError('NOT_FOUND', `${where}${e.message}`, { cause: err });
  return new LayerflatError('IO', `${where}${e?.message ?? String(err)}`, { cause: err });
}

/**
 * The one error type of layerflat. Every failure the user can meet carries a stable `code`
 * (listed in docs/errors.md) and a one-line message that names the problem and the place;
 * the underlying error, if any, hangs off `cause`.
 *
 * Rules deep down (tar parsing, whiteout naming, the planner) throw without saying where they
 * are; the loop that knows — "layer 3/14 (sha256:ab12…) of x.tar" — adds that once, with
 * `withContext`.
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
  | 'BAD_TAR' // any other malformed tar header or pax record, or a layer the engines refuse
  | 'BAD_PATH' // an entry path that still escapes the root once cleaned, or a bare ".wh."
  | 'DIGEST_MISMATCH' // a blob whose bytes do not hash to its digest
  | 'SIZE_MISMATCH' // a blob whose length differs from its descriptor
  | 'BAD_MANIFEST' // JSON that is not a valid manifest / index / config
  | 'UNKNOWN_MEDIA_TYPE' // a media type we cannot read
  | 'UNSUPPORTED' // valid input we deliberately do not handle (named precisely)
  | 'MISSING_TOOL' // an external program we need (zstd, podman) is not installed
  | 'ENGINE_FAILED' // a container engine's command (podman save, load, tag) failed; carries its stderr
  | 'DEST_EXISTS' // the destination exists and --force was not given
  | 'DEST_INCOMPLETE' // unpack: DIR is marked as an unpack that did not finish
  | 'CANNOT_CHOWN' // unpack: this process cannot give the rootfs's files their owners
  | 'VERIFY_FAILED' // --verify found the output differs from the input
  | 'IO' // an operating-system error reading or writing
  | 'AUTH_FAILED' // a registry refused our credentials (401) or the access asked for (403)
  | 'REGISTRY_FAILED' // a registry answered a request with an error we cannot act on (carries its message)
  | 'BUSY' // another layerflat holds the lock (reclaim: one at a time per storage)
  | 'USAGE'; // bad command-line usage

export class LayerflatError extends Error {
  readonly code: ErrorCode;
  /** The message already names where the problem is (see withContext). */
  readonly located: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; located?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LayerflatError';
    this.code = code;
    this.located = options?.located ?? false;
  }
}

/** What the operating system says for an errno, in words a sysadmin knows. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EPIPE: 'the reader closed the pipe',
  EMFILE: 'too many open files',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'input/output error',
  EBADF: 'bad file descriptor',
  EFBIG: 'file too large',
  ENXIO: 'no such device or address',
};

/** The errno code of an operating-system error, if `err` is one. */
function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * Wrap any thrown value as a LayerflatError, keeping ours as they are. An operating-system error
 * becomes IO (NOT_FOUND for ENOENT) naming `context` — the path, or "stdin"/"stdout" — and the
 * cause in words: "writing out.tar: no space left on the device (ENOSPC)".
 */
export function asLayerflatError(err: unknown, context?: string): LayerflatError {
  if (err instanceof LayerflatError) return err;
  const where = context ? `${context}: ` : '';
  const errno = errnoOf(err);
  if (errno) {
    const words = ERRNO_WORDS[errno] ?? (err as Error).message.replace(/^E[A-Z0-9]+: /, '').replace(/, \w+ '.*$/, '');
    const code = errno === 'ENOENT' ? 'NOT_FOUND' : 'IO';
    return new LayerflatError(code, `${where}${words} (${errno})`, { cause: err, located: context !== undefined });
  }
  const e = err as Error | undefined;
  return new LayerflatError('IO', `${where}${e?.message ?? String(err)}`, {
    cause: err,
    located: context !== undefined,
  });
}

/**
 * `err` with `where` in front of its message, once: a LayerflatError that does not yet say where
 * it is gets it, one that does passes through, and an operating-system error becomes an IO
 * error naming `where`. Anything else is a bug and passes through untouched.
 */
export function withContext(err: unknown, where: string): unknown {
  if (err instanceof LayerflatError) {
    if (err.located) return err;
    return new LayerflatError(err.code, `${where}: ${err.message}`, { cause: err, located: true });
  }
  if (errnoOf(err)) return asLayerflatError(err, where);
  return err;
}

/** Iterate `items`, adding `where` (withContext) to whatever it throws. */
export async function* withContextEach<T>(items: AsyncIterable<T>, where: string): AsyncGenerator<T> {
  try {
    yield* items;
  } catch (err) {
    throw withContext(err, where);
  }
}

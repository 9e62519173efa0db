/**
 * Content digests as one value: parsed once where a document or a name gives one, then carried
 * as a Digest ("sha256:<hex>" when printed or serialised), so no other module re-reads the text.
 */
import { createHash } from 'node:crypto';
import { LayerflatError } from '../errors.js';

/** The OCI digest grammar: algorithm ":" encoded. */
const GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** Registered algorithms and their lowercase hex lengths (OCI image-spec descriptor.md). */
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

export type DigestAlgorithm = 'sha256' | 'sha512';

export class Digest {
  private constructor(
    readonly algorithm: DigestAlgorithm,
    readonly hex: string,
  ) {}

  /**
   * Parse "sha256:<64 lowercase hex>" (or sha512 with 128). BAD_MANIFEST for text that is no
   * digest; UNSUPPORTED for a well-formed digest of an algorithm we do not know.
   */
  static parse(text: unknown): Digest {
    const shown =
      typeof text === 'string'
        ? JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)
        : typeof text === 'object' && text !== null
          ? Array.isArray(text)
            ? 'an array'
            : 'an object' // String() would call the document's own "toString" key
          : String(text);
    const m = typeof text === 'string' ? GRAMMAR.exec(text) : null;
    if (!m) throw new LayerflatError('BAD_MANIFEST', `invalid digest ${shown}: expected "sha256:" and 64 hex digits`);
    const [, algorithm, hex] = m as unknown as [string, string, string];
    const length = HEX_LENGTH[algorithm];
    if (length === undefined) {
      throw new LayerflatError('UNSUPPORTED', `digest algorithm "${algorithm}" is not supported (only sha256, sha512)`);
    }
    if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
      throw new LayerflatError(
        'BAD_MANIFEST',
        `invalid ${algorithm} digest ${shown}: expected ${length} lowercase hex`,
      );
    }
    return new Digest(algorithm as DigestAlgorithm, hex);
  }

  /** The digest a name carries ("<hex>", "<hex>.json", "blobs/sha256/<hex>"), if it carries one. */
  static inName(name: string, pattern: RegExp): Digest | undefined {
    const hex = pattern.exec(name)?.slice(1).find(Boolean);
    return hex !== undefined && /^[a-f0-9]{64}$/.test(hex) ? new Digest('sha256', hex) : undefined;
  }

  /** A sha256 digest from its hex. */
  static sha256Hex(hex: string): Digest {
    return Digest.parse(`sha256:${hex}`);
  }

  /** The sha256 of `data` (strings hashed as UTF-8). */
  static of(data: Buffer | string): Digest {
    return new Digest('sha256', createHash('sha256').update(data).digest('hex'));
  }

  /** "sha256:<hex>". */
  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** For messages: "sha256:0123456789ab". */
  short(): string {
    return `${this.algorithm}:${this.hex.slice(0, 12)}`;
  }

  equals(other: Digest | undefined): boolean {
    return other !== undefined && other.algorithm === this.algorithm && other.hex === this.hex;
  }

  /** Whether `text` ("sha256:ab12", "ab12") is a prefix of this digest. */
  startsWith(text: string): boolean {
    return text.includes(':') ? this.toString().startsWith(text) : this.hex.startsWith(text);
  }

  /** Where an OCI layout stores the blob: "blobs/sha256/<hex>". */
  get blobPath(): string {
    return `blobs/${this.algorithm}/${this.hex}`;
  }
}

/** The lowercase hex sha256 of `data` (strings are hashed as UTF-8). */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The reclaim journal, pure: one record per image being reclaimed, the phases it moves through,
 * and what to do with a record a killed run left, decided from what the engine shows now.
 *
 * planned    the record exists before anything is made; the temporary name is in it
 * loaded     flatten --verify checked the flat archive against the original, and podman loaded it
 *            under the temporary name; the flat layer's diff_id and the flat image ID are recorded
 * verified   the loaded image was checked (check.ts): one layer with that diff_id, the same Config
 * tags-moved every name of the original is on the flat image
 * (the record is removed once the original is removed, or kept because containers use it)
 *
 * Names move only after `verified`, each in one engine step (the name leaves the original as it
 * reaches the flat image), so at every instant each name is on the original or on a verified flat
 * image. A record before `verified` is rolled back (the temporary image removed); from `verified`
 * on it is finished.
 */
import type { StoredImage } from '../transports/types.js';

/** The phases, in order; the last two are never in a record (it is gone by then), only reported. */
export type Phase = 'planned' | 'loaded' | 'verified' | 'tags-moved' | 'original-removed' | 'done';

export interface JournalRecord {
  version: 1;
  originalId: string;
  /** The original's names when the reclaim began: the ones to move. */
  names: string[];
  tempName: string;
  phase: Exclude<Phase, 'original-removed' | 'done'>;
  flatId?: string;
  flatDiffId?: string;
  startedAt: string;
}

export function recordName(originalId: string): string {
  return `${originalId}.json`;
}

/** A parsed record, or undefined when the JSON is not one (it is then reported and left alone). */
export function asRecord(value: unknown): JournalRecord | undefined {
  const r = value as Partial<JournalRecord> | undefined;
  if (!r || r.version !== 1 || typeof r.originalId !== 'string' || !/^[a-f0-9]{64}$/.test(r.originalId)) return;
  if (!Array.isArray(r.names) || typeof r.tempName !== 'string') return;
  if (!['planned', 'loaded', 'verified', 'tags-moved'].includes(r.phase ?? '')) return;
  return r as JournalRecord;
}

/** One engine step. */
export type Step =
  | { kind: 'tag'; id: string; name: string }
  | { kind: 'untag'; name: string }
  | { kind: 'remove'; id: string; what: 'original' | 'temporary' };

/** What the engine shows of a record's images now. */
export interface Observed {
  original?: StoredImage;
  /** The flat image, found by its recorded ID or else by the temporary name. */
  flat?: StoredImage;
  /** Containers made from the original. */
  originalUsers: number;
}

export type Recovery =
  { kind: 'rollback'; steps: Step[]; why: string } | { kind: 'recheck'; why: string } | { kind: 'finish'; why: string };

/**
 * What to do with `record` left by a run that did not end: roll back what is not verified (the
 * temporary image, unless it carries a user's name), check again an image loaded but not yet
 * checked, finish what is.
 */
export function decideRecovery(record: JournalRecord, seen: Observed): Recovery {
  const flat = seen.flat;
  if (record.phase === 'planned' || !flat) {
    return { kind: 'rollback', steps: rollbackSteps(record, flat), why: rollbackWhy(record, flat) };
  }
  if (record.phase === 'loaded') return { kind: 'recheck', why: 'loaded, not yet checked: checking it again' };
  return { kind: 'finish', why: `${record.phase}: moving the remaining names and finishing` };
}

function rollbackWhy(record: JournalRecord, flat: StoredImage | undefined): string {
  if (!flat) return `${record.phase}: no flat image in the engine; dropping the record`;
  return `${record.phase}: the flat image was not verified; removing it`;
}

/** Remove the unverified temporary image, or only its temporary name if it somehow has others. */
export function rollbackSteps(record: JournalRecord, flat: StoredImage | undefined): Step[] {
  if (!flat || !flat.names.includes(record.tempName)) return [];
  const others = flat.names.filter((n) => n !== record.tempName);
  if (others.length > 0 || flat.id === record.originalId) return [{ kind: 'untag', name: record.tempName }];
  return [{ kind: 'remove', id: flat.id, what: 'temporary' }];
}

/**
 * The steps from a verified flat image to the end: each of the record's names still on the
 * original moves to the flat image (a name the user has since given another image stays there),
 * then the temporary name goes — or, if no name would be left on the flat image while the
 * original is still there, the flat image goes. Removing the original is decided apart (finalStep).
 */
export function moveSteps(record: JournalRecord, seen: Observed): Step[] {
  const flat = seen.flat;
  if (!flat) return [];
  const onOriginal = new Set(seen.original?.names ?? []);
  const steps: Step[] = record.names
    .filter((n) => onOriginal.has(n))
    .map((name) => ({ kind: 'tag' as const, id: flat.id, name }));
  if (!flat.names.includes(record.tempName)) return steps;
  const others = new Set([...flat.names, ...steps.map((s) => (s.kind === 'tag' ? s.name : ''))]);
  others.delete(record.tempName);
  others.delete('');
  if (others.size > 0 || !seen.original) steps.push({ kind: 'untag', name: record.tempName });
  else steps.push({ kind: 'remove', id: flat.id, what: 'temporary' });
  return steps;
}

/** After the names moved: remove the original when it has no name left and no container uses it. */
export function finalStep(record: JournalRecord, seen: Observed): Step | 'kept' | 'gone' {
  const original = seen.original;
  if (!original) return 'gone';
  if (original.names.length > 0 || seen.originalUsers > 0) return 'kept';
  return { kind: 'remove', id: record.originalId, what: 'original' };
}

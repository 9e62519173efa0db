/**
 * The reclaim use case: flatten the images of an engine's storage in place, for VFS hosts. Each
 * image is flattened (--verify) and loaded under a temporary name, the loaded image is checked
 * (check.ts), every name moves to it, and the original is removed when no container uses it. A
 * journal record per image (journal.ts) lets the next run finish or roll back whatever a killed
 * run left; a lock keeps one reclaim per storage.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { asLayerflatError, LayerflatError } from '../errors.js';
import { flatten } from '../flatten/flatten.js';
import { withLock } from '../fsio/lock.js';
import { ensureDir, readRecords, removeRecord, writeRecord } from '../fsio/records.js';
import { inspect } from '../inspect/inspect.js';
import { engineStore } from '../transports/index.js';
import type { EngineStore, StoredImage } from '../transports/types.js';
import { checkFlat } from './check.js';
import {
  asRecord,
  decideRecovery,
  finalStep,
  moveSteps,
  recordName,
  rollbackSteps,
  type JournalRecord,
  type Observed,
  type Phase,
  type Step,
} from './journal.js';
import { parseBytes, parseMinSaving, savingShortfall, selectImages, tempName, type MinSaving } from './select.js';
import type { ImageReport, ReclaimResult, RecoveryReport } from './types.js';

export type { ImageReport, ReclaimResult, RecoveryReport } from './types.js';
export type { Phase } from './journal.js';

export interface ReclaimOptions {
  /** "podman" (default) or "docker". */
  engine?: string;
  podman?: string;
  dockerHost?: string;
  /** Where journals and locks live; each storage gets a directory of its own inside. */
  stateDir: string;
  /** Where the save spool and the flat archive are made (default: the OS temp dir). */
  tmpDir?: string;
  /** Shell globs on names; none: every image. */
  patterns?: string[];
  minLayers?: number;
  /** Bytes ("500M") or a factor ("2x"). */
  minSaving?: string | MinSaving;
  dryRun?: boolean;
  /** Bytes to leave free on each filesystem reclaim writes to, or "256M", "1G"… (default 256 MiB). */
  reserve?: number | string;
  /** How long to wait for another reclaim of the same storage (default 0: fail at once, BUSY). */
  lockTimeoutMs?: number;
  /** Called as each image is done with. */
  onImage?: (report: ImageReport) => void;
  /** Called after each journal phase is reached, before the next step (a test hook may stop there). */
  onPhase?: (phase: Phase, originalId: string) => void | Promise<void>;
}

const DEFAULT_RESERVE = 256 << 20;

/** Reclaim the chosen images of one engine's storage. */
export async function reclaim(options: ReclaimOptions): Promise<ReclaimResult> {
  const started = performance.now();
  const minSaving = typeof options.minSaving === 'string' ? parseMinSaving(options.minSaving) : options.minSaving;
  const reserve = reserveBytes(options.reserve);
  const store = engineStore(options.engine ?? 'podman', options);
  const identity = await store.identity();
  const dir = path.join(options.stateDir, crypto.createHash('sha256').update(identity).digest('hex').slice(0, 16));
  await ensureDir(dir);
  const run = new Run(store, dir, options, minSaving, reserve);
  const work = () => run.all();
  const lock = path.join(dir, 'reclaim.lock');
  const body = await withLock(lock, work, { timeoutMs: options.lockTimeoutMs ?? 0, busyCode: 'BUSY' });
  return { engine: store.engine, storage: identity, ...body, seconds: (performance.now() - started) / 1000 };
}

function reserveBytes(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_RESERVE;
  const bytes = typeof value === 'number' ? value : parseBytes(value);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) {
    throw new LayerflatError('USAGE', `--reserve ${JSON.stringify(value)}: expected bytes (256M, 1G, 123456)`);
  }
  return bytes;
}

type RunResult = Omit<ReclaimResult, 'engine' | 'storage' | 'seconds'>;

class Run {
  private readonly images: ImageReport[] = [];

  constructor(
    private readonly store: EngineStore,
    private readonly dir: string,
    private readonly o: ReclaimOptions,
    private readonly minSaving: MinSaving | undefined,
    private readonly reserve: number,
  ) {}

  async all(): Promise<RunResult> {
    const dryRun = this.o.dryRun === true;
    const recovered = dryRun ? [] : await this.recoverAll();
    const busy = new Set([...(await readRecords(this.dir)).keys()].map((n) => n.replace(/\.json$/, '')));
    const before = dryRun ? undefined : await this.store.usage();
    const { chosen, skipped } = selectImages(await this.store.images(), this.o, busy);
    for (const s of skipped) this.report(base(s.image, 'skipped', s.reason));
    let stoppedForSpace = false;
    for (const image of chosen) {
      if (stoppedForSpace) {
        this.report(base(image, 'stopped', 'an earlier image did not fit in the free space'));
        continue;
      }
      const report = await this.one(image).catch((err: unknown) => failed(image, err));
      stoppedForSpace = report.status === 'stopped';
      this.report(report);
    }
    const after = before && (await this.store.usage());
    // two measures taken the same way, or none (du may fail once and the fallback differ)
    const freed =
      before && after && before.method === after.method
        ? { bytes: before.bytes - after.bytes, before: before.bytes, after: after.bytes, method: after.method }
        : undefined;
    return { dryRun, recovered, images: this.images, freed, stoppedForSpace };
  }

  private report(r: ImageReport): void {
    this.images.push(r);
    this.o.onImage?.(r);
  }

  private async one(image: StoredImage): Promise<ImageReport> {
    const room = this.o.dryRun ? undefined : await this.roomFor(image);
    if (room) return base(image, 'stopped', room);
    const { vfs } = await inspect({
      dockerHost: this.o.dockerHost,
      source: this.store.reference(image.id),
      tmpDir: this.o.tmpDir,
      podman: this.o.podman,
    });
    const predicted = {
      savingBytes: vfs.savingBytes,
      savingFactor: vfs.savingFactor,
      imageBytes: vfs.imageBytes,
      flatImageBytes: vfs.flatImageBytes,
    };
    const short = savingShortfall(vfs, this.minSaving);
    if (short) return { ...base(image, 'skipped', short), predicted };
    if (this.o.dryRun) return { ...base(image, 'planned'), predicted };
    const record: JournalRecord = {
      version: 1,
      originalId: image.id,
      names: [...image.names],
      tempName: tempName(image.id),
      phase: 'planned',
      startedAt: new Date().toISOString(),
    };
    await this.save(record);
    const flat = await flatten({
      source: this.store.reference(image.id),
      dest: this.store.reference(record.tempName),
      verify: true,
      force: true,
      tmpDir: this.o.tmpDir,
      podman: this.o.podman,
      dockerHost: this.o.dockerHost,
    }).catch(async (err: unknown) => {
      await this.rollback(record);
      throw err;
    });
    record.flatId = flat.configDigest.replace(/^sha256:/, '');
    record.flatDiffId = flat.layers.at(-1)!.diffId;
    await this.save({ ...record, phase: 'loaded' });
    const report = await this.checkAndFinish({ ...record, phase: 'loaded' });
    if (report.status === 'kept') {
      // the original's copies, and each container's own (on VFS at least one copy of the tree)
      const n = report.containers?.length ?? 0;
      report.freedByRemovingContainers = vfs.imageBytes + n * vfs.flatImageBytes;
    }
    return { ...report, predicted };
  }

  /**
   * Why the next image would not fit (the numbers), or undefined when it does. Checked before
   * anything is saved, so the bound is the engine's size of the image (its layers' bytes, at least
   * the flat layer's): the temporary dir holds one save of it and the flat archive, the storage
   * the flat image.
   */
  private async roomFor(image: StoredImage): Promise<string | undefined> {
    const flatBytes = image.size;
    const reserve = this.reserve;
    const tmp = this.o.tmpDir ?? os.tmpdir();
    const storage = await this.store.storageDir();
    const needs: [string, number][] = [[tmp, image.size + flatBytes + reserve]];
    if (storage) needs.push([storage, flatBytes + reserve]);
    for (const [where, need] of needs) {
      const free = await this.store.freeBytes(where);
      if (free !== undefined && free < need) {
        return (
          `${where} has ${free} bytes free; this image needs about ${need - reserve} there ` +
          `plus ${reserve} kept free: stopping before the disk fills`
        );
      }
    }
    return undefined;
  }

  private async save(record: JournalRecord): Promise<void> {
    await writeRecord(this.dir, recordName(record.originalId), record);
    await this.o.onPhase?.(record.phase, record.originalId);
  }

  private async drop(record: JournalRecord, phase: Phase): Promise<void> {
    await removeRecord(this.dir, recordName(record.originalId));
    await this.o.onPhase?.(phase, record.originalId);
  }

  private async observe(record: JournalRecord): Promise<Observed> {
    const original = await this.store.image(record.originalId);
    let flat = record.flatId ? await this.store.image(record.flatId) : undefined;
    flat ??= await this.store.image(record.tempName);
    if (flat?.id === record.originalId) flat = undefined;
    const users = (await this.store.containers()).filter((c) => c.imageId === record.originalId);
    return { original, flat, originalUsers: users.length };
  }

  private async steps(steps: Step[]): Promise<void> {
    for (const s of steps) {
      if (s.kind === 'tag') await this.store.tag(s.id, s.name);
      else if (s.kind === 'untag') await this.store.untag(s.name);
      else await this.store.remove(s.id);
    }
  }

  private async rollback(record: JournalRecord): Promise<void> {
    const seen = await this.observe(record);
    await this.steps(rollbackSteps(record, seen.flat));
    await removeRecord(this.dir, recordName(record.originalId));
  }

  /** A loaded image: check it; verified, move the names and finish; otherwise roll back. */
  private async checkAndFinish(record: JournalRecord): Promise<ImageReport> {
    const seen = await this.observe(record);
    const problems =
      seen.original && seen.flat && record.flatDiffId
        ? checkFlat(seen.original, seen.flat, record.flatDiffId)
        : ['the original or the flat image is gone'];
    if (problems.length > 0) {
      await this.rollback(record);
      throw new LayerflatError('VERIFY_FAILED', `the loaded flat image fails its check: ${problems.join('; ')}`);
    }
    const verified: JournalRecord = { ...record, phase: 'verified', flatId: seen.flat!.id };
    await this.save(verified);
    return this.finish(verified, seen.original!);
  }

  /** From verified: move every name, then remove the original unless a container uses it. */
  private async finish(record: JournalRecord, original: StoredImage | undefined): Promise<ImageReport> {
    await this.steps(moveSteps(record, await this.observe(record)));
    await this.save({ ...record, phase: 'tags-moved' });
    const seen = await this.observe(record);
    const last = finalStep(record, seen);
    const shown = original ?? seen.original;
    const report: ImageReport = {
      id: record.originalId,
      names: record.names,
      layers: shown?.layers.length ?? 0,
      status: 'reclaimed',
      flatId: record.flatId,
    };
    if (last === 'kept') {
      const users = (await this.store.containers()).filter((c) => c.imageId === record.originalId);
      const used = users.map((u) => u.name);
      Object.assign(report, {
        status: 'kept',
        reason: `${users.length} container(s) use the original, which is kept (untagged): ${used.join(', ')}`,
        containers: used,
      });
    } else if (last !== 'gone') {
      await this.steps([last]);
      await this.o.onPhase?.('original-removed', record.originalId);
    }
    await this.drop(record, 'done');
    return report;
  }

  /** Finish or roll back every record a run that did not end left. */
  private async recoverAll(): Promise<RecoveryReport[]> {
    const out: RecoveryReport[] = [];
    for (const [name, value] of await readRecords(this.dir)) {
      const record = asRecord(value);
      if (!record) {
        out.push({
          originalId: name.replace(/\.json$/, ''),
          phase: 'planned',
          action: 'unreadable record left',
          outcome: 'left',
        });
        continue;
      }
      out.push(await this.recover(record));
    }
    return out;
  }

  private async recover(record: JournalRecord): Promise<RecoveryReport> {
    const seen = await this.observe(record);
    const d = decideRecovery(record, seen);
    const r = { originalId: record.originalId, phase: record.phase, action: d.why };
    if (d.kind === 'rollback') {
      await this.steps(d.steps);
      await removeRecord(this.dir, recordName(record.originalId));
      return { ...r, outcome: 'rolled-back' };
    }
    try {
      const done = d.kind === 'recheck' ? await this.checkAndFinish(record) : await this.finish(record, seen.original);
      return { ...r, outcome: done.status === 'kept' ? 'kept' : 'finished' };
    } catch (err) {
      const e = asLayerflatError(err);
      return { ...r, action: `${d.why}: ${e.message}`, outcome: e.code === 'VERIFY_FAILED' ? 'rolled-back' : 'left' };
    }
  }
}

function base(image: StoredImage, status: ImageReport['status'], reason?: string): ImageReport {
  return { id: image.id, names: image.names, layers: image.layers.length, status, ...(reason ? { reason } : {}) };
}

function failed(image: StoredImage, err: unknown): ImageReport {
  const e = asLayerflatError(err);
  return { ...base(image, 'failed', e.message), code: e.code };
}

/** What `reclaim` reports; JSON output is these objects as they are. Every size is in bytes. */
import type { Phase } from './journal.js';

type ImageStatus =
  | 'reclaimed' // flat image carries every name, the original is removed
  | 'kept' // flat image carries every name; the original stays for the containers that use it
  | 'planned' // --dry-run: would be reclaimed
  | 'skipped' // not taken (a threshold, already flat, no name)
  | 'stopped' // not started: not enough free space
  | 'failed'; // an error; nothing was lost (the original keeps its names)

export interface ImageReport {
  id: string;
  names: string[];
  layers: number;
  status: ImageStatus;
  /** Why it was skipped, stopped, kept or failed. */
  reason?: string;
  /** inspect's VFS model: the image plus one container, layered vs flat. */
  predicted?: { savingBytes: number; savingFactor: number; imageBytes: number; flatImageBytes: number };
  flatId?: string;
  /** kept: the containers that use the original, and what removing them (and it) would free. */
  containers?: string[];
  freedByRemovingContainers?: number;
  /** failed: the error code. */
  code?: string;
}

export interface RecoveryReport {
  originalId: string;
  phase: Phase;
  action: string;
  /** The images' state after the recovery. */
  outcome: 'rolled-back' | 'finished' | 'kept' | 'left';
}

export interface ReclaimResult {
  engine: string;
  storage: string;
  dryRun: boolean;
  recovered: RecoveryReport[];
  images: ImageReport[];
  /** Measured, not predicted (undefined on --dry-run or when the engine cannot tell). */
  freed?: { bytes: number; before: number; after: number; method: string };
  /** Stopped before an image because free space would not cover it. */
  stoppedForSpace: boolean;
  seconds: number;
}

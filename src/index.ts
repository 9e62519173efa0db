/**
 * layerflat as a library: flatten an image, verify that two images are the same filesystem,
 * inspect what layers cost, unpack an image into a rootfs directory, reclaim an engine's disk by
 * flattening its images in place. The CLI
 * uses only what is exported here. The library never touches the process: streams for "-" are
 * passed in, and a program that wants temporary files removed when it is interrupted calls
 * `removeTemporaries()` from its own signal handler.
 */
export { flatten, type FlattenOptions, type FlattenProgress, type FlattenResult } from './flatten/flatten.js';
export { verify, ENGINE_PATHS, type VerifyOptions, type VerifyResult } from './verify/verify.js';
export type { Difference, DifferenceKind } from './verify/compare.js';
export { inspect, type InspectOptions } from './inspect/inspect.js';
export type { InspectResult, LayerReport, ShadowedFile, VfsCost } from './inspect/types.js';
export { unpack, type UnpackOptions, type UnpackProgress, type UnpackResult } from './unpack/unpack.js';
export {
  reclaim,
  type ImageReport,
  type Phase,
  type ReclaimOptions,
  type ReclaimResult,
  type RecoveryReport,
} from './reclaim/reclaim.js';
export { LayerflatError, asLayerflatError, type ErrorCode } from './errors.js';
export type { Compression, Image, ImageConfig, Layer, Platform } from './image/types.js';
export { displayPath } from './tar/entry.js';
export { removeTemporaries } from './fsio/cleanup.js';
export { writesToStdout } from './transports/reference.js';
export type { RegistryOptions } from './transports/registry/client.js';
export { checkFileDest, writeFileSafely } from './fsio/staged-output.js';
export { availableCores } from './compress/cores.js';
export { VERSION } from './version.js';

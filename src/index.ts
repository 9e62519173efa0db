/**
 * layerflat as a library: flatten an image (and, later, verify and inspect). The CLI uses only
 * what is exported here.
 */
export { flatten, type FlattenOptions, type FlattenProgress, type FlattenResult } from './flatten.js';
export { LayerflatError, asLayerflatError, type ErrorCode } from './errors.js';
export type { Compression, Image, ImageConfig, Layer, Platform } from './image/types.js';
export { VERSION } from './version.js';

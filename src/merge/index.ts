/** The merge: whiteout rules, hardlink re-homing and keep-base whiteouts over layer tars. */
export { mergeLayers, scanLayers, type LayerTar, type MergeOptions, type MergeStats } from './merge-stream.js';
export { MergePlanner, type Decision, type DropReason, type PlanEntry } from './planner.js';
export { whiteoutsForBase } from './base-whiteouts.js';
export { PathState } from './path-state.js';

/**
 * Size libuv's threadpool before anything uses it: main.ts imports this module first, and libuv
 * reads UV_THREADPOOL_SIZE once, at the pool's first use. File reads and writes, gunzip and the
 * gzip blocks all run on that pool; with Node's default of 4 threads, gzip on a many-core host
 * would be held to 3 threads (compress/deflate-pool.ts keeps one free for I/O). A user's own
 * setting wins.
 */
import { availableCores } from '../index.js';

/** One gzip block per core (at most 8, as compress/ uses), one more in flight, one for I/O. */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, Math.min(availableCores(), 8) + 2));

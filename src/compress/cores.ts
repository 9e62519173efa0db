/**
 * How many cores this process may use. os.availableParallelism() (Node 18.14+) honours CPU
 * affinity; Node 16, the newest Node on RHEL 7, has only os.cpus(). A named import of
 * availableParallelism would fail to link there, so it is looked up on the module.
 */
import os from 'node:os';

const native = (os as { availableParallelism?: () => number }).availableParallelism;

export function availableCores(): number {
  return Math.max(1, native ? native() : os.cpus().length);
}

/**
 * The transport registry: the Source that opens an ImageReference and the Sink that writes it.
 * A bare path is read as whatever it holds and written as a docker-archive; "-" is stdio.
 */
import { daemonSink } from './docker-daemon/sink.js';
import { daemonSource } from './docker-daemon/source.js';
import { daemonStore } from './docker-daemon/store.js';
import { pathSinks, pathSource } from './path.js';
import { podmanSink, podmanSource } from './podman/index.js';
import { podmanStore } from './podman/store.js';
import { registrySink } from './registry/sink.js';
import { registrySource } from './registry/source.js';
import { stdioSinks, stdioSource } from './stdio.js';
import { LayerflatError } from '../errors.js';
import type { EngineStore, ImageReference, OpenedImage, Sink, SourceOptions } from './types.js';

/** Open the image `ref` names; the caller must call close() (it removes a stdin spool). */
export function openSource(ref: ImageReference, options: SourceOptions = {}): Promise<OpenedImage> {
  if (ref.transport === 'docker-daemon') return daemonSource.open(ref, options);
  if (ref.transport === 'containers-storage') return podmanSource.open(ref, options);
  if (ref.transport === 'docker') return registrySource.open(ref, options);
  return (ref.transport === 'stdio' ? stdioSource : pathSource).open(ref, options);
}

/** The sink that writes `ref`. */
export function sinkFor(ref: ImageReference): Sink {
  if (ref.transport === 'containers-storage') return podmanSink;
  if (ref.transport === 'stdio') return stdioSinks[ref.format ?? 'docker-archive'];
  if (ref.transport === 'docker-daemon') return daemonSink;
  if (ref.transport === 'docker') return registrySink;
  return pathSinks[ref.transport === 'auto' ? 'docker-archive' : ref.transport];
}

/** The image storage of an engine, for reclaim: podman's (the program given, else on PATH), or the Docker daemon's. */
export function engineStore(engine: string, options: { podman?: string; dockerHost?: string }): EngineStore {
  if (engine === 'podman') return podmanStore(options.podman);
  if (engine === 'docker') return daemonStore(options.dockerHost);
  throw new LayerflatError('USAGE', `--engine ${JSON.stringify(engine)}: expected podman or docker`);
}

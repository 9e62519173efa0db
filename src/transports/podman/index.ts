/** podman / containers-storage: an image in the storage of the podman that runs as the user. */
export { podmanSource } from './source.js';
export { podmanSink } from './sink.js';

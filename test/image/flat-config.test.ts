import { describe, expect, it } from 'vitest';
import { flatConfig } from '../../src/image/flat-config.js';
import type { ImageConfig } from '../../src/image/types.js';

const base: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2026-01-01T00:00:00Z',
  config: { Cmd: ['/bin/sh'], Env: ['A=1'], Healthcheck: { Test: ['CMD', 'true'] } },
  rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b', 'sha256:c'] },
  history: [
    { created: 't1', created_by: '/bin/sh -c #(nop) ADD file:x in /' },
    { created: 't2', created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
    { created: 't3', created_by: '/bin/sh -c apt-get install -y curl' },
    { created: 't4', created_by: '/bin/sh -c rm -rf /var/lib/apt/lists/*' },
    { created: 't5', created_by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty_layer: true },
  ],
  container_config: { Hostname: 'x' },
};

describe('flatConfig', () => {
  it('keeps every field but the history, and leaves diff_ids for the sink', () => {
    const out = flatConfig(base, { keep: 0, layerCount: 3, tool: 'layerflat 9' });
    const { history: _a, ...rest } = out;
    const { history: _b, ...orig } = base;
    expect(rest).toEqual(orig);
  });

  it('keeps metadata-only entries in order and puts one squash entry where the last layer stood', () => {
    const out = flatConfig(base, { keep: 0, layerCount: 3, tool: 'layerflat 9' });
    expect(out.history!.map((h) => h.created)).toEqual(['t2', 't4', 't5']);
    expect(out.history![1]).toEqual({
      created: 't4',
      created_by: 'layerflat 9: squashed layers 1-3 of 3 into one',
      comment: 'ADD file:x in / ; apt-get install -y curl ; rm -rf /var/lib/apt/lists/*',
    });
  });

  it('keeps the base layers history entries with --keep-base', () => {
    const out = flatConfig(base, { keep: 1, layerCount: 3, tool: 'layerflat 9' });
    expect(out.history!.map((h) => h.created)).toEqual(['t1', 't2', 't4', 't5']);
    expect(out.history![0]).toEqual(base.history![0]);
    expect(out.history![2]!.created_by).toBe('layerflat 9: squashed layers 2-3 of 3 into one');
  });

  it('appends the squash entry when the history does not match the layers', () => {
    const out = flatConfig(
      { ...base, history: [{ created_by: 'only one', empty_layer: false }] },
      { keep: 0, layerCount: 3, tool: 'lf' },
    );
    expect(out.history!.map((h) => h.created_by)).toEqual(['lf: squashed layers 1-3 of 3 into one']);
    expect(flatConfig({ ...base, history: undefined }, { keep: 0, layerCount: 3, tool: 'lf' }).history).toHaveLength(1);
  });
});

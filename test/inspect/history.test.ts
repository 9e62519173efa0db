import { describe, expect, it } from 'vitest';
import { layerCommands } from '../../src/inspect/history.js';

describe('history', () => {
  it('matches non-empty history entries to layers, or none at all', () => {
    const h = [{ created_by: 'a' }, { created_by: 'b', empty_layer: true }, { created_by: 'c' }];
    expect(layerCommands(h, 2)).toEqual(['a', 'c']);
    expect(layerCommands(h, 3)).toEqual([undefined, undefined, undefined]);
    expect(layerCommands(undefined, 1)).toEqual([undefined]);
  });
});

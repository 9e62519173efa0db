/** Who may own what: the uid_map rules of transports/dir/owners.ts, on crafted map texts. */
import { describe, expect, it } from 'vitest';
import {
  decideOwnership,
  describeMap,
  isInitialNamespace,
  mapsId,
  ownershipOfProcess,
  parseIdMap,
} from '../../../src/transports/dir/owners.js';

const INITIAL = '         0          0 4294967295\n';
const PODMAN_UNSHARE = '         0       1001          1\n         1     200000     200000\n';
const UNSHARE_R = '         0          0          1\n';
const command = 'layerflat unpack img.tar rootfs';

describe('id maps', () => {
  it('parses /proc/self/uid_map as the kernel prints it', () => {
    expect(parseIdMap(PODMAN_UNSHARE)).toEqual([
      { inside: 0, outside: 1001, count: 1 },
      { inside: 1, outside: 200000, count: 200000 },
    ]);
    expect(() => parseIdMap('0 0\n')).toThrow(/not an id map line/);
  });

  it('tells the initial namespace (the full identity map) from any other', () => {
    expect(isInitialNamespace(parseIdMap(INITIAL))).toBe(true);
    expect(isInitialNamespace(parseIdMap(UNSHARE_R))).toBe(false); // 0 → 0, but one id only
    expect(isInitialNamespace(parseIdMap(PODMAN_UNSHARE))).toBe(false);
    expect(isInitialNamespace(parseIdMap('0 0 4294967294\n'))).toBe(false);
  });

  it('says which ids a namespace has, and prints the ranges', () => {
    const map = parseIdMap(PODMAN_UNSHARE);
    expect([0, 1, 200000, 200001].map((id) => mapsId(map, id))).toEqual([true, true, true, false]);
    expect(describeMap(map)).toBe('0, 1-200000');
  });
});

describe('decideOwnership', () => {
  it('root of the initial namespace: chown, devices, trusted.*', () => {
    const o = decideOwnership({ euid: 0, uidMap: INITIAL, gidMap: INITIAL, noChown: false, command });
    expect(o).toMatchObject({ chown: true, userNamespace: false, privileged: true });
  });

  it('root inside podman unshare: chown within the map, no devices', () => {
    const o = decideOwnership({ euid: 0, uidMap: PODMAN_UNSHARE, gidMap: PODMAN_UNSHARE, noChown: false, command });
    expect(o).toMatchObject({ chown: true, userNamespace: true, privileged: false });
  });

  it('no /proc (not Linux): the initial namespace', () => {
    expect(decideOwnership({ euid: 0, noChown: false, command })).toMatchObject({
      userNamespace: false,
      privileged: true,
    });
  });

  it('a user outside a user namespace is refused (CANNOT_CHOWN), suggesting podman unshare and --no-chown', () => {
    const facts = { euid: 1000, uidMap: INITIAL, gidMap: INITIAL, noChown: false, command };
    expect(() => decideOwnership(facts)).toThrow(
      expect.objectContaining({
        code: 'CANNOT_CHOWN',
        message: expect.stringMatching(
          /uid 1000 outside a user namespace.*podman unshare layerflat unpack img\.tar rootfs.*--no-chown/,
        ),
      }),
    );
  });

  it('a user who is not root in a user namespace is refused too', () => {
    const facts = { euid: 5, uidMap: PODMAN_UNSHARE, gidMap: PODMAN_UNSHARE, noChown: false, command };
    expect(() => decideOwnership(facts)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/not root/) }),
    );
  });

  it('--no-chown: anyone, owners left alone', () => {
    const o = decideOwnership({ euid: 1000, uidMap: INITIAL, gidMap: INITIAL, noChown: true, command });
    expect(o).toMatchObject({ chown: false, privileged: false, userNamespace: false });
    expect(decideOwnership({ euid: 0, uidMap: INITIAL, gidMap: INITIAL, noChown: true, command }).chown).toBe(false);
  });

  it('this process: reads its own maps', () => {
    const o = ownershipOfProcess(true, command);
    expect(o.chown).toBe(false);
    expect(o.uids.length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { shortCommand } from '../../../src/cli/render/commands.js';

describe('shortCommand', () => {
  it.each([
    ['/bin/sh -c #(nop) ADD file:ab12 in / ', 'ADD file:ab12 in /'],
    ['/bin/sh -c #(nop)  CMD ["sh"]', 'CMD ["sh"]'],
    ['/bin/sh -c apt-get update &&     apt-get install -y x', 'RUN apt-get update && apt-get install -y x'],
    ['/bin/sh -e -c #(nop) WORKDIR /work', 'WORKDIR /work'],
    ['/bin/sh -e -c mkdir /x', 'RUN mkdir /x'],
    ['|2 A=1 B= /bin/sh -c make install', 'RUN make install'],
    ['RUN /bin/sh -c apk add x # buildkit', 'RUN apk add x'],
    ['RUN |1 V=2 /bin/sh -c make # buildkit', 'RUN make'],
    ['COPY /src /dst # buildkit', 'COPY /src /dst'],
    ['/bin/busybox --install -s /bin', '/bin/busybox --install -s /bin'],
    [undefined, ''],
  ])('shortens %j', (input, expected) => {
    expect(shortCommand(input)).toBe(expected);
  });

  it('cuts long commands with an ellipsis', () => {
    expect(shortCommand(`/bin/sh -c ${'x'.repeat(100)}`, 20)).toBe(`RUN ${'x'.repeat(15)}…`);
  });
});

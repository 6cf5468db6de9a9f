import assert from 'node:assert/strict';
import { unzip, zip } from '../../../session/zip.js';

describe('session/zip', () => {
  it('round-trips deflated and stored entries', () => {
    const entries = [
      { name: 'a.ts', data: Buffer.from('export const a = 1;\n'.repeat(100)) },
      { name: 'tiny.ts', data: Buffer.from('x') },
      { name: 'ünï.ts', data: Buffer.alloc(0) },
    ];
    const back = unzip(zip(entries));
    assert.deepEqual(
      back.map((e) => [e.name, e.data.toString()]),
      entries.map((e) => [e.name, e.data.toString()]),
    );
  });

  it('rejects what is not a zip', () => {
    assert.throws(() => unzip(Buffer.from('hello world, this is not a zip archive')), /not a zip archive/);
  });
});

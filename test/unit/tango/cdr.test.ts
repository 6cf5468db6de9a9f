import assert from 'node:assert/strict';
import { CdrError, CdrReader, CdrWriter } from '../../../tango/cdr.js';
import { readAny, writeAny, type TypeCode } from '../../../tango/typecode.js';
import { argTypeCode } from '../../../tango/idl-types.js';

describe('tango/cdr', () => {
  for (const le of [true, false]) {
    it(`round-trips primitives with natural alignment (${le ? 'little' : 'big'} endian)`, () => {
      const w = new CdrWriter(le, 2);
      w.octet(7)
        .short(-2)
        .long(-3)
        .double(1.5)
        .octet(1)
        .longlong(-5n)
        .ushort(65535)
        .ulong(4294967295)
        .ulonglong(2n ** 64n - 1n)
        .float(0.25)
        .boolean(true)
        .string('héllo')
        .octets(new Uint8Array([1, 2]));
      const bytes = w.bytes();
      // short at 2, long at 4, double at 8, octet at 16, longlong at 24
      assert.equal(new DataView(bytes.buffer).getFloat64(8, le), 1.5);
      const r = new CdrReader(bytes, le);
      assert.deepEqual(
        [
          r.octet(),
          r.short(),
          r.long(),
          r.double(),
          r.octet(),
          r.longlong(),
          r.ushort(),
          r.ulong(),
          r.ulonglong(),
          r.float(),
          r.boolean(),
          r.string(),
          Array.from(r.octets()),
        ],
        [7, -2, -3, 1.5, 1, -5n, 65535, 4294967295, 2n ** 64n - 1n, 0.25, true, 'héllo', [1, 2]],
      );
      assert.equal(r.remaining, 0);
    });

    it(`decodes numeric sequences as typed arrays (${le ? 'little' : 'big'} endian)`, () => {
      const w = new CdrWriter(le);
      w.octet(0)
        .numbers('double', [1, 2, 3])
        .numbers('ushort', new Uint16Array([1, 65535]))
        .numbers('longlong', [1n, -1n]);
      const r = new CdrReader(w.bytes(), le);
      r.octet();
      const d = r.numbers('double');
      assert.ok(d instanceof Float64Array);
      assert.deepEqual(Array.from(d), [1, 2, 3]);
      assert.deepEqual(Array.from(r.numbers('ushort')), [1, 65535]);
      assert.deepEqual(Array.from(r.numbers('longlong')), [1n, -1n]);
    });
  }

  it('creates views over aligned little-endian data instead of copying', () => {
    const w = new CdrWriter(true);
    w.numbers('float', [1, 2, 3, 4]);
    const bytes = Uint8Array.from(w.bytes());
    const f = new CdrReader(bytes, true).numbers('float');
    assert.equal(f.buffer, bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const g = new CdrReader(shifted.subarray(1), true).numbers('float'); // misaligned: one copy
    assert.notEqual(g.buffer, shifted.buffer);
    assert.deepEqual(Array.from(g), [1, 2, 3, 4]);
  });

  it('copies misaligned data out of Node Buffers (whose slice() is a view)', () => {
    const w = new CdrWriter(true);
    w.ulong(0xdec0dec0).numbers('longlong', [7n]); // count at 4, value at 8
    const buf = Buffer.concat([Buffer.from([1, 2, 3, 4]), Buffer.from(w.bytes())]);
    const r = new CdrReader(buf, true, 4, 4);
    r.ulong();
    assert.deepEqual(Array.from(r.numbers('longlong')), [7n]);
  });

  it('aligns relative to the origin (encapsulations)', () => {
    const w = new CdrWriter(true);
    w.octet(9).encapsulation((e) => e.double(2.5));
    const r = new CdrReader(w.bytes(), true);
    r.octet();
    assert.equal(r.encapsulation().double(), 2.5);
  });

  it('throws CdrError on truncation and absurd lengths', () => {
    const w = new CdrWriter(true);
    w.string('abc').ulong(1_000_000);
    const bytes = w.bytes();
    assert.throws(() => new CdrReader(bytes.subarray(0, 6), true).string(), CdrError);
    const r = new CdrReader(bytes, true);
    r.string();
    assert.throws(() => r.numbers('double'), CdrError);
    assert.throws(() => new CdrReader(new Uint8Array([2, 0, 0, 0, 65, 66]), true).string(), /NUL/);
  });

  it('round-trips anys of every Tango argument type', () => {
    const values: Record<number, unknown> = {
      1: true,
      2: -3,
      3: -70000,
      4: 0.5,
      5: 0.1,
      6: 3,
      7: 4000000000,
      8: 's',
      9: new Uint8Array([1, 255]),
      10: new Int16Array([-1]),
      11: new Int32Array([5]),
      12: new Float32Array([0.5]),
      13: new Float64Array([0.1]),
      14: new Uint16Array([7]),
      15: new Uint32Array([8]),
      16: ['a', 'b'],
      17: { lvalue: new Int32Array([1]), svalue: ['x'] },
      18: { dvalue: new Float64Array([2]), svalue: ['y'] },
      19: 'MOVING',
      21: [true, false],
      22: 200,
      23: -1n,
      24: 1n,
      25: new BigInt64Array([-2n]),
      26: new BigUint64Array([3n]),
    };
    for (const [code, value] of Object.entries(values)) {
      const tc: TypeCode = argTypeCode(Number(code));
      const w = new CdrWriter(false);
      writeAny(w, tc, value);
      assert.deepEqual(readAny(new CdrReader(w.bytes(), false)).value, value, `type ${code}`);
    }
  });
});

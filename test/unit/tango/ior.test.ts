import assert from 'node:assert/strict';
import { CdrError } from '../../../tango/cdr.js';
import { parseIor, stringifyIor } from '../../../tango/ior.js';

describe('tango/ior', () => {
  for (const le of [true, false]) {
    it(`parses IIOP profiles (${le ? 'little' : 'big'} endian)`, () => {
      const key = new Uint8Array([0x14, 1, 2, 3, 0xff]);
      const ior = parseIor(stringifyIor('IDL:Tango/Device_5:1.0', 'tango-host.example', 10000, key, le));
      assert.equal(ior.typeId, 'IDL:Tango/Device_5:1.0');
      assert.equal(ior.profiles.length, 1);
      assert.deepEqual(
        { ...ior.profiles[0]!, objectKey: Array.from(ior.profiles[0]!.objectKey) },
        { major: 1, minor: 2, host: 'tango-host.example', port: 10000, objectKey: Array.from(key) },
      );
    });
  }

  it('parses an IOR laid out as omniORB writes it', () => {
    // Device_5 reference to sys/tg_test/1 at 127.0.0.1:10000, one IIOP 1.2 profile, no components.
    const text =
      'IOR:010000001700000049444c3a54616e676f2f4465766963655f353a312e3000000100000000000000' +
      '2c00000001010200' +
      '0a000000' +
      '3132372e302e302e3100' +
      '1027' +
      '0d0000007379732f74675f746573742f31' +
      '000000' +
      '00000000';
    const p = parseIor(text).profiles[0]!;
    assert.equal(p.host, '127.0.0.1');
    assert.equal(p.port, 10000);
    assert.equal(Buffer.from(p.objectKey).toString(), 'sys/tg_test/1');
  });

  it('rejects text that is not an IOR', () => {
    assert.throws(() => parseIor('corbaloc::h:1/x'), CdrError);
    assert.throws(() => parseIor('IOR:zz'), CdrError);
    assert.throws(() => parseIor('IOR:0100000017000000'), CdrError);
  });
});

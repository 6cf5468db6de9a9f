import assert from 'node:assert/strict';
import { useTangoDevice } from './device-fixture.js';
import {
  DeviceProxy,
  TangoError,
  TangoTimeoutError,
  TangoTransportError,
  parseTangoAddress,
} from '../../../tango/index.js';
import type { WriteValue } from '../../../tango/index.js';
import { TangoTestServer, tangoTestAvailable } from './tango-test-server.js';
import { FakeGiopServer } from './fake-giop-server.js';
import { ReplyStatus, encodeReply } from '../../../tango/giop.js';
import { stringifyIor } from '../../../tango/ior.js';
import { readAny, writeAny } from '../../../tango/typecode.js';
import { argTypeCode } from '../../../tango/idl-types.js';
import { errorMessage } from '../../../core/index.js';

describe('tango/device-proxy: addresses', () => {
  it('parses direct and database addresses', () => {
    assert.deepEqual(parseTangoAddress('tango://h:1/a/b/c#dbase=no'), {
      host: 'h',
      port: 1,
      device: 'a/b/c',
      direct: true,
    });
    assert.deepEqual(parseTangoAddress('a/b/c', 'db:10000'), {
      host: 'db',
      port: 10000,
      device: 'a/b/c',
      direct: false,
    });
    assert.deepEqual(parseTangoAddress('tango://db:2/a/b/c', undefined), {
      host: 'db',
      port: 2,
      device: 'a/b/c',
      direct: false,
    });
    assert.throws(() => parseTangoAddress('a/b/c', undefined), TangoTransportError);
    assert.throws(() => parseTangoAddress('tango://h:1/a/b', undefined), TangoTransportError);
  });

  it('refuses bad options before connecting, naming the option and what is allowed', async () => {
    const url = 'tango://127.0.0.1:1/a/b/c#dbase=no';
    await assert.rejects(
      DeviceProxy.create(url, { timeoutMs: 3e9 }),
      /timeoutMs must be a number of ms in \(0, 2147483647\]/,
    );
    await assert.rejects(DeviceProxy.create(url, { timeoutMs: -1 }), /timeoutMs/);
    await assert.rejects(
      DeviceProxy.create(url, { source: 'FAST' as never }),
      /source must be one of DEV, CACHE, CACHE_DEV, got FAST/,
    );
  });
});

describe('tango/device-proxy against TangoTest', function () {
  this.timeout(30000);
  const t = useTangoDevice(tangoTestAvailable, () => TangoTestServer.start());

  it('pings and reads info, state and status', async () => {
    assert.ok((await t.dev.ping()) >= 0);
    assert.equal(t.dev.idlVersion, 5);
    assert.equal((await t.dev.info()).devClass, 'TangoTest');
    assert.equal(await t.dev.state(), 'RUNNING');
    assert.match(await t.dev.status(), /RUNNING/);
  });

  it('lists attributes with their configuration', async () => {
    const configs = await t.dev.attributeConfig();
    const names = configs.map((c) => c.name);
    for (const n of ['double_scalar', 'ushort_image_ro', 'string_spectrum', 'State', 'Status'])
      assert.ok(names.includes(n), n);
    const img = configs.find((c) => c.name === 'ushort_image_ro')!;
    assert.equal(img.format, 'IMAGE');
    assert.equal(img.dataType, 6);
    assert.deepEqual(await t.dev.attributeList(), names);
  });

  const scalars: Record<string, WriteValue> = {
    boolean_scalar: false,
    double_scalar: 1.25,
    float_scalar: 2.5,
    long64_scalar: -1234567890123n,
    long_scalar: -42,
    short_scalar: -7,
    string_scalar: 'héllo wörld',
    uchar_scalar: 200,
    ulong64_scalar: 18446744073709551615n,
    ushort_scalar: 65000,
    ulong_scalar: 4000000000,
  };
  for (const [name, value] of Object.entries(scalars)) {
    it(`writes and reads back scalar ${name}`, async () => {
      await t.dev.writeAttribute(name, value);
      const r = await t.dev.readAttribute(name);
      assert.equal(r.format, 'SCALAR');
      assert.equal(r.writeValue, value);
      assert.equal(typeof r.value, typeof value);
      assert.equal(r.quality, 'VALID');
    });
  }

  it('writes a write-only attribute and reads the set point', async () => {
    await t.dev.writeAttribute('double_scalar_w', 3.5);
    assert.equal((await t.dev.readAttribute('double_scalar_w')).value, 3.5);
  });

  const spectra: Record<string, [WriteValue, string]> = {
    boolean_spectrum: [[true, false, true], 'Array'],
    double_spectrum: [[1.5, -2, 3e100], 'Float64Array'],
    float_spectrum: [[1.5, 2.25], 'Float32Array'],
    long_spectrum: [[1, -2, 2147483647], 'Int32Array'],
    short_spectrum: [[3, -4], 'Int16Array'],
    string_spectrum: [['a', 'bc', ''], 'Array'],
    uchar_spectrum: [[0, 1, 255], 'Uint8Array'],
    ushort_spectrum: [[9, 65535], 'Uint16Array'],
  };
  for (const [name, [value, cls]] of Object.entries(spectra)) {
    it(`writes and reads back spectrum ${name}`, async () => {
      await t.dev.writeAttribute(name, value);
      const r = await t.dev.readAttribute(name);
      assert.equal(r.format, 'SPECTRUM');
      assert.equal(r.writeValue!.constructor.name, cls);
      assert.deepEqual(Array.from(r.writeValue as ArrayLike<unknown>), value);
      assert.equal(r.wDimX, (value as unknown[]).length);
    });
  }

  // long_image is left out: TangoTest 9.3 crashes when it is written (PyTango too).
  const images: Record<string, WriteValue> = {
    boolean_image: [
      [true, false],
      [false, true],
    ],
    double_image: { data: new Float64Array([1, 2, 3, 4, 5, 6]), dimX: 3, dimY: 2 },
    float_image: [[1], [2]],
    short_image: [
      [1, -2],
      [3, 4],
    ],
    string_image: [
      ['a', 'b'],
      ['c', 'd'],
    ],
    uchar_image: [[1, 2, 3]],
    ushort_image: [
      [5, 6],
      [7, 8],
      [9, 10],
    ],
  };
  for (const [name, value] of Object.entries(images)) {
    it(`writes and reads back image ${name}`, async () => {
      await t.dev.writeAttribute(name, value);
      const r = await t.dev.readAttribute(name);
      assert.equal(r.format, 'IMAGE');
      const flat =
        'dimX' in (value as object)
          ? Array.from((value as { data: ArrayLike<unknown> }).data)
          : (value as unknown[][]).flat();
      const [dimX, dimY] =
        'dimX' in (value as object) ? [3, 2] : [(value as unknown[][])[0]!.length, (value as unknown[][]).length];
      assert.deepEqual(Array.from(r.writeValue as ArrayLike<unknown>), flat);
      assert.deepEqual([r.wDimX, r.wDimY], [dimX, dimY]);
    });
  }

  const readOnlyImages: Record<string, string> = {
    ushort_image_ro: 'Uint16Array',
    double_image_ro: 'Float64Array',
    float_image_ro: 'Float32Array',
    long_image_ro: 'Int32Array',
    short_image_ro: 'Int16Array',
    uchar_image_ro: 'Uint8Array',
    long64_image_ro: 'BigInt64Array',
    ulong64_image_ro: 'BigUint64Array',
    ulong_image_ro: 'Uint32Array',
  };
  for (const [name, cls] of Object.entries(readOnlyImages)) {
    it(`reads image ${name} as ${cls} with its dimensions`, async () => {
      const r = await t.dev.readAttribute(name);
      assert.equal(r.value!.constructor.name, cls);
      assert.equal((r.value as ArrayLike<unknown>).length, r.dimX * r.dimY);
      assert.ok(r.dimX > 0 && r.dimY > 0);
    });
  }

  it('reads spectra of every read-only type and State as a DevState', async () => {
    const rs = await t.dev.readAttributes([
      'long64_spectrum_ro',
      'ulong64_spectrum_ro',
      'ulong_spectrum_ro',
      'boolean_spectrum_ro',
      'string_spectrum_ro',
      'State',
      'Status',
    ]);
    assert.deepEqual(
      rs.map((r) => r.value!.constructor.name),
      ['BigInt64Array', 'BigUint64Array', 'Uint32Array', 'Array', 'Array', 'String', 'String'],
    );
    assert.equal(rs[5]!.value, 'RUNNING');
  });

  it('agrees with PyTango on an image (cross-check, when /usr/bin/python3 has tango)', async function () {
    const { execFileSync } = await import('node:child_process');
    let py: string;
    try {
      py = execFileSync(
        '/usr/bin/python3',
        [
          '-c',
          `import tango;d=tango.DeviceProxy('${t.server.url}');d.write_attribute('ushort_image',[[1,2,3],[4,5,65535]]);` +
            `v=d.read_attribute('ushort_image').w_value;print(v.shape, v.flatten().tolist())`,
        ],
        { timeout: 10000 },
      ).toString();
    } catch (e) {
      console.log(`    skipping PyTango cross-check: ${errorMessage(e).split('\n')[0]}`);
      this.skip();
    }
    const r = await t.dev.readAttribute('ushort_image');
    assert.equal(py.trim(), `(${r.wDimY}, ${r.wDimX}) [${Array.from(r.writeValue as Uint16Array).join(', ')}]`);
  });

  it('writeReadAttribute writes and returns the new reading', async () => {
    const r = await t.dev.writeReadAttribute('double_scalar', 7.5);
    assert.equal(r.name, 'double_scalar');
    assert.equal(r.writeValue, 7.5);
  });

  it('writes several attributes at once', async () => {
    await t.dev.writeAttributes({ long_scalar: 11, short_scalar: 12 });
    const [a, b] = await t.dev.readAttributes(['long_scalar', 'short_scalar']);
    assert.deepEqual([a!.writeValue, b!.writeValue], [11, 12]);
  });

  it('reading a missing attribute gives a TangoError with the server reason', async () => {
    await assert.rejects(t.dev.readAttribute('no_such_attribute'), (e: unknown) => {
      assert.ok(e instanceof TangoError);
      assert.equal(e.reason, 'API_AttrNotFound');
      assert.equal(e.errors[0]!.severity, 'ERR');
      assert.match(e.message, /sys\/tg_test\/1.*API_AttrNotFound/s);
      assert.ok(e.errors[0]!.origin.length > 0);
      return true;
    });
  });

  it('an attribute that throws gives its DevFailed stack', async () => {
    await assert.rejects(t.dev.readAttribute('throw_exception'), TangoError);
  });

  it('lists commands with their types', async () => {
    const cmds = await t.dev.commandList();
    const dd = cmds.find((c) => c.name === 'DevDouble')!;
    assert.deepEqual([dd.inType, dd.outType], [5, 5]);
  });

  const commands: Record<string, unknown> = {
    DevBoolean: true,
    DevShort: -1234,
    DevUShort: 65535,
    DevLong: -123456789,
    DevULong: 4294967295,
    DevLong64: -9007199254740993n,
    DevULong64: 18446744073709551615n,
    DevFloat: 1.5,
    DevDouble: Math.PI,
    DevString: 'a string ä',
    DevVarCharArray: [0, 1, 255],
    DevVarShortArray: [-1, 2],
    DevVarUShortArray: [1, 65535],
    DevVarLongArray: [-2147483648, 7],
    DevVarULongArray: [4294967295],
    DevVarLong64Array: [-1n, 2n ** 62n],
    DevVarULong64Array: [2n ** 64n - 1n],
    DevVarFloatArray: [0.5, -2],
    DevVarDoubleArray: [1e-300, 2],
    DevVarStringArray: ['x', '', 'yz'],
  };
  for (const [name, arg] of Object.entries(commands)) {
    it(`command ${name} round-trips`, async () => {
      const out = await t.dev.command(name, arg);
      if (Array.isArray(arg)) assert.deepEqual(Array.from(out as ArrayLike<unknown>), arg);
      else assert.equal(out, arg);
    });
  }

  it('command DevVoid, State and Status', async () => {
    assert.equal(await t.dev.command('DevVoid'), undefined);
    assert.equal(await t.dev.command('State'), 'RUNNING');
    assert.match((await t.dev.command('Status')) as string, /RUNNING/);
  });

  it('command DevVarLongStringArray and DevVarDoubleStringArray round-trip', async () => {
    const ls = (await t.dev.command('DevVarLongStringArray', { lvalue: [1, -2], svalue: ['a', 'b'] })) as {
      lvalue: Int32Array;
      svalue: string[];
    };
    assert.deepEqual(
      [Array.from(ls.lvalue), ls.svalue],
      [
        [1, -2],
        ['a', 'b'],
      ],
    );
    const ds = (await t.dev.command('DevVarDoubleStringArray', { dvalue: [0.25], svalue: ['c'] })) as {
      dvalue: Float64Array;
      svalue: string[];
    };
    assert.deepEqual([Array.from(ds.dvalue), ds.svalue], [[0.25], ['c']]);
  });

  it('rejects unknown commands and bad arguments', async () => {
    await assert.rejects(t.dev.command('NoSuchCommand', 1), TangoError);
    await assert.rejects(t.dev.command('DevString', 42), /not a DevString/);
  });

  it('resolves a device through a Tango database (fake DataBase device, real TangoTest)', async () => {
    const seen: string[] = [];
    const db = await new FakeGiopServer((req) => {
      const command = req.body.string();
      const arg = readAny(req.body).value;
      seen.push(`${req.objectKey} ${req.operation} ${command} ${String(arg)}`);
      const exported = arg === 'sys/tg_test/1';
      const ior = stringifyIor(
        'IDL:Tango/Device_5:1.0',
        '127.0.0.1',
        t.server.port,
        new TextEncoder().encode('sys/tg_test/1'),
      );
      return {
        chunks: [
          encodeReply(req.id, ReplyStatus.NoException, (w) =>
            writeAny(w, argTypeCode(17), {
              lvalue: [exported ? 1 : 0, 1234],
              svalue: [String(arg), exported ? ior : 'nada', '5', 'TangoTest/test', 'localhost'],
            }),
          ),
        ],
      };
    }).listen();
    try {
      const viaDb = await DeviceProxy.create('sys/tg_test/1', { tangoHost: `127.0.0.1:${db.port}` });
      assert.equal(await viaDb.state(), 'RUNNING');
      assert.equal(viaDb.endpoint, `127.0.0.1:${t.server.port}`);
      await viaDb.close();
      assert.deepEqual(seen, ['database command_inout DbImportDevice sys/tg_test/1']);
      await assert.rejects(DeviceProxy.create(`tango://127.0.0.1:${db.port}/sys/tg_test/2`), /not exported/);
    } finally {
      await db.close();
    }
  });

  it('multiplexes concurrent calls on one connection', async () => {
    const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => t.dev.command('DevLong', i)));
    assert.deepEqual(
      rs,
      Array.from({ length: 32 }, (_, i) => i),
    );
  });
});

describe('tango/device-proxy: server failures', function () {
  this.timeout(40000);
  let server: TangoTestServer | undefined;
  let dev: DeviceProxy | undefined;

  before(async function () {
    if (!tangoTestAvailable()) this.skip();
    server = await TangoTestServer.start();
    dev = await DeviceProxy.create(server.url, { timeoutMs: 800 });
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });

  it('a stopped server (SIGSTOP) fails the call within the timeout, then recovers', async () => {
    await server!.pause();
    const t0 = Date.now();
    try {
      await assert.rejects(dev!.readAttribute('double_scalar'), (e: unknown) => {
        assert.ok(e instanceof TangoTimeoutError);
        assert.match(e.message, /sys\/tg_test\/1/);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${server!.port}`));
        return true;
      });
      const dt = Date.now() - t0;
      assert.ok(dt >= 700 && dt < 2000, `took ${dt} ms`);
    } finally {
      server!.signal('SIGCONT');
    }
    assert.equal(await dev!.state(), 'RUNNING');
  });

  it('reconnects after the server restarts', async () => {
    await server!.stop();
    await assert.rejects(dev!.ping(), TangoTransportError);
    await server!.restart();
    assert.equal(await dev!.state(), 'RUNNING');
    await dev!.writeAttribute('long_scalar', 5);
    assert.equal((await dev!.readAttribute('long_scalar')).writeValue, 5);
  });

  it('a server that is not running gives a transport error naming the endpoint', async () => {
    await assert.rejects(
      DeviceProxy.create('tango://127.0.0.1:1/sys/tg_test/1#dbase=no', { timeoutMs: 500 }),
      (e: unknown) => e instanceof TangoTransportError && /127\.0\.0\.1:1/.test(e.message),
    );
  });
});

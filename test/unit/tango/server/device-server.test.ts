import assert from 'node:assert/strict';
import { firstValueFrom, take, timeout, toArray } from 'rxjs';
import { DeviceProxy, TangoError, TangoType, type WriteValue } from '../../../../tango/index.js';
import { DeviceServer, defineDevice } from '../../../../tango/server/index.js';
import { matrixDevice } from './fixtures/matrix-device.js';

/** Our server with the matrix device, and our client on it. */
function useMatrixServer() {
  let server: DeviceServer | undefined;
  let dev: DeviceProxy | undefined;
  before(async () => {
    server = await DeviceServer.create({
      server: 'matrix',
      instance: 'test',
      devices: [{ name: 'test/matrix/1', definition: matrixDevice() }],
    });
    dev = await DeviceProxy.create(server.url('test/matrix/1'));
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get dev() {
      return dev!;
    },
  };
}

describe('tango/server: our client against our device server', function () {
  this.timeout(20000);
  const t = useMatrixServer();

  it('answers ping, info, state, status and the admin device', async () => {
    assert.ok((await t.dev.ping()) >= 0);
    assert.equal(t.dev.idlVersion, 5);
    const info = await t.dev.info();
    assert.deepEqual([info.devClass, info.serverId, info.serverVersion], ['MatrixDevice', 'matrix/test', 5]);
    assert.equal(await t.dev.state(), 'ON');
    assert.equal(await t.dev.status(), 'The device is in ON state.');
    const admin = await t.dev.adminDevice();
    assert.equal(admin.name, 'dserver/matrix/test');
    assert.deepEqual(await admin.command('QueryClass'), ['MatrixDevice']);
    assert.deepEqual(await admin.command('QueryDevice'), ['MatrixDevice::test/matrix/1']);
    assert.equal(await admin.command('State'), 'ON');
  });

  it('lists attributes (State and Status included) and commands with their types', async () => {
    const names = await t.dev.attributeList();
    for (const n of ['double_scalar', 'ushort_image', 'string_spectrum', 'enum_scalar', 'State', 'Status'])
      assert.ok(names.includes(n), n);
    const [cfg] = await t.dev.attributeConfig(['ushort_image']);
    assert.deepEqual([cfg!.format, cfg!.dataType, cfg!.writable, cfg!.maxDimX], ['IMAGE', 6, 'READ_WRITE', 64]);
    const cmds = await t.dev.commandList();
    const dd = cmds.find((c) => c.name === 'DevDouble')!;
    assert.deepEqual([dd.inType, dd.outType], [5, 5]);
    assert.ok(cmds.some((c) => c.name === 'Init'));
  });

  const scalars: Record<string, WriteValue> = {
    boolean_scalar: true,
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
    state_scalar: 'MOVING',
    enum_scalar: 2,
  };
  for (const [name, value] of Object.entries(scalars)) {
    it(`writes and reads back scalar ${name}`, async () => {
      await t.dev.writeAttribute(name, value);
      const r = await t.dev.readAttribute(name);
      assert.deepEqual([r.value, r.writeValue, r.quality, r.format], [value, value, 'VALID', 'SCALAR']);
    });
  }

  const spectra: Record<string, [WriteValue, string]> = {
    boolean_spectrum: [[true, false, true], 'Array'],
    double_spectrum: [[1.5, -2, 3e100], 'Float64Array'],
    float_spectrum: [[1.5, 2.25], 'Float32Array'],
    long_spectrum: [[1, -2, 2147483647], 'Int32Array'],
    long64_spectrum: [[1n, -(2n ** 62n)], 'BigInt64Array'],
    short_spectrum: [[3, -4], 'Int16Array'],
    string_spectrum: [['a', 'bc', ''], 'Array'],
    uchar_spectrum: [[0, 1, 255], 'Uint8Array'],
    ulong_spectrum: [[4294967295], 'Uint32Array'],
    ulong64_spectrum: [[2n ** 64n - 1n], 'BigUint64Array'],
    ushort_spectrum: [[9, 65535], 'Uint16Array'],
    state_spectrum: [['ON', 'FAULT'], 'Array'],
  };
  for (const [name, [value, cls]] of Object.entries(spectra)) {
    it(`writes and reads back spectrum ${name}`, async () => {
      await t.dev.writeAttribute(name, value);
      const r = await t.dev.readAttribute(name);
      assert.equal(r.value!.constructor.name, cls);
      assert.deepEqual(Array.from(r.value as ArrayLike<unknown>), value);
      assert.deepEqual(Array.from(r.writeValue as ArrayLike<unknown>), value);
      assert.equal(r.dimX, (value as unknown[]).length);
    });
  }

  const images: Record<string, WriteValue> = {
    boolean_image: [
      [true, false],
      [false, true],
    ],
    double_image: { data: new Float64Array([1, 2, 3, 4, 5, 6]), dimX: 3, dimY: 2 },
    long64_image: [[1n], [2n]],
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
      const flat =
        'dimX' in (value as object)
          ? Array.from((value as { data: ArrayLike<unknown> }).data)
          : (value as unknown[][]).flat();
      const [dimX, dimY] =
        'dimX' in (value as object) ? [3, 2] : [(value as unknown[][])[0]!.length, (value as unknown[][]).length];
      assert.deepEqual(Array.from(r.value as ArrayLike<unknown>), flat);
      assert.deepEqual([r.dimX, r.dimY, r.wDimX, r.wDimY], [dimX, dimY, dimX, dimY]);
    });
  }

  it('reads a DevEncoded attribute and a WRITE attribute (value = set point)', async () => {
    const e = (await t.dev.readAttribute('encoded_scalar')).value as { format: string; data: Uint8Array };
    assert.deepEqual([e.format, Array.from(e.data)], ['raw', [1, 2, 3]]);
    assert.deepEqual(
      [(await t.dev.readAttribute('double_scalar_w')).value, (await t.dev.readAttribute('double_scalar_w')).writeValue],
      [0.5, 0.5],
    );
    await t.dev.writeAttribute('double_scalar_w', 3.5);
    const w = await t.dev.readAttribute('double_scalar_w');
    assert.deepEqual([w.value, w.writeValue], [3.5, 3.5]);
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
    DevUChar: 255,
    DevState: 'ALARM',
    DevVarBooleanArray: [true, false],
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

  it('commands DevVarLongStringArray, DevVarDoubleStringArray and DevEncoded round-trip', async () => {
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
    const enc = (await t.dev.command('DevEncoded', { encoded_format: 'f', encoded_data: new Uint8Array([9]) })) as {
      encoded_format: string;
      encoded_data: Uint8Array;
    };
    assert.deepEqual([enc.encoded_format, Array.from(enc.encoded_data)], ['f', [9]]);
  });

  it('errors go out as DevFailed with our reason and description', async () => {
    await assert.rejects(t.dev.command('Fail', 'because'), (e: unknown) => {
      assert.ok(e instanceof TangoError);
      assert.equal(e.reason, 'Concert_TestFailure');
      assert.match(e.errors[0]!.desc, /failed as asked: because/);
      assert.equal(e.errors[0]!.severity, 'ERR');
      return true;
    });
    await assert.rejects(t.dev.command('Crash'), (e: unknown) => e instanceof TangoError && e.reason === 'RangeError');
    await assert.rejects(
      t.dev.readAttribute('throw_exception'),
      (e: unknown) => e instanceof TangoError && e.reason === 'Concert_ReadFailed',
    );
    await assert.rejects(
      t.dev.readAttribute('no_such_attribute'),
      (e: unknown) => e instanceof TangoError && e.reason === 'API_AttrNotFound',
    );
    await assert.rejects(
      t.dev.command('NoSuchCommand', 1, TangoType.DevLong),
      (e: unknown) => e instanceof TangoError && e.reason === 'API_CommandNotFound',
    );
    await assert.rejects(
      t.dev.command('DevDouble', 'not a number', TangoType.DevString),
      (e: unknown) =>
        e instanceof TangoError && e.reason === 'API_IncompatibleCmdArgumentType' && /Tango::DevDouble/.test(e.message),
    );
    await assert.rejects(
      t.dev.writeAttribute('limited', 11),
      (e: unknown) => e instanceof TangoError && /API_WAttrOutsideLimit/.test(e.message),
    );
    await assert.rejects(
      t.dev.writeAttribute('counter', 1n),
      (e: unknown) => e instanceof TangoError && /API_AttrNotWritable/.test(e.message),
    );
    assert.equal((await t.dev.readAttribute('limited')).value, 0, 'a refused write changes nothing');
  });

  it('runs requests of many clients at once, each on its own connection', async () => {
    const clients = await Promise.all(
      Array.from({ length: 16 }, () =>
        DeviceProxy.create(t.server.url('test/matrix/1').replace('127.0.0.1', 'localhost')),
      ),
    );
    try {
      const t0 = Date.now();
      const results = await Promise.all(clients.map((c, i) => c.command('Sleep', 0.2 + i * 0.001)));
      assert.ok(Date.now() - t0 < 1500, 'the sleeps ran at the same time');
      assert.equal(results.length, 16);
      const reads = await Promise.all(
        clients.flatMap((c) => Array.from({ length: 20 }, () => c.command('DevLong', 7))),
      );
      assert.ok(reads.every((v) => v === 7));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('sends change events the device pushes, starting with the current value', async () => {
    await t.dev.command('Push', 1n);
    const got = firstValueFrom(
      t.dev.subscribe('counter', 'change', { mode: 'zmq' }).pipe(take(3), toArray(), timeout(10000)),
    );
    const pusher = setInterval(() => void t.dev.command('Push', 2n).catch(() => undefined), 200);
    try {
      const values = (await got).map((r) => r.value);
      assert.equal(values[0], 1n);
      assert.equal(values[2], 2n);
    } finally {
      clearInterval(pusher);
    }
  });

  it('sends periodic events of polled attributes, and State changes', async () => {
    const ticks = await firstValueFrom(
      t.dev.subscribe('ticks', 'periodic', { mode: 'zmq' }).pipe(take(3), toArray(), timeout(10000)),
    );
    assert.ok(ticks[2]!.time > ticks[0]!.time);
    const states = firstValueFrom(
      t.dev.subscribe('State', 'change', { mode: 'zmq' }).pipe(take(2), toArray(), timeout(10000)),
    );
    const setter = setInterval(() => void t.dev.command('SetState', 'MOVING').catch(() => undefined), 200);
    try {
      assert.deepEqual(
        (await states).map((r) => r.value),
        ['ON', 'MOVING'],
      );
    } finally {
      clearInterval(setter);
      await t.dev.command('SetState', 'ON');
    }
  });

  it('refuses events an attribute cannot send, as Tango servers do', async () => {
    await assert.rejects(
      firstValueFrom(t.dev.subscribe('double_scalar', 'change', { mode: 'zmq' }).pipe(timeout(5000))),
      (e: unknown) => e instanceof TangoError && e.reason === 'API_AttributePollingNotStarted',
    );
  });
});

describe('tango/server: definitions', () => {
  it('refuses bad definitions naming the class and what is wrong', () => {
    assert.throws(
      () => defineDevice({ className: 'X', attributes: { a: { type: 'DevDouble' as never, read: 3 as never } } }),
      /option 'attributes.a.read' must be a function/,
    );
    assert.throws(
      () => defineDevice({ className: 'X', attributes: { a: { type: 'DevComplex' as never, read: () => 1 } } }),
      /attributes\.a\.type/,
    );
    assert.throws(
      () =>
        defineDevice({ className: 'X', attributes: { a: { type: 'DevDouble', access: 'READ_WRITE', read: () => 1 } } }),
      /attribute a is READ_WRITE but has no write handler/,
    );
    assert.throws(
      () => defineDevice({ className: 'X', attributes: { State: { type: 'DevDouble', read: () => 1 } } }),
      /built in/,
    );
    assert.throws(
      () => defineDevice({ className: 'X', attributes: { e: { type: 'DevEnum', read: () => 1 } } }),
      /needs enumLabels/,
    );
    assert.throws(() => defineDevice({ className: 'X', commands: { Init: { handler: () => 1 } } }), /built in/);
  });

  it("a read handler returning the wrong type is the client's DevFailed, not a broken reply", async () => {
    const server = await DeviceServer.create({
      server: 'bad',
      devices: [
        {
          name: 'test/bad/1',
          definition: defineDevice({
            className: 'Bad',
            attributes: { x: { type: 'DevShort', read: () => 70000 }, s: { type: 'DevString', read: () => 5 } },
            commands: { Out: { out: 'DevString', handler: () => 3 } },
          }),
        },
      ],
    });
    const dev = await DeviceProxy.create(server.url('test/bad/1'));
    try {
      await assert.rejects(
        dev.readAttribute('x'),
        /API_IncompatibleAttrDataType.*70000 is not an integer in \[-32768, 32767\]/s,
      );
      await assert.rejects(dev.readAttribute('s'), /5 is not a string/);
      await assert.rejects(dev.command('Out'), /Out returned what is not a DevString/);
      assert.equal(await dev.state(), 'ON');
    } finally {
      await dev.close();
      await server.stop();
    }
  });
});

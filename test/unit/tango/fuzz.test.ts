import assert from 'node:assert/strict';
import { ConcertError } from '../../../core/errors.js';
import { ReplyStatus, encodeReply } from '../../../tango/giop.js';
import { DeviceProxy } from '../../../tango/index.js';
import { attributesReply, commandReply, devFailedReply, malformedReply, rng } from '../../support/malformed-giop.js';
import { FakeGiopServer, type FakeAnswer, type FakeRequest } from './fake-giop-server.js';

const CASES = 500;

describe('tango: fuzzing the GIOP/CDR decoder', function () {
  this.timeout(60000);
  let server: FakeGiopServer;
  let dev: DeviceProxy;
  let mutate: (req: FakeRequest) => FakeAnswer | undefined = () => undefined;

  before(async () => {
    server = await new FakeGiopServer((req) => {
      if (req.operation === '_is_a')
        return { chunks: [encodeReply(req.id, ReplyStatus.NoException, (w) => w.boolean(true))] };
      return mutate(req);
    }).listen();
    dev = await DeviceProxy.create(`tango://127.0.0.1:${server.port}/sys/fuzz/1#dbase=no`, { timeoutMs: 150 });
  });
  after(async () => {
    await dev?.close();
    await server?.close();
  });

  it('decodes the unmutated replies', async () => {
    mutate = (req) => ({ chunks: [attributesReply(req, true)] });
    await assert.rejects(dev.readAttributes(['x']), /API_Reason/);
    mutate = (req) => ({ chunks: [commandReply(req, false)] });
    const out = (await dev.command('X', 1, 3)) as { lvalue: Int32Array; svalue: string[] };
    assert.deepEqual(
      [Array.from(out.lvalue), out.svalue],
      [
        [1, 2],
        ['x', 'y'],
      ],
    );
    mutate = (req) => ({ chunks: [devFailedReply(req, true)] });
    await assert.rejects(dev.command('X', 1, 3), /API_AttrNotFound[\s\S]*API_Other/);
  });

  it(`survives ${CASES} truncated and garbled replies with errors, never a crash or a hang`, async () => {
    const rand = rng(20261122);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      mutate = (req) => malformedReply(i, rand, req);
      const call = i % 3 === 0 ? dev.readAttributes(['x']) : dev.command('X', 1, 3);
      try {
        await call;
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
      } catch (e) {
        assert.ok(e instanceof ConcertError, `case ${i}: ${(e as Error).stack}`);
        outcomes.set(e.name, (outcomes.get(e.name) ?? 0) + 1);
      }
    }
    // Every call settled; the proxy still works afterwards.
    mutate = (req) => ({ chunks: [commandReply(req, true)] });
    assert.ok(await dev.command('X', 1, 3));
    console.log(`      outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});

import assert from 'node:assert/strict';
import { Push } from 'zeromq';
import { encodeEnd, encodeFrame, tcpEndpoint, ZmqReceiver } from '../../../transport/index.js';
import { malformedFrames } from '../../support/malformed.js';
import { Closer, testFrame } from './helpers.js';

describe('transport/zmq fuzzing', () => {
  const closer = new Closer();
  afterEach(() => closer.closeAll());

  it('counts and drops ~300 malformed messages and still receives the next valid frame', async () => {
    const reasons: string[] = [];
    const receiver = closer.track(
      await ZmqReceiver.create({ mode: 'pull', bind: tcpEndpoint(), onInvalid: (reason) => reasons.push(reason) }),
    );
    const raw = closer.track(new Push({ linger: 0 }));
    raw.connect(receiver.endpoint);
    const bad = malformedFrames(306);
    for (const parts of bad) await raw.send(parts);
    await raw.send(encodeFrame(testFrame('float32', 4, 4, 77)));
    await raw.send(encodeEnd());
    const got: number[] = [];
    for await (const frame of receiver.stream({ idleTimeoutMs: 5000 })) got.push(frame.metadata.frameNumber);
    assert.deepEqual(got, [77]);
    assert.equal(
      receiver.counters.invalid,
      bad.length,
      `reasons: ${new Set(reasons.map((r) => r.split(' ').slice(0, 3).join(' ')))}`,
    );
    assert.equal(receiver.counters.received, 1);
    assert.equal(reasons.length, bad.length);
  });
});

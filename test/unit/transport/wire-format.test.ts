import assert from 'node:assert/strict';
import { DTYPES, makeFrame } from '../../../core/frame.js';
import { decodeMessage, encodeEnd, encodeFrame, parseDType, WIRE_FORMAT_VERSION } from '../../../transport/index.js';
import { testFrame } from './helpers.js';

describe('transport/zmq/wire-format', () => {
  it('parses numpy dtype strings', () => {
    assert.deepEqual(parseDType('uint16'), { dtype: 'uint16', bigEndian: false });
    assert.deepEqual(parseDType('<u2'), { dtype: 'uint16', bigEndian: false });
    assert.deepEqual(parseDType('=f4'), { dtype: 'float32', bigEndian: false });
    assert.deepEqual(parseDType('|u1'), { dtype: 'uint8', bigEndian: false });
    assert.deepEqual(parseDType('>i4'), { dtype: 'int32', bigEndian: true });
    assert.deepEqual(parseDType('>u1'), { dtype: 'uint8', bigEndian: false });
    assert.deepEqual(parseDType('H'), { dtype: 'uint16', bigEndian: false });
    assert.deepEqual(parseDType('double'), { dtype: 'float64', bigEndian: false });
    for (const bad of ['uint64', '<u8', '|u2', 'complex64', '', 'toString', '__proto__', 42, null])
      assert.equal(parseDType(bad), undefined, String(bad));
  });

  it('round-trips every dtype with metadata, without copying', () => {
    for (const dtype of DTYPES) {
      const frame = testFrame(dtype, 3, 5, 7, { angle: 0.5, image_key: 2, nested: { a: [1, 2] } });
      const [header, payload] = encodeFrame(frame);
      assert.equal(payload.buffer, frame.data.buffer, 'payload shares memory with the frame');
      const json = JSON.parse(header.toString());
      assert.equal(json.dtype, dtype);
      assert.deepEqual(json.shape, [3, 5]);
      assert.equal(json.version, WIRE_FORMAT_VERSION);
      assert.equal(json.frameNumber, 7);
      const decoded = decodeMessage([header, payload]);
      assert.equal(decoded.kind, 'frame');
      if (decoded.kind !== 'frame') return;
      assert.equal(decoded.frame.data.buffer, payload.buffer, 'decoded pixels share memory with the payload');
      assert.equal(decoded.frame.dtype, dtype);
      assert.deepEqual(decoded.frame.shape, [3, 5]);
      assert.deepEqual(
        Array.from(decoded.frame.data as ArrayLike<number>),
        Array.from(frame.data as ArrayLike<number>),
      );
      assert.deepEqual(decoded.frame.metadata, frame.metadata);
    }
  });

  it('copies only when the payload offset is misaligned', () => {
    const frame = testFrame('float64', 2, 2);
    const [header, payload] = encodeFrame(frame);
    const shifted = Buffer.alloc(payload.length + 1);
    payload.copy(shifted, 1);
    const decoded = decodeMessage([header, shifted.subarray(1)]);
    assert.equal(decoded.kind, 'frame');
    if (decoded.kind !== 'frame') return;
    assert.notEqual(decoded.frame.data.buffer, shifted.buffer);
    assert.deepEqual(Array.from(decoded.frame.data as Float64Array), Array.from(frame.data));
  });

  it('accepts Python Concert headers, big-endian data included', () => {
    const be = Buffer.alloc(4);
    be.writeUInt16BE(0x1234, 0);
    be.writeUInt16BE(0xabcd, 2);
    const decoded = decodeMessage([Buffer.from('{"dtype": ">u2", "shape": [1, 2], "exposure": 0.1}'), be], {
      fallbackFrameNumber: 9,
    });
    assert.equal(decoded.kind, 'frame');
    if (decoded.kind !== 'frame') return;
    assert.deepEqual(Array.from(decoded.frame.data as Uint16Array), [0x1234, 0xabcd]);
    assert.equal(decoded.frame.metadata.frameNumber, 9);
    assert.equal(decoded.frame.metadata.exposure, 0.1);
    assert.ok(decoded.frame.metadata.timestamp > 0);
  });

  it('recognises the end marker, and only {"end": true}', () => {
    assert.equal(decodeMessage(encodeEnd()).kind, 'end');
    assert.equal(decodeMessage([Buffer.from('{"end": true}')]).kind, 'end');
    for (const text of [
      '{"end": false}',
      '{"end": 1}',
      '{"end": "true"}',
      '{"end": null}',
      '{"end": true, "frames": -1}',
    ]) {
      const decoded = decodeMessage([Buffer.from(text)]);
      assert.equal(decoded.kind, 'invalid', text);
    }
    assert.match(
      (decodeMessage([Buffer.from('{"end": false}')]) as { reason: string }).reason,
      /must be \{"end": true\}/,
    );
  });

  it('carries an optional stream id on frames and end markers; the header without it is unchanged', () => {
    const frame = testFrame('uint16', 2, 2, 3);
    const plain = JSON.parse(encodeFrame(frame)[0].toString());
    assert.equal('stream' in plain, false, 'no stream key unless asked for');
    const [header, payload] = encodeFrame(frame, { stream: 'run-1' });
    assert.equal(JSON.parse(header.toString()).stream, 'run-1');
    const decoded = decodeMessage([header, payload]);
    assert.ok(decoded.kind === 'frame' && decoded.stream === 'run-1' && decoded.frame.metadata.stream === 'run-1');
    const end = decodeMessage(encodeEnd({ stream: 'run-1', frames: 7 }));
    assert.deepEqual(end, { kind: 'end', header: { stream: 'run-1', frames: 7, end: true }, stream: 'run-1' });
    // a frame received in one stream and sent on in another carries the new id
    const forwarded = { ...frame, metadata: { ...frame.metadata, stream: 'old' } };
    assert.equal(JSON.parse(encodeFrame(forwarded, { stream: 'new' })[0].toString()).stream, 'new');
    assert.equal(JSON.parse(encodeFrame(forwarded)[0].toString()).stream, 'old');
    // metadata that merely happens to be called 'stream' is not sent as an id
    assert.equal(
      'stream' in JSON.parse(encodeFrame({ ...frame, metadata: { ...frame.metadata, stream: 42 } })[0].toString()),
      false,
    );
    for (const bad of ['""', '42', '{"a":1}', JSON.stringify('x'.repeat(200))]) {
      const decoded = decodeMessage([Buffer.from(`{"dtype":"uint16","shape":[2,2],"stream":${bad}}`), payload]);
      assert.equal(decoded.kind, 'invalid', bad);
    }
  });

  it('rejects malformed messages with a reason instead of throwing', () => {
    const ok = encodeFrame(makeFrame(new Uint16Array(4), [2, 2]));
    const cases: [string, Buffer[]][] = [
      ['no parts', []],
      ['three parts', [...ok, Buffer.alloc(1)]],
      ['bad JSON', [Buffer.from('{"dtype":'), ok[1]]],
      ['array header', [Buffer.from('[1,2]'), ok[1]]],
      ['unknown dtype', [Buffer.from('{"dtype":"complex128","shape":[2,2]}'), ok[1]]],
      ['wrong length', [Buffer.from('{"dtype":"uint16","shape":[2,3]}'), ok[1]]],
      ['3-D shape', [Buffer.from('{"dtype":"uint16","shape":[1,2,2]}'), ok[1]]],
      ['float shape', [Buffer.from('{"dtype":"uint16","shape":[2.5,2]}'), ok[1]]],
      ['negative shape', [Buffer.from('{"dtype":"uint16","shape":[-2,-2]}'), ok[1]]],
      ['empty frame', [Buffer.from('{"dtype":"uint16","shape":[0,0]}'), Buffer.alloc(0)]],
      ['empty rows', [Buffer.from('{"dtype":"uint16","shape":[0,5]}'), Buffer.alloc(0)]],
      ['huge shape', [Buffer.from('{"dtype":"uint16","shape":[1e9,1e9]}'), ok[1]]],
      ['future version', [Buffer.from('{"dtype":"uint16","shape":[2,2],"version":99}'), ok[1]]],
      ['single part, not end', [ok[0]]],
      ['end with payload', [Buffer.from('{"end":true}'), ok[1]]],
    ];
    for (const [name, parts] of cases) {
      const decoded = decodeMessage(parts);
      assert.equal(decoded.kind, 'invalid', name);
    }
    assert.equal(decodeMessage(ok, { maxFrameBytes: 4 }).kind, 'invalid', 'size cap');
    assert.equal(decodeMessage(ok, { maxHeaderBytes: 10 }).kind, 'invalid', 'header cap');
  });
});

import assert from 'node:assert/strict';
import { formatLogLine, isLogLevel, Logger, setLogLevel, setLogSink } from '../../../core/index.js';

describe('core/log', () => {
  afterEach(() => {
    setLogSink(undefined);
    setLogLevel('info');
  });

  it('routes lines at or above the level to the sink', () => {
    const lines: string[] = [];
    setLogSink((level, source, message) => lines.push(`${level} ${source}: ${message}`));
    const log = new Logger('motor');
    log.debug('d');
    log.info('i');
    setLogLevel('debug');
    log.debug('d2');
    setLogLevel('error');
    log.warn('w');
    log.error('e');
    assert.deepEqual(lines, ['info motor: i', 'debug motor: d2', 'error motor: e']);
    assert.throws(() => setLogLevel('loud' as never), /unknown log level 'loud'/);
    assert.ok(isLogLevel('warn') && !isLogLevel('loud'));
  });

  it('formats a line with time, level, source and a trace', () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    assert.equal(formatLogLine('info', 'm', 'hi', undefined, now), '2026-01-02T03:04:05.000Z INFO  m: hi\n');
    const line = formatLogLine('error', 'm', 'bad', new Error('boom'), now);
    assert.match(line, /^2026-01-02T03:04:05\.000Z ERROR m: bad\nError: boom\n/);
  });

  it('writes the same time as toISOString() across milliseconds, seconds and days', () => {
    const base = Date.parse('2026-12-31T23:59:58.990Z');
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2011, -1e12, 1e15]) {
      const at = new Date(base + ms);
      assert.equal(formatLogLine('debug', 's', 'x', undefined, at), `${at.toISOString()} DEBUG s: x\n`);
      assert.equal(formatLogLine('warn', 's', 'x', undefined, base + ms), `${at.toISOString()} WARN  s: x\n`);
    }
    assert.match(formatLogLine('info', 's', 'now'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  s: now\n$/);
  });
});

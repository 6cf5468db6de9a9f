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
});

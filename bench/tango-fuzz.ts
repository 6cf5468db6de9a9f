/**
 * Fuzz of the Tango client (issue 10): ≥ 10⁵ malformed GIOP replies (truncated, garbled, garbage
 * after a valid header; see test/support/malformed-giop.ts) answered to a {@link DeviceProxy} by a
 * fake GIOP server in this process. Every call must settle with a Concert error (or a value),
 * never an uncaught exception, a crash or a hang; afterwards a valid reply is decoded again.
 * Rows: calls that did not settle as they should (goal 0) and this process's heap after the fuzz
 * against before it (goal ratio ≤ 1.2; "before" is measured after a warm-up of a tenth as many cases).
 *
 * Run: `npx tsx bench/tango-fuzz.ts [--cases 100000]`.
 * @module
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { ConcertError, errorMessage } from '../core/errors.js';
import { ReplyStatus, encodeReply } from '../tango/giop.js';
import { DeviceProxy } from '../tango/index.js';
import { commandReply, malformedReply, rng } from '../test/support/malformed-giop.js';
import { FakeGiopServer, type FakeAnswer, type FakeRequest } from '../test/unit/tango/fake-giop-server.js';
import { printResult } from './result.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Live heap after a full collection. */
function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const cases = Number(arg('cases') ?? 100_000);
  let uncaught = 0;
  process.on('uncaughtException', (e) => {
    uncaught++;
    console.error(`uncaught: ${errorMessage(e)}`);
  });
  process.on('unhandledRejection', (e) => {
    uncaught++;
    console.error(`unhandled rejection: ${errorMessage(e)}`);
  });
  let answer: (req: FakeRequest) => FakeAnswer | undefined = () => undefined;
  const server = await new FakeGiopServer((req) =>
    req.operation === '_is_a'
      ? { chunks: [encodeReply(req.id, ReplyStatus.NoException, (w) => w.boolean(true))] }
      : answer(req),
  ).listen();
  const dev = await DeviceProxy.create(`tango://127.0.0.1:${server.port}/sys/fuzz/1#dbase=no`, { timeoutMs: 100 });
  const rand = rng(20261201);
  const outcomes = new Map<string, number>();
  let wrong = 0;
  const run = async (n: number, offset: number): Promise<void> => {
    for (let i = offset; i < offset + n; i++) {
      answer = (req) => malformedReply(i, rand, req);
      try {
        await (i % 3 === 0 ? dev.readAttributes(['x']) : dev.command('X', 1, 3));
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof ConcertError)) {
          wrong++;
          console.error(`case ${i}: ${errorMessage(e)}`);
        }
        const name = e instanceof Error ? e.name : typeof e;
        outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
      }
      if ((i + 1) % 10_000 === 0) process.stderr.write(`\r${i + 1 - offset} of ${n} replies`);
    }
    process.stderr.write('\n');
  };
  try {
    const t0 = performance.now();
    await run(Math.ceil(cases / 10), 0);
    const before = heap();
    await run(cases, cases);
    const after = heap();
    answer = (req) => ({ chunks: [commandReply(req, true)] });
    let healthy = 'ok';
    try {
      await dev.command('X', 1, 3);
    } catch (e) {
      healthy = errorMessage(e);
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `${cases} malformed GIOP replies in ${seconds.toFixed(0)} s: ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
        `not a Concert error ${wrong}, uncaught ${uncaught}; afterwards: ${healthy}; heap ` +
        `${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    printResult({
      name: `fuzz Tango client (${cases} malformed GIOP replies): calls not settled with a Concert error, or crashes`,
      value: wrong + uncaught + (healthy === 'ok' ? 0 : 1),
      unit: 'failures',
      goal: { of: 'value', atMost: 0 },
    });
    printResult({
      name: 'fuzz Tango client: heap after the fuzz',
      value: after / 2 ** 20,
      unit: 'MiB',
      baseline: before / 2 ** 20,
      baselineName: 'before the fuzz',
      goal: { of: 'ratio', atMost: 1.2 },
    });
  } finally {
    await dev.close();
    await server.close();
  }
}

await main();
process.exit(0);

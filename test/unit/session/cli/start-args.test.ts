import assert from 'node:assert/strict';
import { program } from '../../../../session/cli/main.js';
import { parseStartArgs } from '../../../../session/cli/start-args.js';

/** What commander gives the `start` action for `argv` (the command's real definition, its action replaced). */
async function commanderReading(argv: string[]): Promise<{ name?: string; options: object }> {
  const cli = program();
  const start = cli.commands.find((c) => c.name() === 'start')!;
  let seen: { name?: string; options: object } | undefined;
  start.action((name: string | undefined, options: object) => {
    seen = { name, options: { ...options } };
  });
  await cli.parseAsync(argv, { from: 'user' });
  return seen!;
}

describe('session/cli/start-args', () => {
  it('reads `concert start …` as commander does', async () => {
    for (const argv of [
      ['start'],
      ['start', 'demo'],
      ['start', 'demo', '--non-interactive'],
      ['start', '--non-interactive', 'demo'],
      ['start', '--dry-run', 'demo', '--no-progress'],
      ['start', 'demo', '--logto', 'stderr', '--loglevel', 'debug'],
      ['start', 'demo', '--logto=stderr', '--loglevel=warn', '--logfile', '/tmp/x.log'],
      ['start', '--filename', 'sessions/demo.ts', '--non-interactive'],
      ['start', 'mine', '--filename=a.ts'],
    ]) {
      const fast = parseStartArgs(argv);
      assert.ok(fast, `taken: ${argv.join(' ')}`);
      assert.deepEqual({ name: fast.name, options: fast.options }, await commanderReading(argv), argv.join(' '));
    }
  });

  it('leaves to commander what it does not fully understand (help, bad choices, unknown options)', () => {
    for (const argv of [
      ['show', 'demo'],
      ['start', '--help'],
      ['start', '-h'],
      ['start', 'a', 'b'],
      ['start', '--loglevel', 'loud'],
      ['start', '--logto', 'syslog'],
      ['start', '--bogus'],
      ['start', 'demo', '--filename'],
      ['start', '--logfile', '--dry-run'],
      ['start', '--', 'demo'],
    ])
      assert.equal(parseStartArgs(argv), undefined, argv.join(' '));
  });
});

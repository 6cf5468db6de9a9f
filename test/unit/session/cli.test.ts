/**
 * The `concert` command as a subprocess: the store subcommands, `start --non-interactive` exit
 * statuses and load errors, piped stdin, lock files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { concert, concertAsync, concertBin, have, removeTemp, root, tempHome } from './support.js';

describe('concert command', function () {
  this.timeout(30_000);
  let home: string;
  let store: string;
  beforeEach(() => {
    home = tempHome();
    store = join(home, 'concert');
  });
  afterEach(() => removeTemp(home));

  const write = (name: string, text: string) => {
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, `${name}.ts`), text);
  };

  describe('--version and --help', () => {
    it('prints the version', () => {
      const r = concert(home, ['--version']);
      assert.equal(r.status, 0);
      assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    });

    it('prints the version from every subcommand; help --help and help CMD exit 0', () => {
      const v = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
      for (const args of [
        ['start', '--version'],
        ['show', '--version'],
        ['set', 'info', '--version'],
      ]) {
        const r = concert(home, args);
        assert.equal(r.status, 0, args.join(' '));
        assert.equal(r.stdout.trim(), v, args.join(' '));
      }
      const help = concert(home, ['help', '--help']);
      assert.equal(help.status, 0);
      assert.match(help.stdout, /^Usage: concert \[options\] \[command\]/);
      const start = concert(home, ['help', 'start']);
      assert.equal(start.status, 0);
      assert.match(start.stdout, /^Usage: concert start/);
    });

    it('log of a session that does not exist says so and exits 1', () => {
      const r = concert(home, ['log', 'nosuch']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /there is no session called 'nosuch' and the log has no line of it \(sessions: demo/);
      assert.equal(concert(home, ['log', 'demo']).status, 0, 'a shipped session without lines yet is fine');
    });

    it('has --help on every subcommand', () => {
      const top = concert(home, ['--help']);
      assert.equal(top.status, 0);
      for (const c of ['init', 'edit', 'show', 'log', 'mv', 'cp', 'rm', 'import', 'export', 'start']) {
        assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), c);
        const r = concert(home, [c, '--help']);
        assert.equal(r.status, 0, c);
        assert.match(r.stdout, new RegExp(`^Usage: concert ${c}`, 'm'));
      }
      assert.match(
        concert(home, ['start', '--help']).stdout,
        /--non-interactive[\s\S]*--logto <where>[\s\S]*--loglevel <level>[\s\S]*--no-progress/,
      );
    });

    it('rejects an unknown command with a suggestion', () => {
      const r = concert(home, ['strat']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /unknown command 'strat'[\s\S]*start/);
    });
  });

  describe('the store', () => {
    it('init creates a session from the template; show prints its manual and lists sessions', () => {
      let r = concert(home, ['init', 'tomo']);
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(join(store, 'tomo.ts'), 'utf8');
      assert.match(text, /^\/\*\*\n \* tomo: a Concert session\./);
      assert.match(text, /import \{ q \} from 'concert';/);
      r = concert(home, ['init', 'tomo']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^Sorry, session 'tomo' already exists .*use --force/);
      writeFileSync(join(store, 'tomo.ts'), '// changed\n');
      assert.equal(concert(home, ['init', 'tomo', '--force']).status, 0);
      assert.match(readFileSync(join(store, 'tomo.ts'), 'utf8'), /tomo: a Concert session/);
      assert.match(
        concert(home, ['show', 'tomo']).stdout,
        /^tomo: a Concert session\.\n\nWrite the session's manual here/,
      );
      const list = concert(home, ['show']).stdout;
      assert.match(list, /^tomo\s+a Concert session\.$/m);
      assert.match(
        list,
        /shipped with Concert:\ndemo\s+a complete simulated imaging setup, ready to play with offline\.$/m,
      );
      assert.match(concert(home, ['init', '9lives']).stderr, /Sorry, '9lives' is not a valid session name/);
      // the template loads
      const started = concert(home, ['start', 'tomo', '--non-interactive']);
      assert.equal(started.status, 0, started.stderr);
    });

    it('show and the banner give the whole first sentence; cp names the copy in its manual', () => {
      write(
        'long',
        '/**\n * long: the first sentence goes on over a line break, e.g. like this,\n * and ends here. A second one.\n */\n',
      );
      assert.match(
        concert(home, ['show']).stdout,
        /^long\s+the first sentence goes on over a line break, e\.g\. like this, and ends here\.$/m,
      );
      assert.equal(concert(home, ['cp', 'demo', 'mine']).status, 0);
      assert.match(
        readFileSync(join(store, 'mine.ts'), 'utf8'),
        /^\/\*\*\n \* mine: a complete simulated imaging setup/,
      );
      assert.match(concert(home, ['show', 'mine']).stdout, /^mine: a complete/);
    });

    it('show of an unknown session says which exist', () => {
      write('alpha', '/** Alpha. */\n');
      const r = concert(home, ['show', 'nope']);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^Sorry, there is no session called 'nope' \(sessions: alpha\); create it with `concert init nope`/,
      );
    });

    it('mv, cp and rm', () => {
      write('one', '/** One. */\nexport const x = 1;\n');
      assert.equal(concert(home, ['mv', 'one', 'two']).status, 0);
      assert.ok(!existsSync(join(store, 'one.ts')));
      assert.match(readFileSync(join(store, 'two.ts'), 'utf8'), /One/);
      assert.equal(concert(home, ['cp', 'two', 'three']).status, 0);
      assert.equal(readFileSync(join(store, 'three.ts'), 'utf8'), readFileSync(join(store, 'two.ts'), 'utf8'));
      assert.match(concert(home, ['cp', 'two', 'three']).stderr, /Sorry, session 'three' already exists/);
      assert.match(concert(home, ['mv', 'missing', 'x']).stderr, /Sorry, there is no session called 'missing'/);
      // cp of the shipped demo makes an editable copy
      assert.equal(concert(home, ['cp', 'demo', 'mine']).status, 0);
      assert.match(readFileSync(join(store, 'mine.ts'), 'utf8'), /mine: a complete simulated imaging setup/);
      // rm checks every name before removing any
      const bad = concert(home, ['rm', 'two', 'missing']);
      assert.equal(bad.status, 1);
      assert.ok(existsSync(join(store, 'two.ts')));
      assert.equal(concert(home, ['rm', 'two', 'three']).status, 0);
      assert.ok(!existsSync(join(store, 'two.ts')) && !existsSync(join(store, 'three.ts')));
    });

    it('export writes a zip that unzip/zipfile can read; import reads it back', () => {
      write('alpha', '/** Alpha. */\nexport const a = 1;\n');
      write('beta', `/** Beta. */\n${'export const b = 2;\n'.repeat(50)}`);
      const zip = join(home, 'out.zip');
      const r = concert(home, ['export', 'alpha', 'beta', '--out', zip]);
      assert.equal(r.status, 0, r.stderr);
      if (have('unzip')) {
        const list = spawnSync('unzip', ['-l', zip], { encoding: 'utf8' });
        assert.equal(list.status, 0, list.stderr);
        assert.match(list.stdout, /alpha\.ts/);
        assert.match(list.stdout, /beta\.ts/);
        const test = spawnSync('unzip', ['-t', zip], { encoding: 'utf8' });
        assert.match(test.stdout, /No errors detected/);
      } else if (have('python3')) {
        const py = spawnSync(
          'python3',
          [
            '-c',
            'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(sorted(z.namelist()))',
            zip,
          ],
          { encoding: 'utf8' },
        );
        assert.equal(py.stdout.trim(), "['alpha.ts', 'beta.ts']");
      } else console.log('    (neither unzip nor python3: zip checked by our own reader only)');
      // import into a fresh store
      const other = tempHome();
      try {
        const imported = concert(other, ['import', zip]);
        assert.equal(imported.status, 0, imported.stderr);
        assert.equal(
          readFileSync(join(other, 'concert', 'beta.ts'), 'utf8'),
          readFileSync(join(store, 'beta.ts'), 'utf8'),
        );
        assert.match(
          concert(other, ['import', zip]).stderr,
          /Sorry, session 'alpha', 'beta' already exists; use --force/,
        );
        assert.equal(concert(other, ['import', zip, '--force']).status, 0);
      } finally {
        removeTemp(other);
      }
      // default file name
      assert.equal(concert(home, ['export', 'alpha'], { cwd: home }).status, 0);
      assert.ok(existsSync(join(home, 'alpha.zip')));
    });

    it('import from a path and from an http URL', async () => {
      const file = join(home, 'remote.ts');
      writeFileSync(file, '/** Remote. */\nexport const r = 1;\n');
      let r = concert(home, ['import', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(concert(home, ['show', 'remote']).stdout, /^Remote\./);
      const server: Server = createServer((req, res) => {
        if (req.url === '/sessions/fetched.ts') res.end('/** Fetched over http. */\nexport const f = 1;\n');
        else {
          res.statusCode = 404;
          res.end('not found');
        }
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        r = await concertAsync(home, ['import', `${base}/sessions/fetched.ts`]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(readFileSync(join(store, 'fetched.ts'), 'utf8'), /Fetched over http/);
        r = await concertAsync(home, ['import', `${base}/nothing.ts`]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /Sorry, cannot download .*nothing\.ts: HTTP 404/);
      } finally {
        server.close();
      }
      assert.match(concert(home, ['import', join(home, 'none.ts')]).stderr, /Sorry, there is no file/);
    });

    it('edit runs $EDITOR on the session, creating it from the template', () => {
      const editor = join(home, 'editor.sh');
      writeFileSync(editor, '#!/bin/sh\necho "// edited" >> "$1"\n');
      chmodSync(editor, 0o755);
      const r = concert(home, ['edit', 'fresh'], { env: { EDITOR: editor, VISUAL: '' } });
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(join(store, 'fresh.ts'), 'utf8');
      assert.match(text, /fresh: a Concert session/);
      assert.match(text, /\/\/ edited\n$/);
    });

    it('log prints concert.log, only one session with NAME, and follows', async () => {
      write(
        'first',
        'import { LinearMotor } from "concert/devices/motors/dummy";\nexport const m1 = await ' +
          'LinearMotor.create();\nm1.log.info("hello from first");\n',
      );
      write(
        'second',
        'import { LinearMotor } from "concert/devices/motors/dummy";\nexport const m2 = await ' +
          'LinearMotor.create();\nm2.log.info("hello from second");\n',
      );
      assert.equal(concert(home, ['start', 'first', '--non-interactive']).status, 0);
      assert.equal(concert(home, ['start', 'second', '--non-interactive']).status, 0);
      const all = concert(home, ['log']).stdout;
      assert.match(all, /INFO  first:m1: hello from first/);
      assert.match(all, /INFO  second:m2: hello from second/);
      const one = concert(home, ['log', 'second']).stdout;
      assert.doesNotMatch(one, /first/);
      assert.match(one, /hello from second/);
      // --follow prints what is appended later
      const child = spawn(process.execPath, [join(root, 'bin', 'concert'), 'log', '--follow'], {
        env: { ...process.env, XDG_DATA_HOME: home },
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      try {
        await waitUntil(() => out.includes('hello from second'));
        assert.equal(concert(home, ['start', 'first', '--non-interactive']).status, 0);
        await waitUntil(() => out.split('hello from first').length === 3);
      } finally {
        child.kill('SIGINT');
      }
    });
  });

  describe('start', () => {
    it('starts the shipped demo non-interactively on a fresh install', () => {
      const r = concert(home, ['start', 'demo', '--non-interactive']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(readFileSync(join(store, 'concert.log'), 'utf8'), /session demo loaded in \d+ ms/);
      assert.ok(!existsSync(join(store, '.demo.lock')), 'lock released');
    });

    it('exits with the status the session sets, and non-zero when it fails to load', () => {
      write('status', 'process.exitCode = 3;\n');
      assert.equal(concert(home, ['start', 'status', '--non-interactive']).status, 3);
      write('syntax', 'export const a = 1;\nexport const b = a +* 2;\n');
      let r = concert(home, ['start', 'syntax', '--non-interactive']);
      assert.equal(r.status, 1);
      // (the message is TypeScript's, or esbuild's under the tsx fallback)
      assert.match(
        r.stderr,
        new RegExp(
          `^${escape(join(store, 'syntax.ts'))}:2:21: SyntaxError: (Expression expected\\.|Unexpected "\\*")\nThe session failed to ` +
            `load\\.\n$`,
        ),
      );
      write('throws', 'import { q } from "concert";\nexport const a = 1;\n\n  throw new Error("no beam");\n');
      r = concert(home, ['start', 'throws', '--non-interactive']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^${escape(join(store, 'throws.ts'))}:4:9: Error: no beam\n`));
      // imports through barrels (rewritten to the defining modules) keep the lines of the file
      write(
        'barrels',
        'import {\n  q,\n  Device,\n} from "concert";\nimport { LinearMotor } from "concert/devices/motors/dummy";\n' +
          'export const m = await LinearMotor.create({ upper: q("1 mm") });\nexport { Device };\n  throw new Error("late");\n',
      );
      r = concert(home, ['start', 'barrels', '--non-interactive']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^${escape(join(store, 'barrels.ts'))}:8:9: Error: late\n`));
      write(
        'concerterror',
        'import { LinearMotor } from "concert/devices/motors/dummy";\nimport { q } from "concert";\nconst m = await ' +
          'LinearMotor.create({ upper: q("1 mm") });\nawait m.setPosition(q("2 mm"));\n',
      );
      r = concert(home, ['start', 'concerterror', '--non-interactive']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /concerterror\.ts:4:\d+: Sorry, .*2 mm.*/);
      write(
        'badimport',
        'import { q } from "concert";\nimport { Nothing } from "concert/devices/nothing";\nexport const n = Nothing;\n',
      );
      r = concert(home, ['start', 'badimport', '--non-interactive']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /badimport\.ts:2:25: cannot import 'concert\/devices\/nothing'/);
      write('badname', 'import { Nothing } from "concert";\nexport const n = Nothing;\n');
      r = concert(home, ['start', 'badname', '--non-interactive']);
      assert.match(
        r.stderr,
        /badname\.ts:1:10: SyntaxError: The requested module 'concert' does not provide an export named 'Nothing'/,
      );
      // the trace is in the log
      assert.match(
        readFileSync(join(store, 'concert.log'), 'utf8'),
        /ERROR throws:session: session .*throws\.ts failed to load\nError: no beam\n\s+at /,
      );
    });

    it('runs a session file given with --filename, anywhere on disk, importing concert', () => {
      const dir = join(home, 'elsewhere');
      mkdirSync(dir);
      writeFileSync(join(dir, 'helper.ts'), 'export const factor: number = 3;\n');
      writeFileSync(
        join(dir, 'outside.ts'),
        'import { q, format } from "concert";\nimport { factor } from "./helper.ts";\nconsole.log("value", format(q(factor, "mm")));\n',
      );
      const r = concert(home, ['start', '--filename', join(dir, 'outside.ts'), '--non-interactive']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'value 3 mm\n');
      assert.match(
        concert(home, ['start', '--filename', join(dir, 'nope.ts')]).stderr,
        /Sorry, there is no session file/,
      );
    });

    it('a start loads neither commander nor ws (until a websocket is used)', () => {
      write(
        'loaded',
        [
          "import { createRequire } from 'node:module';",
          "import { ImageWriter, WebViewer } from 'concert/addons/local';",
          "import { StreamRecorder } from 'concert/recording';",
          'const cache = createRequire(import.meta.url).cache;',
          'const has = (dep: string) => Object.keys(cache).some((f) => f.includes(`/node_modules/${dep}/`));',
          'console.log(has("commander"), has("ws"), [ImageWriter, WebViewer, StreamRecorder].length);',
          "await import('ws');",
          'console.log(has("ws"));',
          '',
        ].join('\n'),
      );
      const r = concert(home, ['start', 'loaded', '--non-interactive']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'false false 3\ntrue\n');
    });

    it("a session's zod is the package's (one bundle in the cache)", () => {
      const dir = join(home, 'elsewhere');
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'zod.ts'),
        [
          'import { z } from "zod";',
          'import { z as cz, parseOptions } from "concert";',
          'const schema = z.strictObject({ n: z.number() });',
          'console.log("same zod", z === cz, parseOptions("probe", schema, { n: 1 }).n);',
        ].join('\n'),
      );
      const env = { CONCERT_CACHE_DIR: join(home, 'zod-cache') };
      const r = concert(home, ['start', '--filename', join(dir, 'zod.ts'), '--non-interactive'], {
        env,
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'same zod true 1\n');
      assert.ok(existsSync(join(home, 'zod-cache', 'deps', 'zod.js')), 'zod is bundled in the cache');
    });

    it('works from a fresh cache outside the package (first start after an install, or a read-only install)', () => {
      const dir = join(home, 'elsewhere');
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'outside.ts'),
        'import { q, format } from "concert";\nimport { LinearMotor } from "concert/devices/motors/dummy";\nexport const m = await ' +
          'LinearMotor.create();\nconsole.log("value", format(q(2, "mm")));\n',
      );
      const env = { CONCERT_CACHE_DIR: join(home, 'cache') };
      let r = concert(home, ['start', '--filename', join(dir, 'outside.ts'), '--non-interactive'], {
        env,
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'value 2 mm\n');
      // The first start says what it does; later ones are quiet.
      assert.match(r.stderr, /^concert: preparing \d+ of \d+ files for this install \(once\)… done in [\d.]+ s\n$/);
      assert.ok(existsSync(join(home, 'cache', 'core', 'device.js')));
      r = concert(home, ['start', '--filename', join(dir, 'outside.ts')], {
        env,
        input:
          'import { RotationMotor } from "concert/devices/motors/dummy"\nconsole.log(RotationMotor.name, m.name)\n',
      });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /RotationMotor m\n/);
      writeFileSync(join(dir, 'bad.ts'), 'export const a = 1;\nexport const b = a +* 2;\n');
      r = concert(home, ['start', '--filename', join(dir, 'bad.ts'), '--non-interactive'], { env });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /bad\.ts:2:21: SyntaxError: Unexpected "\*"/);
    });

    it('--prepare-install (npm postinstall) fills the cache, so the first start transpiles nothing', () => {
      const env = { CONCERT_CACHE_DIR: join(home, 'prepared-cache'), CONCERT_STARTUP_TIMING: '1' };
      let r = concert(home, ['--prepare-install'], { env, timeoutMs: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^concert: \d+ of \d+ files prepared in [\d.]+ s\n$/);
      assert.ok(existsSync(join(home, 'prepared-cache', 'session', 'cli', 'main.js')));
      write('prepared', 'console.log("ready")\n');
      r = concert(home, ['start', 'prepared', '--non-interactive'], { env, timeoutMs: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'ready\n');
      assert.match(r.stderr, /transpile cache checked in \d+ ms \(0 transpiled\)/);
      assert.doesNotMatch(r.stderr, /preparing/);
    });

    it('--logto stderr, --loglevel and --logfile', () => {
      write(
        'logs',
        'import { Logger } from "concert";\nconst l = new Logger("probe");\nl.debug("dbg line");\nl.info("info line");\n',
      );
      let r = concert(home, ['start', 'logs', '--non-interactive', '--logto', 'stderr', '--loglevel', 'debug']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /DEBUG logs:probe: dbg line/);
      const file = join(home, 'custom.log');
      r = concert(home, ['start', 'logs', '--non-interactive', '--logfile', file]);
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /INFO  logs:probe: info line/);
      assert.doesNotMatch(text, /dbg line/);
      assert.match(concert(home, ['start', 'logs', '--loglevel', 'loud']).stderr, /argument 'loud' is invalid/);
    });

    it('executes piped stdin line by line, in order, and exits non-zero after errors', () => {
      const input = [
        'await tomoMotor.setPosition(q("15 deg"))',
        'console.log("after the move", Math.round((await tomoMotor.getPosition()).toNumber("deg")))',
        'const t: number = 2',
        'function double(x: number) {',
        '  return x * 2',
        '}',
        'console.log("double", double(t))',
      ].join('\n');
      let r = concert(home, ['start', 'demo'], { input });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /after the move 15\n[\s\S]*double 4\n/);
      r = concert(home, ['start', 'demo'], { input: 'nosuchthing\nconsole.log("still here")\n' });
      assert.equal(r.status, 1);
      assert.match(r.stdout, /ReferenceError: nosuchthing is not defined[\s\S]*still here/);
    });

    it('lock: a stale lock from a dead process is cleared; MULTIINSTANCE sessions are not locked', () => {
      mkdirSync(store, { recursive: true });
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      });
      writeFileSync(join(store, '.demo.lock'), `${dead.stdout}\n`);
      const r = concert(home, ['start', 'demo', '--non-interactive']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!existsSync(join(store, '.demo.lock')));
      // a live process that is not concert (this test process) holds no session: the lock is stale
      writeFileSync(join(store, '.demo.lock'), `${process.pid}\n`);
      const unrelated = concert(home, ['start', 'demo', '--non-interactive']);
      assert.equal(unrelated.status, 0, unrelated.stderr);
      write('multi', 'export const MULTIINSTANCE = true;\n');
      writeFileSync(join(store, '.multi.lock'), `${process.pid}\n`);
      assert.equal(concert(home, ['start', 'multi', '--non-interactive']).status, 0);
    });

    it('lock: a running session refuses start, rm, mv, init --force and import --force, naming its pid', async () => {
      write('held', '/** held */\nexport const x = 1;\n');
      const holder = spawn(process.execPath, [concertBin, 'start', 'held'], {
        cwd: root,
        env: { ...process.env, XDG_DATA_HOME: home },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      try {
        const lock = join(store, '.held.lock');
        await waitUntil(() => existsSync(lock), 20_000);
        const pid = holder.pid!;
        const running = new RegExp(`session 'held' is (already )?running \\(pid ${pid}\\)`);
        const copy = join(home, 'held.ts');
        writeFileSync(copy, 'export const y = 2;\n');
        for (const args of [
          ['start', 'held', '--non-interactive'],
          ['rm', 'held'],
          ['mv', 'held', 'other'],
          ['init', 'held', '--force'],
          ['import', copy, '--force'],
        ]) {
          const r = concert(home, args);
          assert.equal(r.status, 1, args.join(' '));
          assert.match(r.stderr, running, args.join(' '));
        }
        assert.match(readFileSync(join(store, 'held.ts'), 'utf8'), /held/, 'the file is untouched');
      } finally {
        holder.kill('SIGKILL');
      }
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

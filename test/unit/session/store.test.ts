import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  acquireLock,
  checkName,
  findSession,
  isMultiInstance,
  listSessions,
  lockPath,
  manual,
  sessionDir,
  SessionError,
} from '../../../session/store.js';
import { removeTemp, tempHome } from './support.js';

describe('session/store', () => {
  let home: string;
  let saved: string | undefined;
  beforeEach(() => {
    home = tempHome();
    saved = process.env.XDG_DATA_HOME;
    process.env.XDG_DATA_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = saved;
    removeTemp(home);
  });

  it('lives in $XDG_DATA_HOME/concert, default ~/.local/share/concert', () => {
    assert.equal(sessionDir(), join(home, 'concert'));
    delete process.env.XDG_DATA_HOME;
    assert.match(sessionDir(), /\/\.local\/share\/concert$/);
  });

  it('checks names', () => {
    assert.equal(checkName('tomo-2'), 'tomo-2');
    assert.equal(checkName('tomo.ts'), 'tomo');
    for (const bad of ['', '2x', '../x', 'a b', '-x']) assert.throws(() => checkName(bad), SessionError, bad);
  });

  it('lists sessions and finds shipped ones', () => {
    mkdirSync(join(home, 'concert'));
    writeFileSync(join(home, 'concert', 'b.ts'), '');
    writeFileSync(join(home, 'concert', 'a.ts'), '');
    writeFileSync(join(home, 'concert', 'notes.txt'), '');
    assert.deepEqual(listSessions(), ['a', 'b']);
    assert.equal(findSession('demo').shipped, true);
    assert.throws(() => findSession('zzz'), /there is no session called 'zzz' \(sessions: a, b\)/);
  });

  it('reads the manual and MULTIINSTANCE from the source', () => {
    assert.equal(manual('/**\n * Title.\n *\n * More.\n */\nexport const a = 1;'), 'Title.\n\nMore.');
    assert.equal(manual('// nothing\n'), '');
    assert.ok(isMultiInstance('export const MULTIINSTANCE = true;'));
    assert.ok(isMultiInstance('export const MULTIINSTANCE: boolean = true;'));
    assert.ok(!isMultiInstance('export const MULTIINSTANCE = false;'));
  });

  it('locks: refuses a live holder, clears a stale lock, releases', () => {
    const lock = acquireLock('x');
    assert.equal(readFileSync(lockPath('x'), 'utf8').trim(), String(process.pid));
    lock.release();
    assert.ok(!existsSync(lockPath('x')));
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(lockPath('x'), child.stdout);
    acquireLock('x').release();
    writeFileSync(lockPath('x'), '1\n'); // pid 1 is alive but not concert: a stale lock
    acquireLock('x').release();
    // A live concert process holds it (its command line names bin/concert).
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'bin/concert'], { stdio: 'ignore' });
    try {
      writeFileSync(lockPath('x'), `${holder.pid}\n`);
      assert.throws(() => acquireLock('x'), new RegExp(`session 'x' is already running \\(pid ${holder.pid}\\)`));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

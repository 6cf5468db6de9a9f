import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError } from '../../../../core/index.js';
import { authorizeKey, createKey, listKeys, revokeKey } from '../../../../session/cli/keys.js';

describe('concert keys', () => {
  let dir: string;
  const lines: string[] = [];
  const print = (l: string) => void lines.push(l);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'concert-keys-cli-'));
    lines.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates a key pair, authorizes it by file or by key, lists and revokes it', async () => {
    const key = await createKey('alice', { dir }, print);
    assert.equal((await readFile(join(dir, 'alice.key'), 'utf8')).trim(), key);
    assert.equal((await stat(join(dir, 'alice.key_secret'))).mode & 0o077, 0);
    await assert.rejects(createKey('alice', { dir }, print), /exists/);
    assert.equal(await authorizeKey(join(dir, 'alice.key'), { dir }, print), 'alice');
    assert.equal(await authorizeKey(key, { dir }, print), 'alice', 'already authorized');
    const bob = await createKey('bob', { dir }, print);
    assert.equal(await authorizeKey(bob, { dir, name: 'bob-laptop' }, print), 'bob-laptop');
    lines.length = 0;
    await listKeys({ dir }, print);
    const text = lines.join('\n');
    assert.match(text, /key pairs in .*:\n {2}alice\s+\S{40}\n {2}bob\s+/);
    assert.match(text, /authorized clients .*:\n {2}alice\s+\S{40}\n {2}bob-laptop\s+/);
    await revokeKey('bob-laptop', { dir }, print);
    await revokeKey(key, { dir }, print);
    await assert.rejects(
      revokeKey('carol', { dir }, print),
      (e: Error) => e instanceof OptionError && /no authorized key 'carol'.*\(authorized: none\)/.test(e.message),
    );
  });

  it('refuses what is not a key, a secret key file and bad names', async () => {
    await assert.rejects(
      authorizeKey('not-a-key', { dir }, print),
      /neither a 40-character Z85 public key nor a key file/,
    );
    await createKey('x', { dir }, print);
    await assert.rejects(authorizeKey(join(dir, 'x.key_secret'), { dir }, print), /secret key/);
    await assert.rejects(createKey('../evil', { dir }, print), /a key name may hold/);
  });
});

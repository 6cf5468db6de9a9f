/**
 * `concert keys create|list|authorize|revoke`: CURVE key pairs and the allow-list of the
 * servers (`concert serve KIND --curve-keys DIR` accepts only the clients whose public key is a
 * `*.key` file in `DIR/authorized`, re-read when it changes).
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { OptionError } from '../../core/index.js';
import { generateKeyPair, isZ85Key, writeKeyPair } from '../../transport/zmq/index.js';

/** Options of every `concert keys` command. */
export interface KeysCliOptions {
  /** The key directory (default `$CONCERT_KEYS` or `~/.concert/keys`). */
  dir?: string;
  /** authorize: the name of the key file (default: the key file's name, or `client-<first 8 characters>`). */
  name?: string;
}

/** The key directory of `o`. */
export function keysDir(o: KeysCliOptions): string {
  return o.dir ?? process.env.CONCERT_KEYS ?? join(homedir(), '.concert', 'keys');
}

const NAME = /^[A-Za-z0-9_.-]+$/;

function checkKeyName(name: string): string {
  if (!NAME.test(name) || name.startsWith('.'))
    throw new OptionError(`a key name may hold letters, digits, '_', '-' and '.' (not first), got '${name}'`);
  return name;
}

/** `concert keys create NAME`: a new key pair `NAME.key` / `NAME.key_secret` (mode 0600). */
export async function createKey(name: string, o: KeysCliOptions = {}, print = console.log): Promise<string> {
  const dir = keysDir(o);
  checkKeyName(name);
  if (existsSync(join(dir, `${name}.key_secret`)))
    throw new OptionError(`${join(dir, `${name}.key_secret`)} exists; choose another name or remove it first`);
  const pair = generateKeyPair();
  await writeKeyPair(dir, name, pair);
  print(`created ${join(dir, `${name}.key`)} (public: ${pair.publicKey}) and ${name}.key_secret`);
  return pair.publicKey;
}

/** The public keys of `dir` (`*.key`), by name. */
async function readKeys(dir: string): Promise<Array<{ name: string; key: string }>> {
  if (!existsSync(dir)) return [];
  const out: Array<{ name: string; key: string }> = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.key')).sort()) {
    const key = (await readFile(join(dir, file), 'utf8')).trim();
    out.push({ name: file.slice(0, -4), key: isZ85Key(key) ? key : `(not a Z85 key: ${file})` });
  }
  return out;
}

/** `concert keys list`: the key pairs of the directory and the authorized client keys. */
export async function listKeys(o: KeysCliOptions = {}, print = console.log): Promise<void> {
  const dir = keysDir(o);
  const own = await readKeys(dir);
  const authorized = await readKeys(join(dir, 'authorized'));
  print(`key pairs in ${dir}:`);
  for (const k of own) print(`  ${k.name.padEnd(16)} ${k.key}`);
  if (own.length === 0) print('  (none: concert keys create NAME)');
  print(`authorized clients (${join(dir, 'authorized')}):`);
  for (const k of authorized) print(`  ${k.name.padEnd(16)} ${k.key}`);
  if (authorized.length === 0) print('  (none: concert keys authorize KEY|FILE)');
}

/** `concert keys authorize KEY|FILE`: lets a client's public key in (written to `authorized/NAME.key`). */
export async function authorizeKey(keyOrFile: string, o: KeysCliOptions = {}, print = console.log): Promise<string> {
  const dir = join(keysDir(o), 'authorized');
  let key = keyOrFile.trim();
  let name = o.name;
  if (!isZ85Key(key)) {
    if (!existsSync(keyOrFile))
      throw new OptionError(`'${keyOrFile}' is neither a 40-character Z85 public key nor a key file`);
    key = (await readFile(keyOrFile, 'utf8')).trim();
    if (!isZ85Key(key)) throw new OptionError(`${keyOrFile} does not hold a 40-character Z85 public key`);
    if (keyOrFile.endsWith('.key_secret')) throw new OptionError(`${keyOrFile} is a secret key; give the .key file`);
    name ??= basename(keyOrFile).replace(/\.key$/, '');
  }
  name = checkKeyName(name ?? `client-${key.slice(0, 8).replace(/[^A-Za-z0-9]/g, '_')}`);
  const existing = (await readKeys(dir)).find((k) => k.key === key);
  if (existing) {
    print(`${key} is already authorized as ${existing.name}`);
    return existing.name;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${name}.key`), `${key}\n`, { mode: 0o644 });
  print(`authorized ${name} (${key}); running servers re-read ${dir} by themselves`);
  return name;
}

/** `concert keys revoke NAME|KEY`: removes a client's key; running servers drop its connections. */
export async function revokeKey(nameOrKey: string, o: KeysCliOptions = {}, print = console.log): Promise<void> {
  const dir = join(keysDir(o), 'authorized');
  const keys = await readKeys(dir);
  const match = keys.filter((k) => k.name === nameOrKey || k.key === nameOrKey);
  if (match.length === 0)
    throw new OptionError(
      `no authorized key '${nameOrKey}' in ${dir} (authorized: ${keys.map((k) => k.name).join(', ') || 'none'})`,
    );
  for (const k of match) {
    await unlink(join(dir, `${k.name}.key`));
    print(`revoked ${k.name} (${k.key})`);
  }
}

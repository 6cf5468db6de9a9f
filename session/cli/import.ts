/**
 * `concert import PATH|URL [--force]`: copies a session file (`.ts`), or every `.ts` file of a zip
 * made by `concert export`, into the store. http(s) URLs are downloaded with `fetch`.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkName, sessionPath, SessionError, writeSession } from '../store.js';
import { unzip } from '../zip.js';
import { checkNotRunning } from './mv.js';
import { errorMessage } from '../../core/index.js';

async function fetchBytes(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new SessionError(`cannot download ${url}: ${errorMessage(error)}`, { cause: error });
  }
  if (!response.ok) throw new SessionError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Imports the session(s) at `source`. */
export async function importSession(source: string, options: { force?: boolean } = {}): Promise<void> {
  const isUrl = /^https?:\/\//i.test(source);
  let data: Buffer;
  let file: string;
  if (isUrl) {
    data = await fetchBytes(source);
    file = basename(new URL(source).pathname);
  } else {
    if (!existsSync(source)) throw new SessionError(`there is no file ${source}`);
    data = readFileSync(source);
    file = basename(source);
  }
  const isZip = data.length >= 4 && data.readUInt32LE(0) === 0x04034b50;
  const files = isZip
    ? unzip(data)
        .filter((e) => e.name.endsWith('.ts'))
        .map((e) => ({ name: basename(e.name, '.ts'), data: e.data }))
    : [{ name: file.replace(/\.ts$/, ''), data }];
  if (!isZip && !file.endsWith('.ts'))
    throw new SessionError(`${source} is neither a session file (.ts) nor a zip archive`);
  if (files.length === 0) throw new SessionError(`${source} holds no session files (.ts)`);
  const names = files.map((f) => checkName(f.name));
  const taken = names.filter((n) => existsSync(sessionPath(n)));
  if (taken.length && !options.force)
    throw new SessionError(`session ${taken.map((n) => `'${n}'`).join(', ')} already exists; use --force to overwrite`);
  for (const n of taken) checkNotRunning(n);
  files.forEach((f, i) => {
    const path = writeSession(names[i]!, f.data.toString('utf8'));
    process.stdout.write(`Imported ${names[i]} (${path})\n`);
  });
}

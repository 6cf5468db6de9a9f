/**
 * CURVE encryption and authentication for every transport socket (ZMQ_CURVE_*).
 *
 * The side that acts as CURVE server (usually the side that binds) needs its secret key; the
 * clients need the server's public key and a key pair of their own. Key files are plain Z85 text
 * in one directory: `<name>.key` (public) and `<name>.key_secret` (secret, mode 0600), e.g.
 * `server.key`, `server.key_secret`, `client.key`, `client.key_secret`.
 *
 * Without a ZAP handler, a CURVE server accepts every client that knows its public key: the
 * traffic is encrypted and only holders of `server.key` can connect.
 * @example
 * ```ts
 * await ensureKeyPairs('/etc/concert/keys');
 * const server = await curveServerOptions('/etc/concert/keys');
 * const sender = await ZmqSender.create({ mode: 'push', bind: tcpEndpoint(5555), curve: server });
 * ```
 * @module
 */
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'zeromq';
import { zeromq } from './zeromq.js';
import { errorMessage } from '../../core/errors.js';
import { zwhere } from '../../core/options.js';
import { TransportError } from './errors.js';
import type { AllowList } from './zap.js';

/** A CURVE key pair, both keys as 40-character Z85 strings. */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** Options of the CURVE server side (`ZMQ_CURVE_SERVER`, `ZMQ_CURVE_SECRETKEY`). */
export interface CurveServerOptions {
  curveServer: true;
  curveSecretKey: string;
  /** Accept only the clients whose public key is in this list (ZAP, `ZMQ_ZAP_DOMAIN`); without it, every client that knows the server key. */
  allow?: AllowList;
}

/** Options of a CURVE client (`ZMQ_CURVE_SERVERKEY`, `ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SECRETKEY`). */
export interface CurveClientOptions {
  curveServerKey: string;
  curvePublicKey: string;
  curveSecretKey: string;
}

/** CURVE options of one socket: server or client side. */
export type CurveOptions = CurveServerOptions | CurveClientOptions;

/** The schema of a `curve` option: CURVE server or client options (see {@link CurveOptions}). */
export const zcurve = zwhere(
  'CURVE options ({ secretKey, publicKey } and, for a client, serverKey)',
  (v): v is CurveOptions => typeof v === 'object' && v !== null && !Array.isArray(v),
);

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Generates a new key pair (zeromq's `curveKeyPair()`). */
export function generateKeyPair(): CurveKeyPair {
  return zeromq().curveKeyPair();
}

/** Writes `<name>.key` and `<name>.key_secret` (mode 0600) into `dir`, creating `dir` if needed. */
export async function writeKeyPair(dir: string, name: string, pair: CurveKeyPair): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${name}.key`), `${pair.publicKey}\n`, { mode: 0o644 });
  await writeFile(join(dir, `${name}.key_secret`), `${pair.secretKey}\n`, { mode: 0o600 });
}

/**
 * Reads one key file (`<name>.key` or, with `secret`, `<name>.key_secret`).
 * @throws TransportError if the file is missing or does not hold a 40-character Z85 key.
 */
export async function readKey(dir: string, name: string, secret = false): Promise<string> {
  const file = join(dir, secret ? `${name}.key_secret` : `${name}.key`);
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new TransportError(`cannot read CURVE key ${file}: ${errorMessage(error)}`, undefined, { cause: error });
  }
  if (!Z85_KEY.test(text)) throw new TransportError(`${file} does not hold a 40-character Z85 CURVE key`);
  return text;
}

/** Reads `<name>.key` and `<name>.key_secret` from `dir`. @throws TransportError */
export async function readKeyPair(dir: string, name: string): Promise<CurveKeyPair> {
  return { publicKey: await readKey(dir, name), secretKey: await readKey(dir, name, true) };
}

/** Creates the `server` and `client` key pairs in `dir` unless they exist; returns both. */
export async function ensureKeyPairs(dir: string): Promise<{ server: CurveKeyPair; client: CurveKeyPair }> {
  const out: Partial<Record<'server' | 'client', CurveKeyPair>> = {};
  for (const name of ['server', 'client'] as const) {
    const exists = await access(join(dir, `${name}.key_secret`)).then(
      () => true,
      () => false,
    );
    if (!exists) await writeKeyPair(dir, name, generateKeyPair());
    out[name] = await readKeyPair(dir, name);
  }
  return out as { server: CurveKeyPair; client: CurveKeyPair };
}

/** Server-side options from `dir/<name>.key_secret` (default name `server`). */
export async function curveServerOptions(dir: string, name = 'server'): Promise<CurveServerOptions> {
  return { curveServer: true, curveSecretKey: await readKey(dir, name, true) };
}

/** Client-side options from `dir/server.key` and `dir/client.key{,_secret}`. */
export async function curveClientOptions(
  dir: string,
  server = 'server',
  client = 'client',
): Promise<CurveClientOptions> {
  const pair = await readKeyPair(dir, client);
  return { curveServerKey: await readKey(dir, server), curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey };
}

/** Applies CURVE options to a socket before it binds or connects. @internal */
export function applyCurve(socket: Socket, curve: CurveOptions | undefined): void {
  if (!curve) return;
  if ('curveServer' in curve) {
    socket.curveServer = true;
    socket.curveSecretKey = curve.curveSecretKey;
    if (curve.allow) socket.zapDomain = curve.allow.domain;
  } else {
    socket.curveServerKey = curve.curveServerKey;
    socket.curvePublicKey = curve.curvePublicKey;
    socket.curveSecretKey = curve.curveSecretKey;
  }
}

/**
 * Stringified CORBA object references (`IOR:…` hex) with their IIOP profiles, and `corbaloc`
 * style references built from host, port and object key.
 * @module
 */
import { CdrError, CdrReader, CdrWriter } from './cdr.js';

/** An IIOP profile (`TAG_INTERNET_IOP`): where the object lives and its key. */
export interface IiopProfile {
  readonly major: number;
  readonly minor: number;
  readonly host: string;
  readonly port: number;
  readonly objectKey: Uint8Array;
}

/** A parsed IOR. */
export interface Ior {
  /** Repository id of the most derived interface, e.g. `IDL:Tango/Device_5:1.0`. */
  readonly typeId: string;
  /** IIOP profiles, in the order of the IOR. */
  readonly profiles: readonly IiopProfile[];
}

const TAG_INTERNET_IOP = 0;

/**
 * Parses a stringified IOR (`IOR:` followed by the hex of a CDR encapsulation).
 * @throws CdrError when the text is not a valid IOR.
 * @example
 * ```ts
 * const { profiles } = parseIor(iorText);
 * console.log(profiles[0]?.host, profiles[0]?.port);
 * ```
 */
export function parseIor(text: string): Ior {
  const t = text.trim();
  if (!/^IOR:/i.test(t)) throw new CdrError('an IOR must start with "IOR:"');
  const hex = t.slice(4);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new CdrError('IOR is not valid hex');
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (bytes.length < 8) throw new CdrError('IOR too short');
  if (bytes[0]! > 1) throw new CdrError(`bad IOR byte order ${bytes[0]}`);
  const r = new CdrReader(bytes, bytes[0] === 1, 1, 0);
  const typeId = r.string();
  const n = r.length(8);
  const profiles: IiopProfile[] = [];
  for (let i = 0; i < n; i++) {
    const tag = r.ulong();
    const data = r.octets();
    if (tag !== TAG_INTERNET_IOP) continue;
    if (data.length < 1 || data[0]! > 1) throw new CdrError('bad IIOP profile');
    const p = new CdrReader(data, data[0] === 1, 1, 0);
    const major = p.octet();
    const minor = p.octet();
    const host = p.string();
    const port = p.ushort();
    const objectKey = Uint8Array.from(p.octets());
    profiles.push({ major, minor, host, port, objectKey });
  }
  return { typeId, profiles };
}

/** Builds a stringified IOR with one IIOP 1.2 profile (the inverse of {@link parseIor}). */
export function stringifyIor(
  typeId: string,
  host: string,
  port: number,
  objectKey: Uint8Array,
  littleEndian = true,
): string {
  const w = new CdrWriter(littleEndian);
  w.octet(littleEndian ? 1 : 0)
    .string(typeId)
    .ulong(1)
    .ulong(TAG_INTERNET_IOP);
  w.encapsulation((p) => {
    p.octet(1).octet(2).string(host).ushort(port).octets(objectKey).ulong(0);
  });
  return `IOR:${Buffer.from(w.bytes()).toString('hex')}`;
}

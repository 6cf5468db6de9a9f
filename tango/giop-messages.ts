/**
 * GIOP 1.2 messages: the 12-byte header, and encoding and decoding of Request, Reply,
 * LocateRequest/LocateReply, CloseConnection and MessageError, for both sides of a connection.
 * @module
 */
import { CdrReader, CdrWriter } from './cdr.js';

/** GIOP message types. */
export enum MsgType {
  Request = 0,
  Reply = 1,
  CancelRequest = 2,
  LocateRequest = 3,
  LocateReply = 4,
  CloseConnection = 5,
  MessageError = 6,
  Fragment = 7,
}

/** GIOP reply status values. */
export enum ReplyStatus {
  NoException = 0,
  UserException = 1,
  SystemException = 2,
  LocationForward = 3,
  LocationForwardPerm = 4,
  NeedsAddressingMode = 5,
}

/** GIOP 1.2 LocateReply status values. */
export enum LocateStatus {
  UnknownObject = 0,
  ObjectHere = 1,
  ObjectForward = 2,
  ObjectForwardPerm = 3,
  LocSystemException = 4,
  LocNeedsAddressingMode = 5,
}

/** Size of a GIOP header. */
export const HEADER_SIZE = 12;
/** Flag bit of a little-endian message. */
export const FLAG_LITTLE_ENDIAN = 1;
/** Flag bit of a message with more fragments to come. */
export const FLAG_MORE_FRAGMENTS = 2;

/** True when `msg` starts with the `GIOP` magic. */
export function isGiop(msg: Uint8Array): boolean {
  return msg[0] === 0x47 && msg[1] === 0x49 && msg[2] === 0x4f && msg[3] === 0x50;
}

function header(w: CdrWriter, type: MsgType, minor = 2): void {
  w.octet(0x47).octet(0x49).octet(0x4f).octet(0x50).octet(1).octet(minor);
  w.octet(w.littleEndian ? FLAG_LITTLE_ENDIAN : 0)
    .octet(type)
    .ulong(0);
}

/** One writer reused for every message this process encodes (JavaScript runs one encoder at a time). */
const scratch = { le: new CdrWriter(true, 4096), be: new CdrWriter(false, 4096) };

/**
 * Encodes a whole message: the header, then what `fill` writes; the size is patched in and the
 * bytes are copied out of the shared scratch writer.
 */
function message(type: MsgType, littleEndian: boolean, fill: (w: CdrWriter) => void, minor = 2): Uint8Array {
  const w = littleEndian ? scratch.le : scratch.be;
  w.reset();
  try {
    header(w, type, minor);
    fill(w);
    w.patchUlong(8, w.length - HEADER_SIZE);
    return Buffer.from(w.bytes());
  } finally {
    w.reset();
  }
}

/** What writes a message body: a function, or bytes encoded before (8-aligned at their start). */
export type Body = ((w: CdrWriter) => void) | Uint8Array;

/** Writes a body aligned on 8 bytes, or nothing (not even the padding) when `body` writes nothing. */
function alignedBody(w: CdrWriter, body: Body | undefined): void {
  if (!body) return;
  const before = w.length;
  w.align(8);
  const start = w.length;
  if (typeof body === 'function') body(w);
  else w.raw(body);
  if (w.length === start) w.truncate(before);
}

/**
 * Encodes the body written by `fill` on its own, to be sent later as a {@link Body} (CDR
 * alignment is kept because request and reply bodies start on an 8-byte boundary).
 */
export function encodeBody(fill: (w: CdrWriter) => void, littleEndian = true): Uint8Array {
  const w = new CdrWriter(littleEndian, 256);
  fill(w);
  return Uint8Array.from(w.bytes());
}

/**
 * Encodes a GIOP 1.2 Request. `args` writes the body (aligned on 8 bytes when not empty);
 * `responseExpected: false` makes it a oneway call.
 * @internal
 */
export function encodeRequest(
  requestId: number,
  objectKey: Uint8Array,
  operation: string,
  args?: Body,
  responseExpected = true,
): Uint8Array {
  return message(MsgType.Request, true, (w) => {
    w.ulong(requestId)
      .octet(responseExpected ? 3 : 0)
      .octet(0)
      .octet(0)
      .octet(0); // response flags, reserved
    w.short(0).octets(objectKey); // TargetAddress: KeyAddr
    w.string(operation).ulong(0); // no service contexts
    alignedBody(w, args);
  });
}

/**
 * A request encoded once and sent many times (e.g. the same attribute read again and again): only
 * the request id changes from one call to the next.
 */
export class PreparedRequest {
  readonly #template: Uint8Array;
  constructor(
    readonly objectKey: Uint8Array,
    readonly operation: string,
    args?: Body,
  ) {
    this.#template = Uint8Array.from(encodeRequest(0, objectKey, operation, args));
  }

  /** The message for request `id` (a fresh copy). */
  message(id: number): Uint8Array {
    const t = this.#template;
    const msg = Buffer.allocUnsafe(t.length);
    msg.set(t);
    msg.writeUInt32LE(id, HEADER_SIZE);
    return msg;
  }
}

/**
 * Encodes a GIOP 1.2 Reply.
 * @internal
 */
export function encodeReply(
  requestId: number,
  status: ReplyStatus,
  body?: Body,
  littleEndian = true,
  minor = 2,
): Uint8Array {
  return message(
    MsgType.Reply,
    littleEndian,
    (w) => {
      if (minor >= 2) {
        w.ulong(requestId).ulong(status).ulong(0);
        alignedBody(w, body);
        return;
      }
      // GIOP 1.0 and 1.1: service contexts first, and the body follows at once.
      w.ulong(0).ulong(requestId).ulong(status);
      if (typeof body === 'function') body(w);
      else if (body) w.raw(body);
    },
    minor,
  );
}

/** Encodes a GIOP LocateReply without a body (1.2, or 1.0/1.1 with `minor`). */
export function encodeLocateReply(requestId: number, status: LocateStatus, littleEndian = true, minor = 2): Uint8Array {
  return message(MsgType.LocateReply, littleEndian, (w) => w.ulong(requestId).ulong(status), minor);
}

/** A header-only message (CloseConnection, MessageError). */
export function encodeHeaderOnly(type: MsgType.CloseConnection | MsgType.MessageError): Uint8Array {
  return message(type, true, () => undefined);
}

/** The reply body of a CORBA system exception (`IDL:omg.org/CORBA/NAME:1.0`, minor, completed). */
export function writeSystemException(w: CdrWriter, name: string, minor = 0, completed: 0 | 1 | 2 = 1): void {
  w.string(`IDL:omg.org/CORBA/${name}:1.0`).ulong(minor).ulong(completed);
}

/** A decoded GIOP Request (or LocateRequest, whose operation is empty). */
export interface RequestHeader {
  /** GIOP minor version of the request (replies use the same). */
  readonly minor: number;
  readonly requestId: number;
  readonly responseExpected: boolean;
  /** Object key of a KeyAddr target (empty for other addressing modes). */
  readonly objectKey: Uint8Array;
  /** Addressing disposition: 0 KeyAddr, 1 ProfileAddr, 2 ReferenceAddr. */
  readonly addressing: number;
  readonly operation: string;
  /** Reader positioned at the body. */
  readonly body: CdrReader;
}

function skipServiceContexts(r: CdrReader): void {
  const contexts = r.length(8);
  for (let i = 0; i < contexts; i++) {
    r.ulong();
    r.octets();
  }
}

/**
 * Decodes the header of a GIOP 1.0, 1.1 or 1.2 Request or LocateRequest message (12-byte GIOP
 * header included). omniORB clients speak 1.0 to `corbaloc` addresses, as Tango's `#dbase=no`
 * ones are.
 * @throws CdrError when the message is malformed.
 */
export function decodeRequest(msg: Uint8Array): RequestHeader {
  const r = new CdrReader(msg, (msg[6]! & FLAG_LITTLE_ENDIAN) === 1, HEADER_SIZE);
  const minor = msg[5]!;
  const locate = msg[7] === MsgType.LocateRequest;
  if (minor < 2) {
    if (locate) {
      const requestId = r.ulong();
      return { minor, requestId, responseExpected: true, objectKey: r.octets(), addressing: 0, operation: '', body: r };
    }
    skipServiceContexts(r);
    const requestId = r.ulong();
    const responseExpected = r.boolean();
    if (minor === 1) r.raw(3);
    const objectKey = r.octets();
    const operation = r.string();
    r.octets(); // requesting_principal
    return { minor, requestId, responseExpected, objectKey, addressing: 0, operation, body: r };
  }
  const requestId = r.ulong();
  let responseExpected = true;
  if (!locate) {
    responseExpected = (r.octet() & 1) === 1;
    r.raw(3);
  }
  const addressing = r.short();
  let objectKey: Uint8Array = new Uint8Array(0);
  if (addressing === 0) objectKey = r.octets();
  else if (addressing === 1) {
    r.ulong(); // profile tag
    r.octets();
  } else if (addressing === 2) {
    r.ulong(); // selected profile index
    r.string();
    skipServiceContexts(r);
  } else throw new RangeError(`bad GIOP addressing disposition ${addressing}`);
  let operation = '';
  if (!locate) {
    operation = r.string();
    skipServiceContexts(r);
    if (r.remaining > 0) r.align(8);
  }
  return { minor, requestId, responseExpected, objectKey, addressing, operation, body: r };
}

/** A decoded GIOP 1.2 Reply header. */
export interface ReplyHeader {
  readonly requestId: number;
  readonly status: number;
  /** Reader positioned at the body. */
  readonly body: CdrReader;
}

/** Decodes the header of a GIOP 1.2 Reply message. */
export function decodeReply(msg: Uint8Array): ReplyHeader {
  const r = new CdrReader(msg, (msg[6]! & FLAG_LITTLE_ENDIAN) === 1, HEADER_SIZE);
  const requestId = r.ulong();
  const status = r.ulong();
  const contexts = r.length(8);
  for (let i = 0; i < contexts; i++) {
    r.ulong();
    r.octets();
  }
  if (r.remaining > 0) r.align(8);
  return { requestId, status, body: r };
}

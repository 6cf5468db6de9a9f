/**
 * Cuts a GIOP byte stream into whole messages, reassembling GIOP 1.2 fragments, with as few
 * copies as the stream allows: large message bodies are read by the kernel straight into the
 * buffer of the message they belong to ({@link GiopFramer.nextBuffer}, for `net.Socket`'s
 * `onread`), fragments straight behind the part before them, and small messages come from
 * Node's buffer pool instead of an allocation each.
 * @module
 */
import { keepFreedMemory } from '../core/reclaim.js';
import { FLAG_LITTLE_ENDIAN, FLAG_MORE_FRAGMENTS, HEADER_SIZE, MsgType, isGiop } from './giop-messages.js';

/** Largest GIOP message accepted (bytes, fragments included); larger sizes are treated as garbage. */
export const MAX_MESSAGE_SIZE = 512 * 1024 * 1024;

/**
 * Size of the buffer reads go into when no large body is being received: room for a hundred
 * small replies, and at most this much of a large message is copied before reads go direct.
 */
const READ_BUFFER = 32 * 1024;
/** Remaining body size from which reads go straight into the message buffer. */
const DIRECT_READ_MIN = 16 * 1024;
/** Largest buffer allocated for a message before its data arrives (guards against bogus sizes). */
const INITIAL_ALLOCATION = 8 * 1024 * 1024;
/** Spare bytes allocated behind a message with more fragments to come. */
const FRAGMENT_SLACK = 64 * 1024;
/** Messages up to this size come from Node's buffer pool (its slices are 8-aligned, as CDR needs). */
const POOLED_MESSAGE_MAX = Buffer.poolSize >>> 1;
/** Fragmented messages reassembled at once on one connection. */
const MAX_OPEN_FRAGMENTED = 64;

/** The CDR `ulong` at `at` (no bounds check: callers know the bytes are there). */
export function readUlong(b: Uint8Array, at: number, littleEndian: boolean): number {
  return littleEndian
    ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Uninitialised memory (every byte handed out is written before it is read). */
function allocate(n: number): Uint8Array {
  if (n >= LARGE_ALLOCATION) keepFreedMemory();
  return Buffer.allocUnsafeSlow(n);
}

/** Allocations from which glibc's malloc would use mmap (its default M_MMAP_THRESHOLD). */
const LARGE_ALLOCATION = 128 * 1024;

/** A message being received: its buffer, the bytes filled and the size it will have. */
interface Target {
  buf: Uint8Array;
  filled: number;
  end: number;
}

/**
 * One connection's GIOP reader. Feed it with {@link push} (any chunks), or hand
 * {@link nextBuffer}/{@link consumed} to `net.connect({ onread })` so large bodies skip the copy.
 * Whole messages go to `onMessage` (fragmented ones once complete, with the more-fragments flag
 * cleared); malformed input goes to `onError` once, after which the framer ignores everything.
 */
export class GiopFramer {
  readonly #onMessage: (msg: Uint8Array) => void;
  readonly #onError: (why: string) => void;
  readonly #maxMessageSize: number;
  #read: Uint8Array | undefined;
  #head = new Uint8Array(16);
  #headLen = 0;
  #headNeed = HEADER_SIZE;
  /** The body being received (undefined while a header is being read). */
  #target: Target | undefined;
  /** Bytes of an unknown fragment still to skip. */
  #skip = 0;
  /** Whether the body being received is a fragment, and of which request. */
  #fragmentOf: number | undefined;
  /** Set when the current target, once complete, has more fragments to come. */
  #more = false;
  #direct: Uint8Array | undefined;
  #fragments = new Map<number, Target>();
  #failed = false;

  constructor(
    onMessage: (msg: Uint8Array) => void,
    onError: (why: string) => void,
    { maxMessageSize = MAX_MESSAGE_SIZE } = {},
  ) {
    this.#onMessage = onMessage;
    this.#onError = onError;
    this.#maxMessageSize = maxMessageSize;
  }

  /** True after malformed input. */
  get failed(): boolean {
    return this.#failed;
  }

  /** The buffer the next socket read should fill: the rest of a large body, or the read buffer. */
  nextBuffer(): Uint8Array {
    const t = this.#target;
    if (t && !this.#failed && t.end - t.filled >= DIRECT_READ_MIN) {
      if (t.filled === t.buf.byteLength) this.#grow(t, t.filled + 1);
      this.#direct = new Uint8Array(
        t.buf.buffer,
        t.buf.byteOffset + t.filled,
        Math.min(t.end, t.buf.byteLength) - t.filled,
      );
      return this.#direct;
    }
    this.#direct = undefined;
    return (this.#read ??= allocate(READ_BUFFER));
  }

  /** Takes the `n` bytes a socket read put into `buf` (the buffer {@link nextBuffer} returned). */
  consumed(n: number, buf: Uint8Array): void {
    const t = this.#target;
    if (buf === this.#direct && t) {
      this.#direct = undefined;
      t.filled += n;
      if (t.filled === t.end) this.#finishBody();
      return;
    }
    this.push(buf, n);
  }

  /** Consumes the first `length` received bytes of `data` (copied where they have to be kept). */
  push(data: Uint8Array, length = data.length): void {
    let at = 0;
    while (at < length && !this.#failed) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, length - at);
        this.#skip -= k;
        at += k;
        continue;
      }
      const t = this.#target;
      if (!t) {
        const head = this.#head;
        const need = this.#headNeed;
        let h = this.#headLen;
        while (h < need && at < length) head[h++] = data[at++]!;
        this.#headLen = h;
        if (h === need) this.#onHeader();
        continue;
      }
      const k = Math.min(t.end - t.filled, length - at);
      if (t.filled + k > t.buf.byteLength) this.#grow(t, t.filled + k);
      t.buf.set(at === 0 && k === data.length ? data : data.subarray(at, at + k), t.filled);
      t.filled += k;
      at += k;
      if (t.filled === t.end) this.#finishBody();
    }
  }

  #fail(why: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#target = undefined;
    this.#fragments.clear();
    this.#onError(why);
  }

  /** A header (plus, for fragments, the request id) is complete: find where its body goes. */
  #onHeader(): void {
    const head = this.#head;
    if (this.#headNeed === HEADER_SIZE) {
      if (!isGiop(head)) return this.#fail('not a GIOP message');
      if (head[4] !== 1 || head[5]! > 2) return this.#fail(`unsupported GIOP version ${head[4]}.${head[5]}`);
      if (head[7]! > MsgType.Fragment) return this.#fail(`unknown GIOP message type ${head[7]}`);
    }
    const le = (head[6]! & FLAG_LITTLE_ENDIAN) === 1;
    const size = readUlong(head, 8, le);
    if (size > this.#maxMessageSize) return this.#fail(`GIOP message of ${size} bytes is too large`);
    const type = head[7]!;
    const more = (head[6]! & FLAG_MORE_FRAGMENTS) !== 0;
    if (type === MsgType.Fragment) {
      if (size < 4) return this.#fail('GIOP fragment without a request id');
      if (this.#headNeed === HEADER_SIZE) {
        this.#headNeed = 16; // read the request id before deciding where the data goes
        return;
      }
      this.#headNeed = HEADER_SIZE;
      this.#headLen = 0;
      const id = readUlong(head, 12, le);
      const f = this.#fragments.get(id);
      if (!f) {
        this.#skip = size - 4; // a fragment of a message we do not track
        return;
      }
      if (f.filled + size - 4 > this.#maxMessageSize) return this.#fail('fragmented GIOP message is too large');
      f.end = f.filled + size - 4;
      this.#fragmentOf = id;
      this.#more = more;
      this.#target = f;
      if (f.filled === f.end) this.#finishBody();
      return;
    }
    this.#headLen = 0;
    const total = HEADER_SIZE + size;
    let buf: Uint8Array;
    if (!more && total <= POOLED_MESSAGE_MAX) buf = Buffer.allocUnsafe(total);
    else {
      buf = allocate(Math.min(total, INITIAL_ALLOCATION) + (more ? FRAGMENT_SLACK : 0));
    }
    buf.set(head.subarray(0, HEADER_SIZE));
    this.#fragmentOf = undefined;
    this.#more = more && (type === MsgType.Request || type === MsgType.Reply);
    this.#target = { buf, filled: HEADER_SIZE, end: total };
    if (total === HEADER_SIZE) this.#finishBody();
  }

  #grow(t: Target, need: number): void {
    const cap = Math.min(
      Math.max(need, 2 * t.buf.byteLength),
      Math.max(need, t.end + (this.#more ? FRAGMENT_SLACK : 0)),
    );
    const next = allocate(cap);
    next.set(t.buf.subarray(0, t.filled));
    t.buf = next;
  }

  #finishBody(): void {
    const t = this.#target!;
    this.#target = undefined;
    const fragmentOf = this.#fragmentOf;
    if (this.#more) {
      if (fragmentOf === undefined) {
        if (t.end < HEADER_SIZE + 4) return this.#fail('fragmented GIOP message without a request id');
        const id = readUlong(t.buf, HEADER_SIZE, (t.buf[6]! & FLAG_LITTLE_ENDIAN) === 1);
        if (this.#fragments.size >= MAX_OPEN_FRAGMENTED && !this.#fragments.has(id))
          return this.#fail(`more than ${MAX_OPEN_FRAGMENTED} fragmented GIOP messages at once`);
        this.#fragments.set(id, t);
      }
      return; // wait for the next fragment
    }
    if (fragmentOf !== undefined) this.#fragments.delete(fragmentOf);
    const msg = t.buf.subarray(0, t.end);
    msg[6] = msg[6]! & ~FLAG_MORE_FRAGMENTS;
    this.#onMessage(msg);
  }
}

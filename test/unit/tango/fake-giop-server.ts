/**
 * Test fixture: a TCP server that parses GIOP 1.2 requests and answers with whatever bytes a
 * handler returns (valid, fragmented, garbled or truncated replies).
 * @module
 */
import net from 'node:net';
import { CdrReader } from '../../../tango/cdr.js';

/** A request as the fake server saw it. */
export interface FakeRequest {
  readonly id: number;
  readonly operation: string;
  readonly objectKey: string;
  /** Reader positioned at the request body. */
  readonly body: CdrReader;
}

/** What to do with a request: bytes to send (in one or more writes), then maybe close. */
export interface FakeAnswer {
  readonly chunks: readonly Uint8Array[];
  readonly close?: boolean;
  readonly delayMs?: number;
}

/** Handler: returns an answer, or undefined to stay silent. */
export type FakeHandler = (req: FakeRequest, socket: net.Socket) => FakeAnswer | undefined;

/** Parses one GIOP 1.2 request message. */
function parseRequest(msg: Uint8Array): FakeRequest {
  const le = (msg[6]! & 1) === 1;
  const r = new CdrReader(msg, le, 12);
  const id = r.ulong();
  r.octet();
  r.raw(3);
  r.short();
  const objectKey = Buffer.from(r.octets()).toString('latin1');
  const operation = r.string();
  const n = r.ulong();
  for (let i = 0; i < n; i++) {
    r.ulong();
    r.octets();
  }
  if (r.remaining > 0) r.align(8);
  return { id, operation, objectKey, body: r };
}

/** A fake GIOP server on a free loopback port. */
export class FakeGiopServer {
  handler: FakeHandler;
  readonly sockets = new Set<net.Socket>();
  #server: net.Server;
  port = 0;

  constructor(handler: FakeHandler) {
    this.handler = handler;
    this.#server = net.createServer((s) => this.#onConnection(s));
  }

  /** Starts listening. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  /** Closes the server and every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 12) {
        const size = buf.readUInt32LE(8);
        if (buf.length < 12 + size) return;
        const msg = Uint8Array.from(buf.subarray(0, 12 + size));
        buf = buf.subarray(12 + size);
        const answer = this.handler(parseRequest(msg), s);
        if (!answer) continue;
        const send = (): void => {
          if (s.destroyed) return;
          for (const c of answer.chunks) s.write(c);
          if (answer.close) s.end();
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      }
    });
  }
}

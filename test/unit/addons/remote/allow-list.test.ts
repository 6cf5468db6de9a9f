import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../../../core/index.js';
import { spawnServer, type ServerProcess } from '../../../../addons/remote/spawn.js';
import {
  ControlClient,
  curveClientOptions,
  ensureKeyPairs,
  generateKeyPair,
  RefusedError,
  TransportError,
  type CurveClientOptions,
} from '../../../../transport/zmq/index.js';
import { authorizeKey, revokeKey } from '../../../../session/cli/keys.js';

const quiet = () => undefined;

describe('remote servers accept only known clients (ZAP allow-list, every server kind)', function () {
  this.timeout(120_000);
  let keys: string;
  let root: string;
  before(async () => {
    keys = await mkdtemp(join(tmpdir(), 'concert-allow-'));
    root = await mkdtemp(join(tmpdir(), 'concert-allow-root-'));
    await ensureKeyPairs(keys);
  });
  after(async () => {
    await rm(keys, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  for (const kind of ['writer', 'live', 'benchmarker', 'camera', 'reco'] as const) {
    describe(`concert serve ${kind} --curve-keys`, () => {
      let server: ServerProcess;
      const clients: ControlClient[] = [];
      before(async () => {
        server = await spawnServer(kind, { curveKeys: keys, root, width: 16, height: 8, simulate: false });
      });
      after(async () => {
        for (const c of clients.splice(0)) c.close();
        await server.stop();
        if (process.env.DEBUG_ALLOW) console.log(server.output());
      });

      async function client(curve: CurveClientOptions): Promise<ControlClient> {
        const c = await ControlClient.create({ connect: server.endpoint, timeoutMs: 8000, curve });
        clients.push(c);
        return c;
      }

      it("the key directory's own client is served; an unlisted client is refused with a clear error, not a time-out", async () => {
        const own = await client(await curveClientOptions(keys));
        assert.ok(await retry(() => own.request('status', undefined, { timeoutMs: 4000 })));
        const stranger = generateKeyPair();
        const other = await client({
          curveServerKey: (await curveClientOptions(keys)).curveServerKey,
          curvePublicKey: stranger.publicKey,
          curveSecretKey: stranger.secretKey,
        });
        const t0 = performance.now();
        await assert.rejects(
          other.request('status'),
          (e: Error) =>
            e instanceof RefusedError && e.message.includes(server.endpoint) && e.message.includes(stranger.publicKey),
        );
        assert.ok(performance.now() - t0 < 7000, 'refused before the time-out');
        // Authorized with `concert keys authorize`, the same key gets in without a restart of the server.
        await authorizeKey(stranger.publicKey, { dir: keys, name: `stranger-${kind}` }, quiet);
        await retry(async () => {
          const again = await client({
            curveServerKey: (await curveClientOptions(keys)).curveServerKey,
            curvePublicKey: stranger.publicKey,
            curveSecretKey: stranger.secretKey,
          });
          return again.request('status', undefined, { timeoutMs: 2000 });
        });
      });

      it('a key revoked while connected is cut off; the others go on', async () => {
        const pair = generateKeyPair();
        await authorizeKey(pair.publicKey, { dir: keys, name: `revoked-${kind}` }, quiet);
        const serverKey = (await curveClientOptions(keys)).curveServerKey;
        // A client refused once is not reconnected by ZeroMQ: connect anew until the server has re-read its keys.
        const c = await retry(async () => {
          const attempt = await client({
            curveServerKey: serverKey,
            curvePublicKey: pair.publicKey,
            curveSecretKey: pair.secretKey,
          });
          await attempt.request('status', undefined, { timeoutMs: 2000 });
          return attempt;
        });
        const own = await client(await curveClientOptions(keys));
        assert.ok(await retry(() => own.request('status', undefined, { timeoutMs: 4000 })));
        await revokeKey(`revoked-${kind}`, { dir: keys }, quiet);
        // Cut off: refused at its next handshake (RefusedError), or, when ZeroMQ has not tried a
        // handshake again yet, not connected at all (TransportError); never served again.
        await retry(() =>
          assert.rejects(
            c.request('status', undefined, { timeoutMs: 3000 }),
            (e: unknown) => e instanceof RefusedError || e instanceof TransportError,
          ),
        );
        await assert.rejects(c.request('status', undefined, { timeoutMs: 1000 }));
        // The revocation rebinds the server's endpoint: a request in flight then is lost, so ask again.
        assert.ok(
          await retry(() => own.request('status', undefined, { timeoutMs: 3000 }), 40_000),
          'the authorized client reconnects and goes on',
        );
      });
    });
  }
});

/** Calls `fn` until it resolves (the server re-reads its directory within a moment). */
async function retry<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() - t0 > ms) throw error;
      await sleep(100);
    }
  }
}

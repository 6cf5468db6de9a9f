/**
 * `concert broadcast --from ENDPOINT --to push:ENDPOINT --to pub:ENDPOINT …`: forwards one
 * incoming stream to several destinations until SIGTERM/SIGINT.
 * @module
 */
import { OptionError } from '../../core/index.js';
import { Broadcaster, parseTarget } from '../../addons/remote/broadcast.js';
import { curveClientOptions, curveServerOptions, ensureKeyPairs } from '../../transport/zmq/index.js';

/** Runs a broadcaster. */
export async function broadcast(o: {
  from?: string;
  to?: string[];
  input?: string;
  curveKeys?: string;
}): Promise<void> {
  if (!o.from) throw new OptionError('broadcast needs --from tcp://host:port (the sender to connect to)');
  if (!o.to?.length)
    throw new OptionError('broadcast needs at least one --to push:tcp://127.0.0.1:PORT or pub:tcp://127.0.0.1:PORT');
  if (o.input !== undefined && o.input !== 'pull' && o.input !== 'sub')
    throw new OptionError(`--input must be pull or sub, got '${o.input}'`);
  let curve;
  if (o.curveKeys) {
    await ensureKeyPairs(o.curveKeys);
    curve = { server: await curveServerOptions(o.curveKeys), client: await curveClientOptions(o.curveKeys) };
  }
  const b = await Broadcaster.create({
    from: o.from,
    to: o.to.map(parseTarget),
    input: o.input as 'pull' | 'sub' | undefined,
    curve,
  });
  console.log(`broadcasting ${o.from} to ${b.endpoints.join(', ')}`);
  await new Promise<void>((resolve) => {
    const stop = () => void b.stop().then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

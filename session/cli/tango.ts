/**
 * `concert tango [KIND] [--port N] [--device concert/tango/KIND] [--bind 127.0.0.1] [--root DIR]`:
 * without KIND, lists Concert's Tango servers; with it, runs that one until SIGTERM/SIGINT (or a
 * client's Kill). Exported to the Tango database of `TANGO_HOST` when it is set, unless
 * `--no-database`.
 * @module
 */
import { isLogLevel, OptionError, type LogLevel } from '../../core/index.js';
import { TANGO_SERVERS, serveTangoForever } from '../../addons/tango/server/serve.js';

/** Options as commander gives them. */
export interface TangoCliOptions {
  port?: string;
  device?: string;
  bind?: string;
  root?: string;
  loglevel?: string;
  /** `--no-database`: stay without a database even when TANGO_HOST is set. */
  database?: boolean;
  idleTimeout?: string;
  /** `--allow-address a,b`: event subscribers only from these addresses. */
  allowAddress?: string;
}

/** Lists the servers, or runs one. */
export async function tango(kind: string | undefined, o: TangoCliOptions): Promise<void> {
  if (!kind) {
    console.log('Tango servers (concert tango KIND [--port 1234] [--device concert/tango/KIND]):');
    for (const [k, d] of Object.entries(TANGO_SERVERS)) console.log(`  ${k.padEnd(12)} ${d}`);
    return;
  }
  if (!(kind in TANGO_SERVERS))
    throw new OptionError(`unknown Tango server '${kind}' (available: ${Object.keys(TANGO_SERVERS).join(', ')})`);
  if (o.loglevel !== undefined && !isLogLevel(o.loglevel))
    throw new OptionError(`--loglevel must be debug, info, warn or error, got '${o.loglevel}'`);
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new OptionError(`--port must be a whole number in [0, 65535], got '${o.port}'`);
  if (o.device !== undefined && !/^[^/\s#]+\/[^/\s#]+\/[^/\s#]+$/.test(o.device))
    throw new OptionError(`--device must be domain/family/member, got '${o.device}'`);
  const idle = o.idleTimeout === undefined ? undefined : Number(o.idleTimeout);
  if (idle !== undefined && !(idle > 0 && idle <= 2 ** 31 - 1))
    throw new OptionError(`--idle-timeout must be a number of ms in (0, ${2 ** 31 - 1}], got '${o.idleTimeout}'`);
  const tangoHost = o.database === false ? undefined : process.env['TANGO_HOST'] || undefined;
  await serveTangoForever(kind, {
    port,
    device: o.device,
    bind: o.bind,
    root: o.root,
    tangoHost,
    idleTimeoutMs: idle,
    allowAddresses: o.allowAddress?.split(',').map((a) => a.trim()),
    loglevel: o.loglevel as LogLevel | undefined,
  });
}

/**
 * A Tango server and a DeviceProxy to it for one `describe` block: started in `before` (the
 * suite is skipped, with the reason printed, when the server cannot run here) and stopped in
 * `after`.
 */
import { DeviceProxy } from '../../../tango/index.js';

/** What the fixture hands the tests. */
export interface DeviceFixture<S> {
  readonly server: S;
  readonly dev: DeviceProxy;
}

/** Registers the hooks; read `fixture.dev` / `fixture.server` inside the tests. */
export function useTangoDevice<S extends { url: string; stop(): Promise<unknown> }>(
  available: () => boolean,
  start: () => Promise<S>,
): DeviceFixture<S> {
  let server: S | undefined;
  let dev: DeviceProxy | undefined;
  before(async function () {
    if (!available()) this.skip();
    server = await start();
    dev = await DeviceProxy.create(server.url);
  });
  after(async () => {
    await dev?.close();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get dev() {
      return dev!;
    },
  };
}

/**
 * A remote data path in real processes for tests, the fault matrix and the soak: a camera
 * server, a writer server (and optionally live, benchmarker and reco servers), a session-side
 * experiment with a remote camera, a `RemoteDirectoryWalker` and remote addons. Servers can be
 * killed and restarted on the same port; `verifyScan()` reads back what a run wrote.
 * @module
 */
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Camera as RemoteCamera } from '../../devices/cameras/remote.js';
import { Experiment, remoteAcquisition, type Acquisition } from '../../experiments/index.js';
import {
  Benchmarker,
  ImageWriter,
  LiveView,
  OnlineReconstruction,
  spawnServer,
  type RemoteAddon,
  type ServerProcess,
} from '../../addons/remote/index.js';
import { freePort, tcpEndpoint } from '../../transport/zmq/index.js';
import { RemoteDirectoryWalker, readTiff } from '../../walkers/index.js';
import { sleep } from '../../core/index.js';

/** Which servers a rig runs besides the camera and the writer. */
export interface RigOptions {
  root: string;
  frames?: number;
  frameRate?: number;
  width?: number;
  height?: number;
  live?: boolean;
  benchmarker?: boolean;
  /** Adds darks and flats acquisitions and a reco server. */
  reco?: boolean;
  loglevel?: string;
  /** Control timeout of every session-side client (ms). */
  timeoutMs?: number;
}

export type RigServer = 'camera' | 'writer' | 'live' | 'benchmarker' | 'reco';

/** A fault of the matrix: a server kind killed (SIGKILL) and restarted, the disk failing, a cancel. */
export type Fault = RigServer | 'disk' | 'cancel';

/** What {@link verifyScan} found in one scan directory. */
export interface ScanCheck {
  /** Files of the dataset. */
  files: number;
  /** Distinct `stream` ids in the frames' metadata. */
  streams: string[];
  /** Files per stream id. */
  perStream: Record<string, number>;
  /** True if the frame numbers are 0, 1, 2, … in file order. */
  consecutive: boolean;
}

/** A running rig. */
export class RemoteRig {
  readonly servers = new Map<RigServer, ServerProcess>();
  readonly #ports = new Map<RigServer, number>();
  readonly #closers: Array<() => unknown> = [];
  camera!: RemoteCamera;
  walker!: RemoteDirectoryWalker;
  exp!: Experiment;
  readonly addons = new Map<RigServer, RemoteAddon>();

  private constructor(readonly options: RigOptions) {
    this.frames = options.frames ?? 30;
  }

  static async create(options: RigOptions): Promise<RemoteRig> {
    const rig = new RemoteRig(options);
    try {
      await rig.#setup();
    } catch (error) {
      await rig.close();
      throw error;
    }
    return rig;
  }

  /** Frames of the radios acquisition of the next run. */
  frames: number;

  /** The server kinds this rig runs. */
  get kinds(): RigServer[] {
    return [...this.servers.keys()];
  }

  async #spawn(kind: RigServer): Promise<ServerProcess> {
    const o = this.options;
    const common = { loglevel: o.loglevel ?? 'warn', port: this.#ports.get(kind) };
    const options: Record<string, unknown> =
      kind === 'camera'
        ? { ...common, width: o.width ?? 64, height: o.height ?? 48, frameRate: o.frameRate ?? 500 }
        : kind === 'writer' || kind === 'reco'
          ? { ...common, root: o.root }
          : common;
    const server = await spawnServer(kind, options, 90_000);
    this.servers.set(kind, server);
    this.#ports.set(kind, Number(server.endpoint.split(':').pop()));
    return server;
  }

  async #setup(): Promise<void> {
    const o = this.options;
    const kinds: RigServer[] = ['camera', 'writer'];
    if (o.live) kinds.push('live');
    if (o.benchmarker) kinds.push('benchmarker');
    if (o.reco) kinds.push('reco');
    await Promise.all(kinds.map((k) => this.#spawn(k)));
    const timeoutMs = o.timeoutMs;
    this.camera = await RemoteCamera.create({ name: 'camera', endpoint: this.endpoint('camera'), timeoutMs });
    this.#closers.push(() => this.camera.disconnect());
    this.walker = await RemoteDirectoryWalker.create({ server: this.endpoint('writer'), timeoutMs });
    this.#closers.push(() => this.walker.close());
    const acquisitions: Acquisition[] = [];
    if (o.reco) {
      acquisitions.push(await remoteAcquisition('darks', this.camera, 3));
      acquisitions.push(await remoteAcquisition('flats', this.camera, 3));
    }
    acquisitions.push(await remoteAcquisition('radios', this.camera, () => this.frames));
    this.exp = await Experiment.create(acquisitions, { walker: this.walker });
    const data = async () => tcpEndpoint(await freePort());
    const common = async (kind: RigServer) => ({
      server: this.endpoint(kind),
      data: await data(),
      camera: this.camera,
      timeoutMs,
    });
    this.addons.set('writer', await ImageWriter.create(this.exp, await common('writer')));
    if (o.live) this.addons.set('live', await LiveView.create(this.exp, await common('live')));
    if (o.benchmarker) this.addons.set('benchmarker', await Benchmarker.create(this.exp, await common('benchmarker')));
    if (o.reco) {
      const reco = await OnlineReconstruction.create(this.exp, await common('reco'));
      const middle = Math.floor((o.height ?? 48) / 2);
      await reco.setRegion([middle - 1, middle + 1, 1]);
      this.addons.set('reco', reco);
    }
    for (const addon of this.addons.values()) this.#closers.push(() => addon.close());
  }

  /** The control endpoint of a server. */
  endpoint(kind: RigServer): string {
    const s = this.servers.get(kind);
    if (!s) throw new Error(`the rig runs no ${kind} server`);
    return s.endpoint;
  }

  /** Kills a server (SIGKILL) without restarting it. */
  async kill(kind: RigServer): Promise<void> {
    await this.servers.get(kind)?.stop('SIGKILL');
  }

  /** Starts a killed server again on the same port. */
  async restart(kind: RigServer): Promise<ServerProcess> {
    await this.kill(kind);
    return this.#spawn(kind);
  }

  /** The log of every server (for failure messages). */
  output(): string {
    return [...this.servers].map(([k, s]) => `--- ${k} server:\n${s.output()}`).join('\n');
  }

  /** Puts the camera back into standby if a failed run left it elsewhere. */
  async resetCamera(): Promise<void> {
    if ((await this.camera.getState()) !== 'standby') await this.camera.reset().catch(() => undefined);
  }

  /**
   * Runs the experiment with `frames` radios and hits it with `fault` `afterMs` into the run:
   * a server killed and restarted on its port, the radios directory of the run's scan turned
   * into a file (the disk failing; put back afterwards), or the run cancelled. Resolves once the
   * run has settled (its outcome is not checked: a cancel or a fault may fail it or not).
   */
  async faultedRun(fault: Fault, frames: number, afterMs: number): Promise<void> {
    this.frames = frames;
    await this.resetCamera();
    const run = this.exp.run();
    run.catch(() => undefined);
    const scan = await this.exp.currentName.get().catch(() => '');
    await sleep(afterMs);
    if (fault === 'cancel') await this.exp.cancel();
    else if (fault === 'disk') {
      const dir = join(this.options.root, (await this.exp.currentName.get()) || scan, 'radios');
      await writingInto(dir, 10_000);
      await rename(dir, `${dir}.failed`).catch(() => undefined);
      await writeFile(dir, 'the disk failed here');
      await run.catch(() => undefined);
      await rm(dir, { force: true });
    } else {
      await this.kill(fault);
      await run.catch(() => undefined);
      await this.restart(fault);
    }
    await run.catch(() => undefined);
  }

  /** Stops everything the rig started (servers by pid). */
  async close(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await Promise.all([...this.servers.values()].map((s) => s.stop('SIGKILL')));
  }
}

/**
 * Waits until `dir` holds a file (a writer is writing into it), at most `timeoutMs`; a loaded
 * machine may start a run's dataset well after the run started.
 */
export async function writingInto(dir: string, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if ((await readdir(dir).catch(() => [])).length > 0) return;
    await sleep(20);
  }
}

/** Reads every TIFF of `root/scan/dataset` and reports what it holds. */
export async function verifyScan(root: string, scan: string, dataset = 'radios'): Promise<ScanCheck> {
  const dir = join(root, scan, dataset);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.tif')).sort();
  const perStream: Record<string, number> = {};
  let consecutive = true;
  for (const [i, f] of files.entries()) {
    const [page] = await readTiff(join(dir, f));
    const metadata = page!.frame.metadata;
    if (metadata.frameNumber !== i) consecutive = false;
    const stream = String(metadata.stream);
    perStream[stream] = (perStream[stream] ?? 0) + 1;
  }
  return { files: files.length, streams: Object.keys(perStream), perStream, consecutive };
}

/** What {@link verifyRun} found in the datasets of one completed run. */
export interface RunCheck {
  /** Every dataset holds its expected files, frame numbers 0…n−1, of one stream never seen before. */
  ok: boolean;
  /** Frames of a stream already seen in another scan (they belong to another run). */
  misplaced: number;
  /** Files read back over all datasets. */
  files: number;
  /** What was wrong, dataset by dataset (empty when `ok`). */
  problems: string[];
}

/**
 * Reads back each dataset of a completed run in `root/scan` against the files it should hold;
 * `seen` collects the stream ids of earlier runs: a frame of one of them here is misplaced, and
 * so is every frame of a second new stream (a faulted run's, which nobody read back).
 */
export async function verifyRun(
  root: string,
  scan: string,
  expected: Record<string, number>,
  seen: Set<string>,
): Promise<RunCheck> {
  let misplaced = 0;
  let read = 0;
  const problems: string[] = [];
  for (const [name, files] of Object.entries(expected)) {
    const check = await verifyScan(root, scan, name);
    read += check.files;
    for (const [stream, n] of Object.entries(check.perStream)) if (seen.has(stream)) misplaced += n;
    const fresh = check.streams.filter((s) => !seen.has(s));
    // of several new streams (one of a faulted run that was never read back), all but the largest
    const freshCounts = fresh.map((s) => check.perStream[s]!);
    if (fresh.length > 1) misplaced += freshCounts.reduce((a, b) => a + b, 0) - Math.max(...freshCounts);
    for (const s of check.streams) seen.add(s);
    if (check.files !== files) problems.push(`${scan}/${name}: ${check.files} of ${files} files`);
    if (check.streams.length !== 1 || fresh.length !== 1)
      problems.push(`${scan}/${name}: streams ${check.streams.join(', ') || '(none)'}, ${fresh.length} new`);
    if (!check.consecutive) problems.push(`${scan}/${name}: frame numbers are not 0…${check.files - 1}`);
  }
  return { ok: problems.length === 0, misplaced, files: read, problems };
}

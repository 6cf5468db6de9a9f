/**
 * The reconstruction server (`concert serve reco`): streams named darks, flats and radios (or as
 * configured) feed a streaming filtered backprojection; slices are written as float32 TIFF below
 * the server's root and can be fetched by the session.
 * @module
 */
import { makeFrame, parseOptions, z, type Frame } from '../../../core/index.js';
import { Reconstructor, type ReconstructionParameters } from '../../../reco/index.js';
import { DirectoryWalker } from '../../../walkers/index.js';
import { encodeFrame } from '../../../devices/cameras/server.js';
import { StreamServer, type StreamServerOptions, type StreamSink } from './stream-server.js';

/** Options of the reconstruction server. */
export interface RecoServerOptions extends StreamServerOptions {
  /** Where slices are written (default: the working directory). */
  root?: string;
}

/** What `reco.configure` takes (every key optional: the rest stays as it was). */
const RECO_CONFIG = z.strictObject({
  parameters: z.record(z.string(), z.unknown()).optional(),
  number: z.number().int().min(0).optional(),
  names: z
    .strictObject({ darks: z.string().min(1), flats: z.string().min(1), radios: z.string().min(1) })
    .partial()
    .optional(),
  directory: z.string().min(1).max(1024).optional(),
  workers: z.number().int().min(1).max(64).optional(),
});

/** What the session configures. */
interface RecoConfig {
  parameters: ReconstructionParameters;
  number: number;
  names: { darks: string; flats: string; radios: string };
  /** Directory below the root for the slices of the next radios stream (e.g. `scan_0003/online-slices`). */
  directory: string;
  workers?: number;
}

/** Reconstructs slices from the streams it receives. */
export class RecoServer extends StreamServer {
  #config: RecoConfig = {
    parameters: {},
    number: 0,
    names: { darks: 'darks', flats: 'flats', radios: 'radios' },
    directory: 'online-slices',
  };
  #darks: Frame[] = [];
  #flats: Frame[] = [];
  #reco: Reconstructor | undefined;
  #slices: Frame<'float32'>[] = [];
  #lagMs: number | undefined;

  constructor(options: RecoServerOptions) {
    super('reco', options);
  }

  protected override handlers(): Record<string, (params: unknown) => unknown> {
    return {
      'reco.configure': (p) => {
        const c = parseOptions('reco.configure', RECO_CONFIG, p ?? {}) as Partial<RecoConfig>;
        this.#config = {
          ...this.#config,
          ...c,
          names: { ...this.#config.names, ...c.names },
          parameters: { ...this.#config.parameters, ...c.parameters },
        };
        return this.#config;
      },
      'reco.slices': () => this.#slices.map(encodeFrame),
      'reco.rereconstruct': async (p) => {
        if (!this.#reco) throw new Error('nothing to rereconstruct yet');
        this.#config.parameters = { ...this.#config.parameters, ...((p ?? {}) as ReconstructionParameters) };
        const { region: _r, ...params } = this.#config.parameters;
        this.#store(await this.#reco.rereconstruct(params));
        return this.#slices.map(encodeFrame);
      },
      'reco.findAxis': async (p) => {
        if (!this.#reco) throw new Error('no projections to search the axis in yet');
        return this.#reco.findAxis(p as { centers: [number, number, number] });
      },
    };
  }

  protected async openStream(name: string): Promise<StreamSink> {
    const { darks, flats, radios } = this.#config.names;
    if (name === darks || name === flats) {
      if (name === darks) {
        await this.#reco?.close();
        this.#reco = undefined;
        this.#darks = [];
        this.#flats = [];
      }
      const into = name === darks ? this.#darks : this.#flats;
      return { frame: (f) => void into.push(f), close: async () => {} };
    }
    if (name !== radios)
      throw new Error(
        `stream '${name}' is none of darks '${darks}', flats '${flats}', radios '${radios}' (set them with reco.configure)`,
      );
    let index = 0;
    let last = 0;
    return {
      frame: async (f) => {
        const reco = this.#reco ?? (await this.#start(f));
        await reco.addProjection(f, index++);
        last = performance.now();
      },
      close: async (ok) => {
        if (!ok || !this.#reco) return;
        this.#store(await this.#reco.slices());
        await this.#write();
        this.#lagMs = performance.now() - last;
      },
    };
  }

  async #start(first: Frame): Promise<Reconstructor> {
    const [height, width] = first.shape;
    const number = this.#config.number;
    if (!number) throw new Error('set the number of projections first (reco.configure { number })');
    const reco = await Reconstructor.create({
      ...this.#config.parameters,
      number,
      width,
      height,
      ...(this.#config.workers !== undefined ? { workers: this.#config.workers } : {}),
    });
    for (const d of this.#darks) reco.addDark(d);
    for (const f of this.#flats) reco.addFlat(f);
    this.#reco = reco;
    return reco;
  }

  #store(slices: Float32Array[]): void {
    const g = this.#reco!.geometry;
    this.#slices = slices.map((s, i) => makeFrame(s, [g.height, g.width], { frameNumber: i }));
  }

  async #write(): Promise<void> {
    const walker = await DirectoryWalker.create({ root: (this.options as RecoServerOptions).root });
    const writer = await walker.writer(this.#config.directory, { pattern: 'slice_{:04}.tif' });
    try {
      for (const s of this.#slices) await writer.write(s);
    } finally {
      await writer.close();
    }
  }

  protected override extraStatus(): Record<string, unknown> {
    return { projections: this.#reco?.count ?? 0, slices: this.#slices.length, lagMs: this.#lagMs };
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#reco?.close();
  }
}

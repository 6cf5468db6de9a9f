/**
 * The conductor's configuration: one zod schema with the defaults and ranges of every key, for
 * TOML, YAML and JSON files alike (`conductor.toml`):
 *
 * ```toml
 * [general]
 * acquisitionName = "mouse12__session3"   # group "mouse12" taken from the name, as RCC does
 * dataPath = "data"                       # on each camera host, inside its --root
 * maxAcquisitionTime = 600                # s; every camera server stops by itself after this
 *
 * [cameras.top]
 * endpoint = "tcp://rpi-top:8980"
 * frameRate = 90
 * exposureTime = "5 ms"
 * size = [640, 480]
 * ```
 * @module
 */
import { compatible, expecting, isQuantity, q, z, type Unit } from '../../core/index.js';

/** Names of cameras and acquisitions: letters, digits, `.`, `_` and `-` (they become folder names). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const NAME_WORDS = 'letters, digits, ".", "_" and "-", not starting with "." or "-"';

/** The most seconds an acquisition may last (RCC's limit). */
export const MAX_ACQUISITION_TIME_S = 7200;
/** The highest frame rate a camera may be configured with (RCC's limit). */
export const MAX_FRAME_RATE_HZ = 90;

function name(what: string) {
  return z
    .string()
    .regex(NAME, { error: `${what} must be ${NAME_WORDS}` })
    .max(120);
}

/** A time given with its unit (`"5 ms"`, `"0.2 s"`). */
const duration = z.string().superRefine((text, ctx) => {
  let value: Unit | undefined;
  try {
    value = q(text);
  } catch {
    value = undefined;
  }
  if (!value || !isQuantity(value) || !compatible(value, 's'))
    ctx.addIssue({ code: 'custom', message: `must be a time with its unit, e.g. "5 ms", got ${JSON.stringify(text)}` });
  else if (!(value.toNumber('s') > 0))
    ctx.addIssue({ code: 'custom', message: `must be longer than 0 s, got ${JSON.stringify(text)}` });
});

const pixels = z.number().int().min(1).max(65536);
const offset = z.number().int().min(0).max(65535);

/** The settings of one camera and where its server is. */
export const CAMERA_CONFIG = z.strictObject({
  /** The camera server's control endpoint (`concert serve camera` prints it). */
  endpoint: expecting(
    z.string().regex(/^tcp:\/\/[^\s:/]+:\d{1,5}$|^tcp:\/\/\[[0-9a-fA-F:]+\]:\d{1,5}$|^ipc:\/\/\S+$/, {
      error: 'must be a camera server endpoint like "tcp://host:8980"',
    }),
    'a camera server endpoint like "tcp://host:8980"',
  ),
  /** Free text, stored in the camera's metadata. */
  description: z.string().default(''),
  /** Record this camera's frames (default: general.saveData). */
  saveData: z.boolean().optional(),
  /** How frames are stored on the host: a TIFF dataset (lossless, any dtype) or an mp4 (8-bit). Default: general.format. */
  format: z.enum(['tiff', 'mp4']).optional(),
  /** Frames per second (AUTO and SOFTWARE trigger). */
  frameRate: z.number().min(1).max(MAX_FRAME_RATE_HZ).default(MAX_FRAME_RATE_HZ),
  /** Exposure time per frame, with its unit (`"5 ms"`); default: the camera's own. */
  exposureTime: duration.optional(),
  /** Frame size in pixels, [width, height] (the ROI from the top-left corner); default: the whole sensor. */
  size: expecting(z.tuple([pixels, pixels]), '[width, height] in whole pixels (1 to 65536)').optional(),
  /** Region of interest in pixels, [x0, y0, width, height]; default: the whole sensor. */
  roi: expecting(
    z.tuple([offset, offset, pixels, pixels]),
    '[x0, y0, width, height] in whole pixels (x0, y0 ≥ 0; width, height ≥ 1)',
  ).optional(),
  /** Flip frames left-right (RCC's hflip). */
  mirror: z.boolean().default(false),
  /** Flip frames upside down (RCC's vflip). */
  flip: z.boolean().default(false),
  /** Rotate frames counter-clockwise by this many degrees. */
  rotate: expecting(
    z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
    'one of 0, 90, 180, 270 (degrees)',
  ).default(0),
  /** AUTO (free-running), SOFTWARE (the camera server triggers at frameRate) or EXTERNAL (hardware). */
  triggerSource: z.enum(['AUTO', 'SOFTWARE', 'EXTERNAL']).default('AUTO'),
  /** Backend settings, applied where the camera has them (FfmpegCamera: brightness, contrast, saturation, gain). */
  brightness: z.number().int().min(0).max(100).optional(),
  contrast: z.number().int().min(-100).max(100).optional(),
  saturation: z.number().int().min(-100).max(100).optional(),
  gain: z.number().min(0).max(16).optional(),
});

/** The keys of {@link CAMERA_CONFIG} that are camera parameters set through the backend by name. */
export const BACKEND_SETTINGS = ['brightness', 'contrast', 'saturation', 'gain'] as const;

/** The whole configuration file. */
export const CONDUCTOR_CONFIG = z.strictObject({
  general: z
    .strictObject({
      /** Base name of the recording (`concert conductor run --acquisition-name` overrides it). */
      acquisitionName: name('general.acquisitionName').optional(),
      /** Folder above the acquisition; taken from `group__name` when not given. */
      acquisitionGroup: z.union([z.literal(''), name('general.acquisitionGroup')]).optional(),
      /** Where each camera host stores recordings (relative paths: inside the camera server's --root). */
      dataPath: z.string().min(1).default('data'),
      /** Seconds after which every camera server ends the recording by itself; 0: no limit. */
      maxAcquisitionTime: z.number().int().min(0).max(MAX_ACQUISITION_TIME_S).default(MAX_ACQUISITION_TIME_S),
      /** Record frames on the camera hosts (false: count and time them only). */
      saveData: z.boolean().default(true),
      /** tiff (lossless dataset) or mp4 (h264, 8-bit). */
      format: z.enum(['tiff', 'mp4']).default('tiff'),
      /** General saveData and format win over the cameras' own (RCC's general_setting_has_priority). */
      overrideCameras: z.boolean().default(true),
      /** When a camera is lost mid-acquisition: the others go on, or all stop. */
      onCameraLost: z.enum(['continue', 'stopAll']).default('continue'),
    })
    .default({
      dataPath: 'data',
      maxAcquisitionTime: MAX_ACQUISITION_TIME_S,
      saveData: true,
      format: 'tiff',
      overrideCameras: true,
      onCameraLost: 'continue',
    }),
  log: z
    .strictObject({
      /** Lowest level written to the log file. */
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      /** The conductor's log file (camera lines tagged with the camera's name). */
      file: z.string().min(1).default('conductor.log'),
    })
    .default({ level: 'info', file: 'conductor.log' }),
  control: z
    .strictObject({
      /** Address the conductor binds for the cameras' logs and heartbeats. */
      address: z.string().min(1).default('127.0.0.1'),
      /** Port of that socket (0: a free one). */
      port: z.number().int().min(0).max(65535).default(0),
      /** Seconds without an answer or a heartbeat after which a camera counts as lost. */
      timeout: z.number().min(0.2).max(600).default(3),
      /** Directory with the CURVE keys the camera servers use (`--curve-keys`). */
      curveKeys: z.string().min(1).optional(),
    })
    .default({ address: '127.0.0.1', port: 0, timeout: 3 }),
  cameras: expecting(
    z.record(name('a camera name'), CAMERA_CONFIG),
    'a table of cameras: [cameras.NAME] with an endpoint',
  ),
});

/** One problem of a configuration: where (`cameras.top.frameRate`) and what is wrong. */
export interface Violation {
  path: string;
  message: string;
}

/**
 * The checks that involve several keys (duplicate endpoints, size with roi, exposure longer than
 * the frame period, no camera). They read the raw input defensively, so they run, and report,
 * alongside the schema's own problems.
 */
export function crossCheck(raw: unknown): Violation[] {
  const out: Violation[] = [];
  const cameras = (raw as { cameras?: unknown } | null)?.cameras;
  if (cameras === undefined) return out; // reported as missing by the schema
  if (typeof cameras !== 'object' || cameras === null || Array.isArray(cameras)) return out;
  const entries = Object.entries(cameras as Record<string, unknown>);
  if (entries.length === 0)
    out.push({ path: 'cameras', message: 'needs at least one camera ([cameras.NAME] with an endpoint)' });
  const endpoints = new Map<string, string>();
  for (const [camera, value] of entries) {
    if (typeof value !== 'object' || value === null) continue;
    const c = value as Record<string, unknown>;
    if (typeof c.endpoint === 'string') {
      const other = endpoints.get(c.endpoint);
      if (other !== undefined)
        out.push({
          path: `cameras.${camera}.endpoint`,
          message: `${c.endpoint} is also the endpoint of camera '${other}' (one camera server per camera)`,
        });
      else endpoints.set(c.endpoint, camera);
    }
    if (c.size !== undefined && c.roi !== undefined)
      out.push({
        path: `cameras.${camera}.size`,
        message: 'give size or roi, not both (size is the ROI from the top-left corner)',
      });
    const rate = c.frameRate === undefined ? MAX_FRAME_RATE_HZ : c.frameRate;
    if (typeof c.exposureTime === 'string' && typeof rate === 'number' && rate > 0 && c.triggerSource !== 'EXTERNAL') {
      let seconds = NaN;
      try {
        seconds = q(c.exposureTime).toNumber('s');
      } catch {
        // reported by the schema
      }
      const period = 1 / rate;
      if (seconds > period)
        out.push({
          path: `cameras.${camera}.exposureTime`,
          message: `${c.exposureTime} is longer than the frame period ${Number((period * 1000).toPrecision(3))} ms at ${rate} Hz`,
        });
    }
  }
  return out;
}

/** A configuration as written (every key optional where it has a default). */
export type ConductorConfigInput = z.input<typeof CONDUCTOR_CONFIG>;
/** A configuration with the defaults filled in. */
export type ConductorConfig = z.output<typeof CONDUCTOR_CONFIG>;
/** One camera's configuration, defaults filled in. */
export type CameraConfig = z.output<typeof CAMERA_CONFIG>;

/** What a camera records with once general settings are applied. */
export interface ResolvedCamera extends CameraConfig {
  name: string;
  saveData: boolean;
  format: 'tiff' | 'mp4';
}

/**
 * The camera's settings with the general ones patched in (`overrideCameras`): general saveData
 * and format win when it is true, else a camera's own value wins where it has one.
 */
export function resolveCamera(config: ConductorConfig, name: string): ResolvedCamera {
  const camera = config.cameras[name]!;
  const general = config.general;
  const pick = <T>(own: T | undefined, fallback: T): T =>
    general.overrideCameras || own === undefined ? fallback : own;
  return {
    ...camera,
    name,
    saveData: pick(camera.saveData, general.saveData),
    format: pick(camera.format, general.format),
  };
}

/**
 * Splits an acquisition name into group and name as RCC does: `mouse12__day3` → group `mouse12`
 * (unless a group is given).
 */
export function acquisitionGroupOf(acquisitionName: string, group?: string): string {
  if (group) return group;
  const at = acquisitionName.indexOf('__');
  return at > 0 ? acquisitionName.slice(0, at) : '';
}

/** True if `text` may be an acquisition or camera name. */
export function isValidName(text: string): boolean {
  return NAME.test(text) && text.length <= 120;
}

export { NAME_WORDS };

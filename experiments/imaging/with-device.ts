/**
 * Thin factories that take the exposing device by name (`{ shutter }`, `{ xrayTube }`) instead of an
 * `exposure` part: what `synchrotron.*` and `xraytube.*` are made of.
 * @module
 * @internal
 */
import type { z } from '../../core/index.js';
import { parseOptions, type OptionsSchema } from '../../core/index.js';
import type { Exposure } from './exposure.js';
import { Radiography, type ImagingClass } from './radiography.js';

/**
 * An imaging experiment's factory taking the device `K` (e.g. `shutter`) instead of `exposure`:
 * `await synchrotron.Radiography.create(options)`, or `await synchrotron.Radiography(options)`.
 */
export interface DeviceExposedFactory<T extends Radiography, O, K extends string, D> {
  (options: Omit<O, 'exposure'> & Record<K, D>): Promise<T>;
  /** The options `create()` accepts: the experiment's, with `K` in place of `exposure`. */
  readonly options: OptionsSchema;
  /**
   * Makes the experiment exposed by the device given as `K`.
   * @throws OptionError for unknown, missing or bad options, named as `<family>.<Class>.create`.
   */
  create(options: Omit<O, 'exposure'> & Record<K, D>): Promise<T>;
}

/**
 * Makes factories for one family: `family` names them in messages (`synchrotron`), `key` is the
 * device's option name, `device` its schema and `part` the exposure part it becomes.
 */
export function deviceExposed<K extends string, D>(
  family: string,
  key: K,
  device: z.ZodType<D>,
  part: (device: D) => Exposure,
) {
  return <T extends Radiography, O extends { exposure: Exposure }>(
    experiment: ImagingClass<T, O>,
  ): DeviceExposedFactory<T, O, K, D> => {
    const options = experiment.options.omit({ exposure: true }).extend({ [key]: device });
    const owner = `${family}.${experiment.name}.create`;
    const create = async (given: Omit<O, 'exposure'> & Record<K, D>): Promise<T> => {
      parseOptions(owner, options, given);
      const { [key]: exposing, ...rest } = given;
      const make = Radiography.create<T, O>;
      return make.call(experiment, { ...rest, exposure: part(exposing as D) } as O);
    };
    return Object.assign(create, { options, create });
  };
}

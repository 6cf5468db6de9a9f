/**
 * Selection parameters: the value is one of a fixed list (e.g. a camera's trigger source).
 * @module
 */
import { SelectionError } from './errors.js';
import { Parameter, type ParameterOwner, type ParameterSpec } from './parameter.js';

/** A parameter whose value must be one of `values`. */
export class Selection<T extends string | number | boolean> extends Parameter<T> {
  override readonly kind = 'selection';

  constructor(
    owner: ParameterOwner,
    name: string,
    /** The allowed values. */
    readonly values: readonly T[],
    spec: ParameterSpec<T>,
  ) {
    super(owner, name, spec);
  }

  override allowedValues(): string {
    return this.values.map((v) => JSON.stringify(v).replaceAll('"', "'")).join(' | ');
  }

  protected override validate(value: T): T {
    if (!this.values.includes(value))
      throw new SelectionError(
        `${this.fullName}: ${JSON.stringify(value)} is not allowed (allowed: ${this.values.map((v) => JSON.stringify(v)).join(', ')})`,
      );
    return super.validate(value);
  }
}

/**
 * State-machine guards for device methods, usable as decorators on async methods and async
 * generator methods:
 *
 * - `@check(source, target)`: the method may only start in a `source` state, and the device must
 *   be in a `target` state afterwards.
 * - `@transition({ source, immediate, target })`: also sets `immediate` while the method runs and
 *   `target` when it returns. An error puts the device into `'error'`; an abort into `aborted`
 *   (default: `target`).
 *
 * The state names are checked against the device's `state` parameter at compile time: in a
 * motor, `@transition({ source: ['standbye'], target: 'standby' })` does not compile.
 * @module
 */
import type { Device } from './device.js';
import { FSMError, isAbortError, OptionError, TransitionNotAllowed } from './errors.js';
import type { State } from './state.js';

/** Any state (`'*'`) or a list of states. */
export type StateSet<S extends string = string> = '*' | readonly S[];

/** What a transition does to the state. */
export interface TransitionSpec<S extends string = string> {
  /** States the method may start in (default: any). */
  source?: StateSet<S>;
  /** State while the method runs. */
  immediate?: S;
  /** State after the method returns. */
  target: S;
  /** State after the method is aborted (default: `target`). */
  aborted?: S;
  /** State after the method fails with `error` (default: `'error'`). */
  failed?: (error: unknown) => S | 'error';
}

/** The states of a device class (its `state` parameter's values and `'error'`); `string` without one. */
export type StatesOf<D> = D extends { readonly state: State<infer S> } ? S | 'error' : string;

/** The states a state set names. */
type Listed<X> = X extends readonly (infer S extends string)[] ? S : never;

/** Every state a transition spec names (a `failed` callback typed only as `string` is not checked). */
type SpecStates<T> =
  | (T extends { source: infer X } ? Listed<X> : never)
  | (T extends { immediate: infer I extends string } ? I : never)
  | (T extends { target: infer G extends string } ? G : never)
  | (T extends { aborted: infer A extends string } ? A : never)
  | (T extends { failed: (error: never) => infer F extends string } ? (string extends F ? never : F) : never);

/**
 * `unknown` when every state in `Used` is a state of `D`; otherwise an object type naming the
 * unknown ones, which the decorator's context does not match: a misspelt state does not compile.
 */
type KnownStates<Used extends string, D> = [Exclude<Used, StatesOf<D>>] extends [never]
  ? unknown
  : { 'not a state of this device': Exclude<Used, StatesOf<D>> };

function stateOf(device: Device, method: string): State<string> {
  const state = device.stateParam;
  if (!state) throw new FSMError(`${device.name}.${method}(): ${device.kind} has no state parameter`);
  return state;
}

function allows(set: StateSet, state: string): boolean {
  return set === '*' || set.includes(state);
}

/**
 * Checks the source state and enters `immediate`. For a software state the check and the
 * `immediate` state change happen in one synchronous step, so a second call that starts before the
 * first one's `await` (two `setPosition()` calls in a row) sees the new state and is refused.
 */
async function enter(
  device: Device,
  method: string,
  source: StateSet,
  immediate?: string,
): Promise<[State<string>, string]> {
  const state = stateOf(device, method);
  const current = state.software ? state.current : await state.get();
  if (!allows(source, current)) {
    throw new TransitionNotAllowed(
      `${device.name}.${method}() is not allowed in state '${current}' (allowed in: ${source === '*' ? 'any' : source.join(', ')})`,
      current,
    );
  }
  if (immediate !== undefined) state.enter(immediate);
  return [state, current];
}

async function leave(device: Device, method: string, state: State<string>, target: StateSet): Promise<void> {
  const current = state.software ? state.current : await state.get();
  if (!allows(target, current)) {
    throw new FSMError(
      `${device.name}.${method}() left the device in state '${current}' (expected: ${target === '*' ? 'any' : target.join(', ')})`,
    );
  }
}

function failed(
  device: Device,
  state: State<string>,
  error: unknown,
  aborted: string | undefined,
  next = (_: unknown) => 'error',
  previous?: string,
): void {
  // A call refused for its arguments did nothing: the device stays where it was.
  if (error instanceof OptionError) {
    if (previous !== undefined && state.current !== previous) state.enter(previous);
    return;
  }
  if (isAbortError(error)) {
    if (aborted !== undefined) state.enter(aborted);
    return;
  }
  const to = next(error);
  state.enter(to, error);
  if (to === 'error') device.log.error(`entered state 'error'`, error);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the decorators wrap methods of any signature
type AnyMethod<This> = (this: This, ...args: any) => any;

/** The method's name in messages: `moveTo` also for a private `#moveTo`. */
function methodName(context: { readonly name: string | symbol }): string {
  return String(context.name).replace(/^#/, '');
}

function isAsyncGenerator(fn: unknown): boolean {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncGeneratorFunction';
}

/** Wraps `method` with `before`/`after`/`onError` around its whole run (also for async generators). */
function wrap<This extends Device, M extends AnyMethod<This>>(
  method: M,
  hooks: {
    /** Checks and enters the method's state; returns the state and the one it was in before. */
    before(device: This): Promise<[State<string>, string]>;
    after(device: This, state: State<string>): Promise<void>;
    onError(device: This, state: State<string>, error: unknown, previous: string): void;
  },
): M {
  if (isAsyncGenerator(method)) {
    return async function* (this: This, ...args: never[]) {
      const [state, previous] = await hooks.before(this);
      let threw = false;
      try {
        yield* method.apply(this, args) as AsyncGenerator<unknown>;
      } catch (error) {
        threw = true;
        hooks.onError(this, state, error, previous);
        throw error;
      } finally {
        // Also when the consumer stops early (`break` calls `return()`): leave the state consistent.
        if (!threw) await hooks.after(this, state);
      }
    } as unknown as M;
  }
  return async function (this: This, ...args: never[]) {
    const [state, previous] = await hooks.before(this);
    let result: unknown;
    try {
      result = await method.apply(this, args);
    } catch (error) {
      hooks.onError(this, state, error, previous);
      throw error;
    }
    await hooks.after(this, state);
    return result;
  } as unknown as M;
}

/** Options of {@link check}. */
export interface CheckOptions {
  /**
   * True if `error` is a fault of the device (default: every error but an abort). An error that
   * is not (e.g. frames that could not be delivered to a consumer) leaves the state unchanged.
   */
  fault?: (error: unknown) => boolean;
}

/**
 * Decorator: the method may only start in a `source` state and must leave the device in a
 * `target` state. An error thrown by the method puts the device into `'error'` (unless
 * `options.fault` says it is not the device's).
 * @throws TransitionNotAllowed when called in another state.
 */
export function check<const Source extends StateSet, const Target extends StateSet = '*'>(
  source: Source,
  target: Target = '*' as Target,
  options: CheckOptions = {},
) {
  const fault = options.fault;
  return function <This extends Device, M extends AnyMethod<This>>(
    method: M,
    context: ClassMethodDecoratorContext<This, M> & KnownStates<Listed<Source> | Listed<Target>, This>,
  ): M {
    const name = methodName(context);
    return wrap<This, M>(method, {
      before: (device) => enter(device, name, source),
      after: (device, state) => leave(device, name, state, target),
      onError: (device, state, error, previous) => {
        if (!fault || fault(error)) failed(device, state, error, undefined, undefined, previous);
      },
    });
  };
}

/**
 * Decorator: checks the source state, sets `immediate` while the method runs and `target`
 * afterwards; an error sets `'error'`, an abort sets `aborted` (default `target`).
 */
export function transition<const T extends TransitionSpec>(spec: T) {
  const { source = '*', immediate, target, aborted = target, failed: next } = spec;
  return function <This extends Device, M extends AnyMethod<This>>(
    method: M,
    context: ClassMethodDecoratorContext<This, M> & KnownStates<SpecStates<T>, This>,
  ): M {
    const name = methodName(context);
    return wrap<This, M>(method, {
      before: (device) => enter(device, name, source, immediate),
      async after(_device, state) {
        state.enter(target);
      },
      onError: (device, state, error, previous) => failed(device, state, error, aborted, next, previous),
    });
  };
}

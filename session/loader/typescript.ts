/**
 * TypeScript's compiler API, loaded on first use (≈ 200 ms; the prompt's transpiler needs it, the
 * start-up does not).
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import type * as TS from 'typescript';

/** The `typescript` module. */
export type TypeScript = typeof TS;

let ts: TypeScript | undefined;

/** The TypeScript compiler API (loaded once). */
export function typescript(): TypeScript {
  ts ??= createRequire(import.meta.url)('typescript') as TypeScript;
  return ts;
}

/**
 * The SQLite file of an output set (better-sqlite3, WAL mode): one row per item, committed in
 * groups (one transaction per group) before the set registers them, so another process
 * (`concert set info|watch`, Debian's `sqlite3`) reads the set while it grows, and a set reopened
 * after a crash has every item committed before it.
 *
 * Tables: `set_info(key, value)` (name, step, input, state, close reason, writer pid, …),
 * `items(idx, input_index, input_key UNIQUE, status, record, value_is_record, error, attempts,
 * received_at, started_at, finished_at)` (times in ms since the epoch) and the view `summary`
 * (`sqlite3 read.sqlite 'select * from summary'`).
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { errorMessage } from '../core/errors.js';
import { processAlive } from '../core/process.js';
import { StreamingError } from './errors.js';
import type { CloseInfo, CloseReason, JsonValue, OutputItem, SetState } from './item.js';

/** The native module, loaded on first use (sessions that never stream do not pay for it). */
let sqlite: typeof BetterSqlite3 | undefined;
function database(path: string, options: BetterSqlite3.Options): BetterSqlite3.Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new sqlite(path, options);
}

const FORMAT = 'concert-set';
const VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS set_info (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
  idx INTEGER PRIMARY KEY,
  input_index INTEGER NOT NULL,
  input_key TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  record TEXT,
  value_is_record INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  attempts INTEGER NOT NULL,
  received_at REAL NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL NOT NULL
);
CREATE VIEW IF NOT EXISTS summary AS SELECT
  (SELECT value FROM set_info WHERE key = 'name') AS name,
  (SELECT value FROM set_info WHERE key = 'state') AS state,
  (SELECT count(*) FROM items) AS items,
  (SELECT count(*) FROM items WHERE status = 'failed') AS failed,
  (SELECT value FROM set_info WHERE key = 'close_reason') AS close_reason;
`;

/** What a set file says about itself. */
export interface SetMeta {
  readonly name: string;
  /** The step that writes it. */
  readonly step: string;
  /** What the step reads (`directory /data/in (*.tif)`, `set read`, …). */
  readonly input: string;
  readonly state: SetState;
  readonly createdAt: number;
  readonly close: CloseInfo | undefined;
  /** The process writing it while open (gone after a crash). */
  readonly writer: { pid: number; host: string } | undefined;
}

/** An item as stored: everything but the value, plus whether the record is the value. */
export interface StoredItem extends Omit<OutputItem<never>, 'value'> {
  readonly valueIsRecord: boolean;
}

/** Row of `items` as SQLite returns it. */
interface ItemRow {
  idx: number;
  input_index: number;
  input_key: string;
  status: 'done' | 'failed';
  record: string | null;
  value_is_record: number;
  error: string | null;
  attempts: number;
  received_at: number;
  started_at: number;
  finished_at: number;
}

/** Files written by a set in this process (a second writer would corrupt the order). */
const writing = new Set<string>();

/** One set file, open for writing (by its step) or for reading (by anyone). */
export class SetFile {
  readonly path: string;
  readonly writable: boolean;
  readonly #db: BetterSqlite3.Database;
  #insert: BetterSqlite3.Statement<unknown[]> | undefined;
  #appendGroup:
    | BetterSqlite3.Transaction<(group: readonly { item: OutputItem<unknown>; valueIsRecord: boolean }[]) => void>
    | undefined;
  #closed = false;

  private constructor(path: string, db: BetterSqlite3.Database, writable: boolean) {
    this.path = path;
    this.#db = db;
    this.writable = writable;
  }

  /**
   * Opens `path` for writing, creating it (and its directory) if missing; an existing file must be
   * a set file not written by a live process.
   * @throws StreamingError naming the file and what is wrong with it.
   */
  static openForWriting(path: string, info: { name: string; step: string; input: string }): SetFile {
    const file = resolve(path);
    let db: BetterSqlite3.Database;
    try {
      mkdirSync(dirname(file), { recursive: true });
      db = database(file, {});
    } catch (error) {
      throw new StreamingError(`cannot open set file ${file}: ${errorMessage(error)}`, { cause: error });
    }
    const real = realpathSync(file);
    if (writing.has(real)) {
      db.close();
      throw new StreamingError(`set file ${file} is already written by a step in this process`);
    }
    const set = new SetFile(file, db, true);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.transaction(() => {
        const isNew = !db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'set_info'`).get();
        if (!isNew) set.#check();
        db.exec(SCHEMA);
        const put = db.prepare('INSERT OR REPLACE INTO set_info (key, value) VALUES (?, ?)');
        if (isNew) {
          for (const [k, v] of Object.entries({
            format: FORMAT,
            version: String(VERSION),
            name: info.name,
            step: info.step,
            input: info.input,
            state: 'open',
            created_at: String(Date.now()),
          }))
            put.run(k, v);
        } else {
          const writer = set.meta().writer;
          if (writer && writer.host === hostname() && writer.pid !== process.pid && processAlive(writer.pid))
            throw new StreamingError(
              `set file ${file} is being written by process ${writer.pid} (step '${set.meta().step}'); stop that process first`,
            );
        }
        put.run('writer_pid', String(process.pid));
        put.run('writer_host', hostname());
      }).immediate();
    } catch (error) {
      db.close();
      if (error instanceof StreamingError) throw error;
      throw new StreamingError(`cannot use ${file} as a set file: ${errorMessage(error)}`, { cause: error });
    }
    writing.add(real);
    set.#insert = db.prepare(
      `INSERT INTO items (idx, input_index, input_key, status, record, value_is_record, error, attempts,
         received_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return set;
  }

  /**
   * Opens an existing set file for reading (another process may be writing it).
   * @throws StreamingError if it is missing or not a set file.
   */
  static openForReading(path: string): SetFile {
    const file = resolve(path);
    if (!existsSync(file)) throw new StreamingError(`set file ${file} does not exist`);
    let db: BetterSqlite3.Database;
    try {
      db = database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new StreamingError(`cannot open set file ${file}: ${errorMessage(error)}`, { cause: error });
    }
    const set = new SetFile(file, db, false);
    try {
      set.#check();
    } catch (error) {
      db.close();
      throw error;
    }
    return set;
  }

  /** Throws unless this is a set file of a version we read. */
  #check(): void {
    const fail = (why: string) => new StreamingError(`${this.path} is not a Concert set file: ${why}`);
    let format: string | undefined;
    let version: number;
    try {
      format = this.#value('format');
      version = Number(this.#value('version'));
    } catch (error) {
      throw fail(errorMessage(error));
    }
    if (format !== FORMAT) throw fail(`set_info.format is ${JSON.stringify(format)}, expected "${FORMAT}"`);
    if (version > VERSION)
      throw new StreamingError(
        `${this.path} is a set file of version ${version}; this Concert reads versions up to ${VERSION}`,
      );
  }

  #value(key: string): string | undefined {
    const row = this.#db.prepare('SELECT value FROM set_info WHERE key = ?').get(key) as
      { value: string | null } | undefined;
    return row?.value ?? undefined;
  }

  /** The file's description of the set. */
  meta(): SetMeta {
    const rows = this.#db.prepare('SELECT key, value FROM set_info').all() as { key: string; value: string | null }[];
    const m = new Map(rows.map((r) => [r.key, r.value ?? undefined]));
    const state = m.get('state') === 'closed' ? 'closed' : 'open';
    const pid = Number(m.get('writer_pid'));
    return {
      name: m.get('name') ?? '',
      step: m.get('step') ?? '',
      input: m.get('input') ?? '',
      state,
      createdAt: Number(m.get('created_at') ?? 0),
      close:
        state === 'closed'
          ? {
              reason: (m.get('close_reason') ?? 'stopped') as CloseReason,
              at: Number(m.get('closed_at') ?? 0),
              message: m.get('close_message') ?? '',
            }
          : undefined,
      writer: state === 'open' && pid > 0 ? { pid, host: m.get('writer_host') ?? '' } : undefined,
    };
  }

  /** True if the writer recorded in the file is a live process on this machine. */
  writerAlive(): boolean {
    const writer = this.meta().writer;
    return writer !== undefined && writer.host === hostname() && processAlive(writer.pid);
  }

  /**
   * Commits a group of items in one transaction: all of them or, if one cannot be stored, none.
   * @throws StreamingError naming the items, the file and why (an input key already in the set, a
   *   full disk, …).
   */
  append(group: readonly { item: OutputItem<unknown>; valueIsRecord: boolean }[]): void {
    if (group.length === 0) return;
    let current: OutputItem<unknown> | undefined;
    try {
      this.#appendGroup ??= this.#db.transaction((rows: typeof group) => {
        for (const { item, valueIsRecord } of rows) {
          current = item;
          this.#insert!.run(
            item.index,
            item.inputIndex,
            item.inputKey,
            item.status,
            JSON.stringify(item.record),
            valueIsRecord ? 1 : 0,
            item.error ?? null,
            item.attempts,
            item.receivedAt,
            item.startedAt,
            item.finishedAt,
          );
        }
        current = undefined;
      });
      this.#appendGroup(group);
    } catch (error) {
      const first = group[0]!.item.index;
      const last = group[group.length - 1]!.item.index;
      const items = first === last ? `item ${first}` : `items ${first}–${last}`;
      const code = (error as { code?: string }).code ?? '';
      const what =
        code === 'SQLITE_CONSTRAINT_UNIQUE' && current
          ? `input ${JSON.stringify(current.inputKey)} (item ${current.index}) is already in the set`
          : /^SQLITE_(IOERR|FULL)/.test(code)
            ? `${errorMessage(error)} (${code}: is the disk full?)`
            : errorMessage(error);
      const none = group.length === 1 ? '' : `; none of these ${group.length} items was committed`;
      throw new StreamingError(`cannot store ${items} in ${this.path}: ${what}${none}`, { cause: error });
    }
  }

  /** Number of items stored and how many of them failed. */
  counts(): { items: number; failed: number } {
    return this.#db
      .prepare(`SELECT count(*) AS items, coalesce(sum(status = 'failed'), 0) AS failed FROM items`)
      .get() as { items: number; failed: number };
  }

  /** Stored items from index `from` on (at most `limit`), in index order. */
  items(from = 0, limit = -1): StoredItem[] {
    const rows = this.#db
      .prepare('SELECT * FROM items WHERE idx >= ? ORDER BY idx LIMIT ?')
      .all(from, limit) as ItemRow[];
    return rows.map((r) => ({
      index: r.idx,
      inputIndex: r.input_index,
      inputKey: r.input_key,
      status: r.status,
      record: (r.record === null ? null : JSON.parse(r.record)) as JsonValue,
      valueIsRecord: r.value_is_record === 1,
      ...(r.error === null ? {} : { error: r.error }),
      attempts: r.attempts,
      receivedAt: r.received_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }

  /** Completion times (`finished_at`) of the items completed at or after `since`. */
  finishTimes(since = 0): number[] {
    return this.#db
      .prepare('SELECT finished_at FROM items WHERE finished_at >= ? ORDER BY idx')
      .pluck()
      .all(since) as number[];
  }

  /** Marks the set closed (one transaction) and gives the file up. */
  markClosed(info: CloseInfo): void {
    this.#db.transaction(() => {
      const put = this.#db.prepare('INSERT OR REPLACE INTO set_info (key, value) VALUES (?, ?)');
      put.run('state', 'closed');
      put.run('closed_at', String(info.at));
      put.run('close_reason', info.reason);
      put.run('close_message', info.message);
      this.#db.prepare(`DELETE FROM set_info WHERE key IN ('writer_pid', 'writer_host')`).run();
    })();
  }

  /** Closes the database connection (a writer's WAL is checkpointed). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.writable)
      try {
        writing.delete(realpathSync(this.path));
      } catch {
        // the file was removed under us: nothing to release
      }
    this.#db.close();
  }
}

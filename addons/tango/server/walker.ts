/**
 * `concert tango walker`: the Tango device of Python Concert's `TangoRemoteWalker`
 * (concert/ext/tangoservers/walker.py), backed by our directory walker and TIFF writers. Same
 * attributes (root, current, writer_class, dsetname, bytes_per_file, start_index, endpoint) and
 * commands (descend, ascend, exists, write_sequence, register_logger, deregister_logger, log,
 * log_to_json, connect_endpoint, disconnect_endpoint, reset_connection, cancel), so Python
 * Concert's `RemoteDirectoryWalker` and Tango `ImageWriter` drive it as they drive theirs.
 *
 * Unlike Python Concert's, it never leaves its `--root`: a root, current directory or file name
 * that leads outside is refused with a DevFailed naming the limit.
 * @module
 */
import { appendFile, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Frame } from '../../../core/index.js';
import { DevFailed, defineDevice, type DeviceDefinition, type TangoDevice } from '../../../tango/server/index.js';
import { DirectoryWalker } from '../../../walkers/index.js';
import { StreamReception, type StreamReceptionOptions } from './processing.js';

/** Options of {@link walkerDevice}. */
export interface WalkerDeviceOptions extends StreamReceptionOptions {
  /** The directory clients may not leave (default: the working directory). */
  root?: string;
}

/** Writer classes clients may choose (Python Concert's name; TIFF files either way). */
const WRITERS = ['TiffWriter'];

const isBelow = (root: string, path: string): boolean => {
  const r = relative(root, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

/** The TangoRemoteWalker device class. */
export function walkerDevice(options: WalkerDeviceOptions = {}): DeviceDefinition {
  const limit = resolve(options.root ?? process.cwd());
  let device: TangoDevice | undefined;
  const stream = new StreamReception(() => device!, options);
  let root = limit;
  let current = limit;
  let writerClass = 'TiffWriter';
  let dsetname = 'frame_{:>06}.tif';
  let bytesPerFile = 0;
  let startIndex = 0;
  const loggers = new Set<string>();

  /** An absolute path below the limit, resolved from `base`. @throws DevFailed otherwise. */
  const inside = (path: string, base: string, what: string): string => {
    const target = resolve(base, path);
    if (!isBelow(limit, target))
      throw new DevFailed('Concert_OutsideRoot', `${what} ${target} is outside ${limit}, the server's --root`);
    return target;
  };
  const fileIn = (name: string, what: string): string => {
    if (!name || name.includes('/') || name === '..' || name === '.')
      throw new DevFailed('Concert_BadFileName', `${what} must be a file name without /, got ${JSON.stringify(name)}`);
    return inside(name, current, what);
  };

  return defineDevice({
    className: 'TangoRemoteWalker',
    description: 'Tango device for a filesystem walker in a remote server (Concert for TypeScript)',
    initialState: 'STANDBY',
    init: async (d) => {
      device = d;
      await stream.close();
      await mkdir(limit, { recursive: true });
      root = current = await realpath(limit);
      loggers.clear();
    },
    delete: () => stream.close(),
    attributes: {
      ...stream.attributes(),
      current: {
        type: 'DevString',
        label: 'Current',
        description: 'current directory of context for remote file system walker',
        read: () => current,
        write: (path: string) => void (current = inside(path, root, 'current directory')),
      },
      root: {
        type: 'DevString',
        label: 'Root',
        description: 'root directory for the remote file system walker',
        read: () => root,
        write: async (path: string) => {
          const target = inside(path, limit, 'root');
          await mkdir(target, { recursive: true, mode: 0o750 });
          root = target;
        },
      },
      writer_class: {
        type: 'DevString',
        label: 'WriterClass',
        access: 'WRITE',
        initial: 'TiffWriter',
        write: (klass: string) => {
          if (!WRITERS.includes(klass))
            throw new DevFailed(
              'Concert_UnknownWriter',
              `writer_class must be one of ${WRITERS.join(', ')}, got ${klass}`,
            );
          writerClass = klass;
        },
      },
      dsetname: {
        type: 'DevString',
        label: 'Dsetname',
        access: 'WRITE',
        initial: 'frame_{:>06}.tif',
        write: (v: string) => void (dsetname = v),
      },
      bytes_per_file: {
        type: 'DevLong64',
        label: 'BytesPerFile',
        access: 'WRITE',
        initial: 0n,
        write: (v: bigint) => {
          if (v < 0n) throw new DevFailed('Concert_BadValue', `bytes_per_file must be >= 0, got ${v}`);
          bytesPerFile = Number(v);
        },
      },
      start_index: {
        type: 'DevLong64',
        label: 'StartIndex',
        access: 'WRITE',
        initial: 0n,
        write: (v: bigint) => {
          if (v < 0n) throw new DevFailed('Concert_BadValue', `start_index must be >= 0, got ${v}`);
          startIndex = Number(v);
        },
      },
    },
    commands: {
      ...stream.commands(),
      descend: {
        in: 'DevString',
        handler: async (name: string) => {
          const target = inside(name, current, 'directory');
          await mkdir(target, { recursive: true, mode: 0o750 });
          current = target;
        },
      },
      ascend: {
        handler: () => {
          if (current === root) throw new DevFailed('StorageError', `Cannot break out of \`${root}'.`);
          current = dirname(current);
        },
      },
      exists: {
        in: 'DevVarStringArray',
        out: 'DevBoolean',
        inDescription: 'path(s) to check if they exist',
        handler: async (paths: string[]) => {
          const target = inside(join(...(paths.length ? paths : ['.'])), current, 'path');
          return stat(target).then(
            () => true,
            () => false,
          );
        },
      },
      write_sequence: {
        in: 'DevString',
        handler: async (name: string) => {
          const target = name ? inside(name, current, 'dataset directory') : current;
          if (target === limit)
            throw new DevFailed('Concert_OutsideRoot', `cannot write a dataset into ${limit} itself: descend first`);
          const walker = await DirectoryWalker.create({
            root: dirname(target),
            dsetname,
            bytesPerFile,
            startIndex,
          });
          const writer = await walker.writer(basename(target));
          void writerClass;
          await stream.run(
            name || basename(target),
            (frame: Frame) => writer.write(frame),
            async (ok) => {
              if (ok) await writer.close();
              else await writer.close().catch(() => writer.abort());
              await walker.flush();
            },
          );
        },
      },
      register_logger: {
        in: 'DevVarStringArray',
        out: 'DevString',
        inDescription: 'log_name, log_level and file_name for logging',
        outDescription: 'absolute log file path as an identifier for the logger',
        handler: async (args: string[]) => {
          if (args.length !== 3)
            throw new DevFailed(
              'Concert_BadArguments',
              `register_logger needs [logger name, level, file name], got ${args.length} strings`,
            );
          const path = fileIn(args[2]!, 'log file');
          await appendFile(path, '');
          loggers.add(path);
          return path;
        },
      },
      deregister_logger: {
        in: 'DevString',
        inDescription: 'unique identifier for logger',
        handler: (path: string) => {
          if (!loggers.delete(path)) throw new DevFailed('Concert_UnknownLogger', `no logger ${path} is registered`);
        },
      },
      log: {
        in: 'DevVarStringArray',
        inDescription: 'payload for logging, includes log_path as identifier, log_level and message',
        handler: async (args: string[]) => {
          const [path, , message] = args;
          if (path === undefined || message === undefined)
            throw new DevFailed('Concert_BadArguments', 'log needs [log path, level, message]');
          if (loggers.has(path)) await appendFile(path, `${message}\n`);
        },
      },
      log_to_json: {
        in: 'DevVarStringArray',
        inDescription: 'metadata for an experiment as a serialized dictionary',
        handler: async (args: string[]) => {
          const [payload, filename] = args;
          if (payload === undefined || filename === undefined)
            throw new DevFailed('Concert_BadArguments', 'log_to_json needs [payload, file name]');
          await writeFile(fileIn(filename, 'JSON file'), payload, 'utf8');
        },
      },
    },
  });
}

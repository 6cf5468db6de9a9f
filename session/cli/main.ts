/**
 * The `concert` command line: parses argv with commander and runs one of `session/cli/<command>.ts`
 * (imported lazily, so `concert show` does not pay for what `concert start` loads). A plain
 * `concert start …` skips commander (start-args.ts); commander is loaded with `require`, which
 * spares node's scan of a CommonJS module's exports for an `import`.
 * @module
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseStartArgs } from './start-args.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** Wraps a command's action: errors print as `Sorry, …` on stderr and set exit status 1. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void | number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      // (imported here: it loads core, which `concert --version` or `show` need not wait for)
      (await import('../errors.js')).printCliError(error);
      process.exitCode = 1;
    }
  };
}

/** Builds the command tree (exported for tests of the help texts). */
export function program(): Command {
  const { Command, Option } = createRequire(import.meta.url)('commander') as typeof import('commander');
  const cli = new Command('concert')
    .description('Concert: run experiment sessions (TypeScript files with devices and helpers) in an interactive REPL.')
    .version(version(), '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .enablePositionalOptions();

  cli
    .command('init')
    .description('create a session from the template')
    .argument('<name>', 'session name')
    .option('-f, --force', 'overwrite an existing session')
    .action(run(async (name: string, o: { force?: boolean }) => (await import('./init.js')).init(name, o)));

  cli
    .command('edit')
    .description('edit a session in $EDITOR (created from the template if missing)')
    .argument('<name>', 'session name')
    .action(run(async (name: string) => (await import('./edit.js')).edit(name)));

  cli
    .command('show')
    .description("print a session's manual (its leading doc comment), or list the sessions")
    .argument('[name]', 'session name')
    .action(run(async (name: string | undefined) => (await import('./show.js')).show(name)));

  cli
    .command('log')
    .description('print concert.log (only the lines of session NAME if given)')
    .argument('[name]', 'session name')
    .option('-f, --follow', 'keep printing lines as they are appended (Ctrl-C to stop)')
    .action(run(async (name: string | undefined, o: { follow?: boolean }) => (await import('./log.js')).log(name, o)));

  cli
    .command('mv')
    .description('rename a session')
    .argument('<source>', 'session name')
    .argument('<target>', 'new name')
    .action(run(async (a: string, b: string) => (await import('./mv.js')).mv(a, b)));

  cli
    .command('cp')
    .description('copy a session')
    .argument('<source>', 'session name')
    .argument('<target>', 'name of the copy')
    .action(run(async (a: string, b: string) => (await import('./cp.js')).cp(a, b)));

  cli
    .command('rm')
    .description('remove sessions')
    .argument('<names...>', 'session names')
    .action(run(async (names: string[]) => (await import('./rm.js')).rm(names)));

  cli
    .command('import')
    .description('import a session file (.ts) or a zip made by `concert export`, from a path or an http(s) URL')
    .argument('<source>', 'path or URL')
    .option('-f, --force', 'overwrite existing sessions')
    .action(
      run(async (source: string, o: { force?: boolean }) => (await import('./import.js')).importSession(source, o)),
    );

  cli
    .command('export')
    .description('write sessions into a zip file')
    .argument('<names...>', 'session names')
    .option('-o, --out <file>', 'zip file to write (default NAME.zip, or sessions.zip for several)')
    .action(
      run(async (names: string[], o: { out?: string }) => (await import('./export.js')).exportSessions(names, o)),
    );

  cli
    .command('start')
    .description('start a session (the shipped `demo` works on a fresh install); without NAME, an empty session')
    .argument('[name]', 'session name')
    .option('--filename <file>', 'run this session file instead of one from the store')
    .option('--non-interactive', 'run the session to completion and exit with its status')
    .option(
      '--dry-run',
      'load the session, estimate every experiment it exports (frames, bytes, duration, limits), print the tables ' +
        'and exit: 1 when a run would hit a limit',
    )
    .addOption(new Option('--logto <where>', 'where log lines go').choices(['stderr', 'file']).default('file'))
    .option('--logfile <file>', 'log file (default concert.log in the session directory)')
    .addOption(
      new Option('--loglevel <level>', 'lowest level logged')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option('--no-progress', 'do not show progress bars')
    .action(run(async (name: string | undefined, o: StartCliOptions) => (await import('./start.js')).start(name, o)));

  cli
    .command('serve')
    .description('run a server (writer, live, benchmarker, camera, reco) until SIGTERM; without KIND, list them')
    .argument('[kind]', 'server kind')
    .option('--bind <address>', 'address to bind the control endpoint to', '127.0.0.1')
    .option('--port <port>', 'control port (default: a free one, printed)')
    .option('--root <dir>', 'writer: root directory of the walker (default: the working directory)')
    .option(
      '--curve-keys <dir>',
      'encrypt with the CURVE keys in DIR (created if missing) and accept only the clients in DIR/authorized',
    )
    .option('--authorized-keys <dir>', 'with --curve-keys: the allow-list directory (default DIR/authorized)')
    .option('--width <px>', 'camera: sensor width of the dummy camera')
    .option('--height <px>', 'camera: sensor height of the dummy camera')
    .option('--frame-rate <hz>', 'camera: frame rate')
    .option('--files <pattern>', 'camera: replay these TIFF files (directory, glob or file) instead of a dummy camera')
    .option('--ffmpeg <source>', 'camera: frames decoded by ffmpeg from /dev/videoN, rtsp://…, a video file or lavfi:…')
    .option('--pixel-format <format>', 'camera (--ffmpeg): gray8 (default), gray16le or rgb24 (colour)')
    .option('--no-simulate', 'camera: send the background without noise (fast)')
    .option('--buffer-frames <n>', 'camera (dummy): frames held for a consumer that falls behind (default 16)')
    .option('--web-port <port>', 'live: show the frames in the web viewer on this port (0: a free one)')
    .addOption(
      new Option('--loglevel <level>', 'lowest level logged to stderr').choices(['debug', 'info', 'warn', 'error']),
    )
    .action(
      run(async (kind: string | undefined, o: Record<string, string | undefined>) =>
        (await import('./serve.js')).serve(kind, o),
      ),
    );

  const keys = cli
    .command('keys')
    .description('CURVE keys: create key pairs, list them, authorize or revoke the clients servers accept');
  const dirOption = () => new Option('--dir <dir>', 'key directory (default $CONCERT_KEYS or ~/.concert/keys)');
  keys
    .command('create')
    .description('create a key pair NAME.key / NAME.key_secret')
    .argument('<name>', 'key name')
    .addOption(dirOption())
    .action(
      run(async (name: string, o: { dir?: string }) => void (await (await import('./keys.js')).createKey(name, o))),
    );
  keys
    .command('list')
    .description('list the key pairs and the authorized client keys')
    .addOption(dirOption())
    .action(run(async (o: { dir?: string }) => (await import('./keys.js')).listKeys(o)));
  keys
    .command('authorize')
    .description('let a client in: its public key (Z85) or .key file goes into DIR/authorized')
    .argument('<key>', 'a Z85 public key or a .key file')
    .option('--name <name>', 'name of the authorized key file')
    .addOption(dirOption())
    .action(
      run(
        async (key: string, o: { dir?: string; name?: string }) =>
          void (await (await import('./keys.js')).authorizeKey(key, o)),
      ),
    );
  keys
    .command('revoke')
    .description('remove a client key from DIR/authorized (running servers drop its connections)')
    .argument('<key>', 'the authorized name or the Z85 key')
    .addOption(dirOption())
    .action(run(async (key: string, o: { dir?: string }) => (await import('./keys.js')).revokeKey(key, o)));

  cli
    .command('tango')
    .description(
      "run a Tango device server (walker, benchmarker, reco) as Python Concert's `concert tango`; without KIND, list them",
    )
    .argument('[kind]', 'server kind')
    .option('--port <port>', 'GIOP port (default 1234, as Python Concert; 0: a free one)')
    .option('--device <name>', 'device name (default concert/tango/KIND)')
    .option('--bind <address>', 'address to bind to', '127.0.0.1')
    .option('--root <dir>', 'walker, reco: the directory clients may not leave (default: the working directory)')
    .option('--idle-timeout <ms>', 'fail a stream with no frame for this long (default 30000)')
    .option('--no-database', 'stay without a Tango database even when TANGO_HOST is set')
    .option(
      '--allow-address <ips>',
      'accept event subscribers (PyTango clients) only from these comma-separated IP addresses; others are refused and logged',
    )
    .addOption(
      new Option('--loglevel <level>', 'lowest level logged to stderr').choices(['debug', 'info', 'warn', 'error']),
    )
    .action(
      run(async (kind: string | undefined, o: Record<string, string | boolean | undefined>) =>
        (await import('./tango.js')).tango(kind, o),
      ),
    );

  cli
    .command('broadcast')
    .description('forward one incoming stream to several destinations, each lossless (push) or latest-wins (pub)')
    .requiredOption('--from <endpoint>', 'the sender to connect to, e.g. tcp://127.0.0.1:8992')
    .option(
      '--to <destination>',
      'push:ENDPOINT or pub:ENDPOINT to bind (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .addOption(new Option('--input <mode>', 'how to read the incoming stream').choices(['pull', 'sub']))
    .option('--curve-keys <dir>', 'encrypt and authenticate with the CURVE keys in DIR')
    .action(
      run(async (o: { from?: string; to?: string[]; input?: string; curveKeys?: string }) =>
        (await import('./broadcast.js')).broadcast(o),
      ),
    );

  cli
    .command('movie')
    .description('make an mp4 from a TIFF dataset (file or acquisition folder) or a folder of PNG/JPEG/TIFF frames')
    .argument('<source>', 'TIFF file, or folder of frames (sorted numerically)')
    .argument('<out>', 'the movie to write (.mp4)')
    .option('--fps <n>', 'frames per second', '30')
    .option('--size <WxH>', 'scale into WxH (even numbers), keeping the aspect ratio, padded')
    .option('--contrast <c>', 'how 16-bit/float frames map to 8 bits: auto, frame or MIN,MAX', 'auto')
    .option('--crf <n>', 'x264 quality, 0 (lossless) to 51', '18')
    .option('--overlay', 'burn in the frame number and angle')
    .option('--erase-frames', 'delete the frame files once the movie is written and verified')
    .action(
      run(async (source: string, out: string, o: Record<string, string | boolean | undefined>) =>
        (await import('./movie.js')).movie(source, out, o),
      ),
    );

  cli
    .command('record')
    .description('record a ZeroMQ stream (tcp://HOST:PORT) or a websocket (ws://…) into a recording (.clog)')
    .argument('<source>', "a camera server's PUSH/PUB endpoint or a websocket URI")
    .argument('<out>', 'the recording to write (.clog)')
    .option('--duration <time>', 'stop after this long (10s, 500ms, 2m); default: until SIGINT/SIGTERM')
    .addOption(
      new Option('--mode <mode>', 'ZeroMQ: pull (PUSH endpoint, every frame) or sub (PUB)').choices(['pull', 'sub']),
    )
    .option('--until-end', 'stop when the stream sends its end marker')
    .action(
      run(async (source: string, out: string, o: Record<string, string | boolean | undefined>) =>
        (await import('./record.js')).record(source, out, o),
      ),
    );

  const conductor = cli
    .command('conductor')
    .description('record with many camera servers from one configuration file (a camera colony)');
  conductor
    .command('check')
    .description('list every problem of a configuration file, or print it with the defaults filled in')
    .argument('<file>', 'configuration (.toml, .yaml, .yml, .json)')
    .action(run(async (file: string) => (await import('./conductor.js')).check(file)));
  conductor
    .command('convert')
    .description('convert an RPi Camera Colony (ConfigObj) configuration into a conductor configuration')
    .argument('<rcc>', 'the RCC configuration file')
    .argument('<out>', 'the configuration to write (.toml, .yaml, .json)')
    .option('--camera-port <port>', "port of the camera servers on the controllers' addresses", '8980')
    .option(
      '--endpoint <name=endpoint>',
      'the endpoint of one camera, e.g. top=tcp://127.0.0.1:9001 (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('-f, --force', 'replace OUT if it exists')
    .action(
      run(async (rcc: string, out: string, o: { cameraPort?: string; endpoint?: string[]; force?: boolean }) =>
        (await import('./conductor.js')).convert(rcc, out, o),
      ),
    );
  conductor
    .command('run')
    .description('record with every camera (a live table; Ctrl-C stops every camera cleanly and exits non-zero)')
    .requiredOption('--config <file>', 'the configuration')
    .option('--acquisition-name <name>', 'name of the recording (group__name sets the group)')
    .option('--duration <time>', 'stop after this long (20s, 2m); default: until Ctrl-C or maxAcquisitionTime')
    .option('--log-file <file>', "the conductor's log file (default: log.file of the configuration)")
    .action(
      run(async (o: { config: string; acquisitionName?: string; duration?: string; logFile?: string }) =>
        (await import('./conductor.js')).run(o),
      ),
    );
  conductor
    .command('read')
    .description('a table of a recorded acquisition (frames, fps from timestamps, drops, duration, completeness)')
    .argument('<dir>', 'the acquisition folder (holding one folder per camera)')
    .action(run(async (dir: string) => (await import('./conductor.js')).read(dir)));
  conductor
    .command('stop')
    .description('stop recordings that an earlier conductor left running on the cameras of a configuration')
    .requiredOption('--config <file>', 'the configuration')
    .action(run(async (o: { config: string }) => (await import('./conductor.js')).stop(o)));

  const recording = cli
    .command('recording')
    .description('inspect a recording (.clog) or turn it into a movie or TIFFs');
  recording
    .command('info')
    .description('records, frames, shape and dtype, duration, measured fps, cut short or not')
    .argument('<log>', 'the recording')
    .action(run(async (log: string) => (await import('./recording.js')).info(log)));
  recording
    .command('video')
    .description("the recording's frames as an mp4 (fps measured from the receive times unless given)")
    .argument('<log>', 'the recording')
    .argument('<out>', 'the movie to write (.mp4)')
    .option('--fps <n>', 'auto or frames per second', 'auto')
    .option('--size <WxH>', 'scale into WxH (even numbers), keeping the aspect ratio, padded')
    .option('--contrast <c>', 'auto, frame or MIN,MAX', 'auto')
    .option('--crf <n>', 'x264 quality, 0 (lossless) to 51', '18')
    .option('--overlay', 'burn in the frame number and angle')
    .option('--acquisition <name>', 'only the frames of this acquisition')
    .action(
      run(async (log: string, out: string, o: Record<string, string | boolean | undefined>) =>
        (await import('./recording.js')).video(log, out, o),
      ),
    );
  recording
    .command('export')
    .description("the recording's frames as a TIFF dataset (frame_000000.tif, …)")
    .argument('<log>', 'the recording')
    .argument('<dir>', 'the folder to write')
    .option('--acquisition <name>', 'only the frames of this acquisition')
    .action(
      run(async (log: string, dir: string, o: { acquisition?: string }) =>
        (await import('./recording.js')).exportTiff(log, dir, o),
      ),
    );

  const set = cli
    .command('set')
    .description('read the output set of a streaming step (its SQLite file), also while it is written');
  set
    .command('info')
    .description('print the items, failures, state and rate of a set')
    .argument('<file>', 'set file (.sqlite)')
    .option('--json', 'print JSON')
    .action(run(async (file: string, o: { json?: boolean }) => (await import('./set.js')).setInfo(file, o)));
  set
    .command('watch')
    .description('print the items of a set as they land, until it closes (Ctrl-C to stop)')
    .argument('<file>', 'set file (.sqlite)')
    .option('--from <index>', 'first item to print (default: the last 10 already there)')
    .option('--json', 'print one JSON object per item')
    .action(
      run(async (file: string, o: { from?: string; json?: boolean }) => (await import('./set.js')).setWatch(file, o)),
    );
  // `--version` works on every command, as the docs say (`concert start --version`).
  const addVersion = (command: Command) => {
    for (const sub of command.commands) {
      if (!sub.options.some((o) => o.long === '--version'))
        sub.version(version(), '--version', 'print the version and exit');
      addVersion(sub);
    }
  };
  addVersion(cli);
  return cli;
}

/** The options of `concert start` as commander parses them. */
export interface StartCliOptions {
  filename?: string;
  nonInteractive?: boolean;
  dryRun?: boolean;
  logto: 'stderr' | 'file';
  logfile?: string;
  loglevel: 'debug' | 'info' | 'warn' | 'error';
  progress: boolean;
}

/** Runs the `concert` command with `argv` (without `node` and the script). */
export async function main(argv: string[]): Promise<void> {
  // `concert help CMD` is `concert CMD --help`; `concert help --help` is `concert --help` (exit 0).
  if (argv[0] === 'help') argv = [...argv.slice(1).filter((a) => a !== '--help' && a !== '-h'), '--help'];
  const start = parseStartArgs(argv);
  if (start) return run(async () => (await import('./start.js')).start(start.name, start.options))();
  await program().parseAsync(argv, { from: 'user' });
}

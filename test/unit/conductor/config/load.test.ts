import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  configViolations,
  convertRccText,
  loadConfig,
  parseConfigObj,
  rccToToml,
  resolveCamera,
  validateConfig,
} from '../../../../conductor/index.js';
import { useTempDir } from '../../walkers/formats/helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const corpus = join(here, 'invalid');

describe('conductor/config', () => {
  const tmp = useTempDir();

  it('fills in the defaults of a minimal configuration', () => {
    const config = validateConfig({ cameras: { top: { endpoint: 'tcp://127.0.0.1:9001' } } });
    assert.equal(config.general.maxAcquisitionTime, 7200);
    assert.equal(config.general.saveData, true);
    assert.equal(config.general.format, 'tiff');
    assert.equal(config.general.onCameraLost, 'continue');
    assert.equal(config.control.timeout, 3);
    assert.equal(config.cameras.top!.frameRate, 90);
    assert.equal(config.cameras.top!.triggerSource, 'AUTO');
    assert.equal(config.log.level, 'info');
  });

  it('general saveData and format override the cameras unless overrideCameras is false', () => {
    const raw = {
      general: { saveData: false, format: 'mp4' as const },
      cameras: { top: { endpoint: 'tcp://h:1', saveData: true, format: 'tiff' as const } },
    };
    const over = resolveCamera(validateConfig(raw), 'top');
    assert.deepEqual([over.saveData, over.format], [false, 'mp4']);
    const own = resolveCamera(validateConfig({ ...raw, general: { ...raw.general, overrideCameras: false } }), 'top');
    assert.deepEqual([own.saveData, own.format], [true, 'tiff']);
  });

  it('reads TOML, YAML and JSON alike', async () => {
    const toml = join(tmp.path, 'c.toml');
    const yaml = join(tmp.path, 'c.yaml');
    const json = join(tmp.path, 'c.json');
    await writeFile(toml, '[general]\nacquisitionName = "a"\n[cameras.top]\nendpoint = "tcp://h:1"\nsize = [64, 48]\n');
    await writeFile(
      yaml,
      'general:\n  acquisitionName: a\ncameras:\n  top:\n    endpoint: tcp://h:1\n    size: [64, 48]\n',
    );
    await writeFile(
      json,
      JSON.stringify({
        general: { acquisitionName: 'a' },
        cameras: { top: { endpoint: 'tcp://h:1', size: [64, 48] } },
      }),
    );
    const [a, b, c] = await Promise.all([loadConfig(toml), loadConfig(yaml), loadConfig(json)]);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
    assert.deepEqual(JSON.parse(JSON.stringify(b)), JSON.parse(JSON.stringify(c)));
  });

  it(`lists every violation of each file of the invalid corpus at once, with its path`, async () => {
    const expected = JSON.parse(await readFile(join(corpus, 'expected.json'), 'utf8')) as Record<string, string[]>;
    const files = (await readdir(corpus)).filter((f) => f !== 'expected.json').sort();
    assert.ok(files.length >= 30, `${files.length} invalid files`);
    assert.deepEqual(files, Object.keys(expected).sort(), 'every file has its expectations');
    for (const file of files) {
      const error = await loadConfig(join(corpus, file)).then(
        () => assert.fail(`${file} was accepted`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConfigError, `${file}: ${String(error)}`);
      for (const words of expected[file]!)
        assert.ok(error.message.includes(words), `${file}: expected "${words}" in:\n${error.message}`);
      assert.ok(error.message.startsWith(join(corpus, file)), `${file}: the message names the file`);
    }
  });

  it('reports problems in the order of the file, each once', () => {
    const v = configViolations({
      general: { maxAcquisitionTime: 9000, format: 'avi' },
      cameras: { top: { endpoint: 'x', frameRate: 120 } },
    });
    assert.deepEqual(
      v.map((x) => x.path),
      ['general.maxAcquisitionTime', 'general.format', 'cameras.top.endpoint', 'cameras.top.frameRate'],
    );
  });

  describe('RCC files (ConfigObj)', () => {
    it('parses sections nested by brackets, quotes, lists, multi-line strings and comments', () => {
      const parsed = parseConfigObj(
        'a = 1 # one\nb = \'x, y\'\nc = 1, 2,\nd = one,\n[s]\n  e = """two\nlines"""\n  [[t]]\n    f =\n',
      );
      assert.deepEqual(parsed, { a: '1', b: 'x, y', c: ['1', '2'], d: ['one'], s: { e: 'two\nlines', t: { f: '' } } });
      assert.throws(
        () => parseConfigObj('[a]\n[[[b]]]\n'),
        /line 2: section \[\[\[b\]\]\] is nested more than one level/,
      );
      assert.throws(() => parseConfigObj('just text\n'), /line 1: expected 'key = value'/);
    });

    it('converts an RCC configuration, listing what it did not convert', async () => {
      const text = await readFile(join(here, 'rcc', 'rcc.config'), 'utf8');
      const conversion = convertRccText(text, 'rcc.config', {
        cameraPort: 8980,
        endpoints: { side: 'tcp://127.0.0.1:8981' },
      });
      const c = conversion.resolved;
      assert.equal(c.general.acquisitionName, '_test_rcc_name_config');
      assert.equal(c.general.maxAcquisitionTime, 30);
      assert.equal(c.log.level, 'debug');
      assert.equal(c.control.address, '127.0.0.1');
      assert.deepEqual(Object.keys(c.cameras), ['top', 'side']);
      assert.equal(c.cameras.top!.endpoint, 'tcp://127.0.0.1:8980');
      assert.deepEqual(c.cameras.top!.size, [64, 48]);
      assert.equal(c.cameras.top!.mirror, true);
      assert.equal(c.cameras.side!.description, 'side\nview');
      for (const key of ['rpi_username', 'ttl_out_pin', 'iso', 'zoom', 'log_to_console'])
        assert.ok(
          conversion.notes.some((n) => n.includes(key)),
          `a note on ${key}: ${conversion.notes.join('\n')}`,
        );
      // the TOML it writes reads back as the same configuration
      const out = join(tmp.path, 'out.toml');
      await writeFile(out, rccToToml(conversion, 'rcc.config'));
      assert.deepEqual(JSON.parse(JSON.stringify(await loadConfig(out))), JSON.parse(JSON.stringify(c)));
    });

    it('reports every value of the wrong type at once', () => {
      assert.throws(
        () =>
          convertRccText(
            '[general]\nmax_acquisition_time = soon\n[controllers]\n[[a]]\naddress = 1.2.3.4\nframerate = fast\nresolution = 640\n[[b]]\n',
            'bad.config',
          ),
        (e: unknown) =>
          e instanceof ConfigError &&
          /general\.max_acquisition_time: must be a number, got "soon"/.test(e.message) &&
          /controllers\.a\.framerate: must be a number/.test(e.message) &&
          /controllers\.a\.resolution: must be two whole numbers/.test(e.message) &&
          /controllers\.b\.address: is missing/.test(e.message),
      );
    });
  });
});

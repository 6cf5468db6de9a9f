// Child-process entry for tests: `node --import tsx serve-entry.ts <kind> '<options json>'`.
import { serveForever } from '../../addons/remote/serve.js';

const [kind, json] = process.argv.slice(2);
await serveForever(kind!, JSON.parse(json ?? '{}'));
process.exit(0);

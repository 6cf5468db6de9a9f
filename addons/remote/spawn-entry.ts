// Child-process entry of spawnServer(): `node --import tsx spawn-entry.ts <kind> '<options json>'`.
import { serveForever } from './serve.js';

const [kind, json] = process.argv.slice(2);
await serveForever(kind!, JSON.parse(json ?? '{}'));
process.exit(0);

/**
 * `count` idle broker-mode sidecars in one process: each follows its bottle's changes with the
 * long poll a sidecar's downward dispatcher holds, and sends the heartbeat every 30 s, as a real
 * one does. Nothing else: the bench measures what the broker spends on them.
 */
import { openSidecarStore, type SidecarStorage } from '../../sidecar/startup.js';
import { benchBottleKeysDir } from '../keys.js';
import { failOnError, next, send } from '../lib/worker.js';
import { SCHEMA_VERSION } from '../../src/storage/schema-version.js';

failOnError();
const [file, brokerUrl, countText] = process.argv.slice(2) as [string, string, string];
const HEARTBEAT_MS = 30_000;
const stores: SidecarStorage[] = [];
for (let i = 0; i < Number(countText); i++) {
  const slug = `idle-${i}`;
  const storage = await openSidecarStore(slug, { keysDir: benchBottleKeysDir(file, slug), brokerUrl });
  storage.queue.subscribe({ target: 'sidecar', types: ['created'] }, () => {});
  stores.push(storage);
}
const beat = () => Promise.all(stores.map((s) => s.bottle.recordHeartbeat({ sidecarVersion: 'bench', schemaVersion: SCHEMA_VERSION, liveRoutes: undefined })));
await beat();
const timer = setInterval(() => void beat(), HEARTBEAT_MS);
send({ type: 'ready' });
await next('stop');
clearInterval(timer);
await Promise.all(stores.map((s) => s.close()));
process.exit(0);

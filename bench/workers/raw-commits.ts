/** The raw commit rate: single-row INSERT transactions (BEGIN IMMEDIATE) with openConnection's pragmas. */
import { randomUUID } from 'node:crypto';
import { openConnection } from '../../src/storage/connection.js';
import { JUSTIFICATION, routesYaml } from '../lib/fixtures.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, countText] = process.argv.slice(2) as [string, string];
const count = Number(countText);
const db = openConnection(file);
db.exec('CREATE TABLE IF NOT EXISTS raw_commits (id TEXT PRIMARY KEY, payload TEXT NOT NULL, justification TEXT NOT NULL, created_at INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO raw_commits (id, payload, justification, created_at) VALUES (?, ?, ?, ?)');
const payload = routesYaml(1);
const commit = db.transaction(() => insert.run(randomUUID(), payload, JUSTIFICATION, Date.now()));
for (let i = 0; i < 50; i++) commit.immediate();
send({ type: 'ready' });
await next('go');
const started = performance.now();
for (let i = 0; i < count; i++) commit.immediate();
send({ type: 'result', seconds: (performance.now() - started) / 1000, count });
await next('stop');
db.close();
process.exit(0);

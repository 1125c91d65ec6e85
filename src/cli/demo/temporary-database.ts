import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openHostDatabase, type SuperviseDatabase } from '../../database.js';
import { environmentError } from '../../storage/environment-errors.js';

/** Where the demo's own database and keys live while it runs, so it leaves nothing in the operator's append-only log. */
export interface DemoPlace {
  database: SuperviseDatabase;
  keysDir: string;
}

/** Runs `run` on a fresh database and key directory in a private temporary directory, removed afterwards. */
export async function withTemporaryDatabase<T>(run: (place: DemoPlace) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-bottle-demo-'));
  try {
    const file = path.join(dir, 'bot-bottle.db');
    let database: SuperviseDatabase;
    const keysDir = path.join(dir, 'keys');
    try {
      database = await openHostDatabase({ path: file, keysDir, watch: true });
    } catch (error) {
      throw environmentError(error, file) ?? error;
    }
    try {
      return await run({ database, keysDir });
    } finally {
      await database.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

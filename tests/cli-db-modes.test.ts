/**
 * A database the host creates is 0600 whether it is the default layout's or one named with --db,
 * and so are the side files SQLite and the doorbells add beside it: the built CLI makes them, and a
 * real connection then opens the -wal and -shm files.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, type CliRun } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

let home: string;

beforeAll(assertBuilt);
beforeEach(() => {
  home = tempDir('cli-db-modes');
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const mode = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8).padStart(4, '0');

async function proposeInto(db: string[]): Promise<CliRun> {
  const payload = path.join(home, 'routes.yaml');
  fs.writeFileSync(payload, 'routes:\n  - host: api.github.com\n');
  return runCli([...db, 'propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload], { home });
}

/** Every file of the database at `file`, each with its mode, while a connection holds the -wal and -shm open. */
function modesWhileOpen(file: string): Record<string, string> {
  const db = new Database(file);
  try {
    db.prepare('SELECT count(*) FROM proposals').get();
    const dir = path.dirname(fs.realpathSync(file));
    const base = path.basename(fs.realpathSync(file));
    return Object.fromEntries(
      fs
        .readdirSync(dir)
        .filter((name) => name.startsWith(base))
        .map((name) => [name.slice(base.length) || '(database)', mode(path.join(dir, name))]),
    );
  } finally {
    db.close();
  }
}

describe('database file modes', () => {
  const everyFile = { '(database)': '0600', '-wal': '0600', '-shm': '0600', '-bell': '0600', '-bell.acme': '0600' };

  it('the default layout makes the database and its side files 0600', async () => {
    const run = await proposeInto([]);
    expect(run.code, run.stderr).toBe(2);
    expect(modesWhileOpen(path.join(home, '.bot-bottle', 'bot-bottle.db'))).toEqual(everyFile);
  });

  it('a database created with --db is 0600 too, with its -wal, -shm and bell files', async () => {
    const dir = path.join(home, 'elsewhere');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'named.db');
    const run = await proposeInto(['--db', file]);
    expect(run.code, run.stderr).toBe(2);
    expect(modesWhileOpen(file)).toEqual(everyFile);
    // Only the database's own files: the temporary name it was made under is gone.
    expect(fs.readdirSync(dir).filter((name) => !name.startsWith('named.db'))).toEqual([]);
  });

  it('db migrate --db also makes it 0600', async () => {
    const file = path.join(home, 'migrated.db');
    const run = await runCli(['--db', file, 'db', 'migrate'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(mode(file)).toBe('0600');
  });

  it('a --db in a directory that does not exist is refused with the fix, creating nothing', async () => {
    const file = path.join(home, 'missing', 'x.db');
    const run = await runCli(['--db', file, 'db', 'migrate'], { home });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`cannot create the database ${file}: the directory ${path.dirname(file)} does not exist. Create it (mkdir -p ${path.dirname(file)})`);
    expect(fs.readdirSync(home)).toEqual([]);
  });
});

// The sidecar's one rule for changing the live routes file, in process against real files, a real
// database and real reload commands: replace onto the file proposed against, merge onto a changed
// one, refuse a conflict or an unknown base as stale, and never write over a file that changed
// between reading it and replacing it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../src/core/hash.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { LiveRoutesFile, type ApprovedRoutes } from '../sidecar/live-routes.js';
import { applyRoutesFile } from '../sidecar/routes-file.js';
import { expectFailure, tempDir } from './fixtures/storage-support.js';

const BASE = 'routes:\n  - host: api.github.com\n';
const WITH_PYPI = `${BASE}  - host: pypi.org\n`;
const WITH_NPM = `${BASE}  - host: registry.npmjs.org\n`;
const WITH_GHCR = `${BASE}  - host: ghcr.io\n`;

let dir: string;
let file: string;
let database: SuperviseDatabase;
let changes: number;

beforeEach(async () => {
  dir = tempDir('live-routes');
  file = path.join(dir, 'routes.yaml');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
  changes = 0;
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function liveFile(reloadCommand?: string[]): LiveRoutesFile {
  return new LiveRoutesFile({
    file,
    reloadCommand,
    bottle: database.bottles.forSlug('acme'),
    log: () => undefined,
    onChanged: async () => {
      changes += 1;
    },
  });
}

const approved = (text: string, base: string | null = BASE, id = 'p-1'): ApprovedRoutes => ({
  proposalId: id,
  kind: 'egress-allow',
  base: base === null ? undefined : { hash: sha256(base), text: base },
  approved: text,
});
const actions = (): string[] => database.audit.readAuditEntries().map((entry) => `${entry.action}:${entry.status}`);

describe('LiveRoutesFile.apply', () => {
  it('concurrent approvals made against the same file are applied one after another, the later merged onto the earlier', async () => {
    fs.writeFileSync(file, BASE);
    const live = liveFile();
    const [first, second] = await Promise.all([live.apply(approved(WITH_PYPI, BASE, 'p-1')), live.apply(approved(WITH_NPM, BASE, 'p-2'))]);
    expect(first.outcome).toBe('replaced');
    expect(second.outcome).toBe('merged');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${WITH_PYPI}  - host: registry.npmjs.org\n`);
    expect(changes).toBe(2);
    expect(actions()).toEqual(['routes-merged:merged']);
  });

  it('a second apply of what is already live writes nothing and runs no reload', async () => {
    fs.writeFileSync(file, WITH_PYPI);
    const reloads = path.join(dir, 'reloads');
    const outcome = await liveFile([process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(reloads)}, 'x')`]).apply(approved(WITH_PYPI));
    expect(outcome).toEqual({ outcome: 'already-live', file, sha256: sha256(WITH_PYPI) });
    expect(fs.existsSync(reloads)).toBe(false);
    expect(changes).toBe(0);
  });

  it('a proposal that does not carry the file it was made against is refused as stale once the live file changed', async () => {
    fs.writeFileSync(file, WITH_NPM);
    const outcome = await liveFile().apply({ ...approved(WITH_PYPI), base: { hash: sha256(BASE), text: null } });
    expect(outcome).toMatchObject({ outcome: 'stale', conflicts: [], reason: expect.stringContaining('does not carry the file it was made against') });
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_NPM);
    expect(actions()).toEqual(['routes-stale:stale']);
  });

  it('a base whose text is not the hashed file is not trusted to merge with', async () => {
    fs.writeFileSync(file, WITH_NPM);
    const outcome = await liveFile().apply({ ...approved(WITH_PYPI), base: { hash: sha256(BASE), text: WITH_NPM } });
    expect(outcome.outcome).toBe('stale');
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_NPM);
  });

  it('a failed reload is reported and audited; the live file stays what it was', async () => {
    fs.writeFileSync(file, WITH_NPM);
    const outcome = await liveFile([process.execPath, '-e', 'process.exit(3)']).apply(approved(WITH_PYPI));
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/reload command .* failed \(exit code 3\); the previous routes file was restored/) });
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_NPM);
    expect(actions()).toEqual(['routes-apply-failed:failed']);
    expect(changes).toBe(0);
  });

  it('without a base the approved file replaces whatever is live, reload included (the launcher naming no current file)', async () => {
    fs.writeFileSync(file, WITH_GHCR);
    expect((await liveFile().apply(approved(WITH_PYPI, null))).outcome).toBe('replaced');
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_PYPI);
  });

  it('an invalid live file cannot be merged into: the apply fails and the file is left alone', async () => {
    fs.writeFileSync(file, 'routes: [unclosed\n');
    const outcome = await liveFile().apply(approved(WITH_PYPI));
    expect(outcome).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^the live routes file is not a valid routes file \(line 2: .*\), so nothing can be merged with it\.$/) });
    expect(fs.readFileSync(file, 'utf8')).toBe('routes: [unclosed\n');
  });
});

describe('applyRoutesFile with an expected hash', () => {
  it('refuses to replace a file that is no longer the one expected, writing nothing', async () => {
    fs.writeFileSync(file, WITH_NPM);
    await expectFailure(() => applyRoutesFile(file, WITH_PYPI, undefined, { expectedHash: sha256(BASE) }), 'conflict', /changed while the new one was being prepared/);
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_NPM);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a missing file is the empty one', async () => {
    await applyRoutesFile(file, WITH_PYPI, undefined, { expectedHash: sha256('') });
    expect(fs.readFileSync(file, 'utf8')).toBe(WITH_PYPI);
  });
});

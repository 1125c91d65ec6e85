import type { ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore, canonicalAuditEntry, chainHash, GENESIS_HASH, type AuditEntry } from '../src/audit/audit-store.js';
import { auditRecord } from '../src/cli/audit/export.js';
import { safeJson } from '../src/core/safe-text.js';
import { openConnection } from '../src/storage/connection.js';
import { assertBuilt, killCliChildren, runCli, runCliOnTerminal, runFixture, spawnCli, type CliRun } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

interface Seeded {
  ids: string[];
  head: { hash: string; count: number };
}

let home: string;
let dbFile: string;
let seeded: Seeded;

const cli = (...args: string[]): Promise<CliRun> => runCli(['--db', dbFile, ...args], { home });
function json<T>(run: CliRun): T {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as T;
}

/** Raw SQL as an attacker with file access would run it: the append-only triggers dropped first. */
function tamper(sql: string): void {
  const db = new Database(dbFile);
  try {
    for (const trigger of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'`).pluck().all() as string[]) db.exec(`DROP TRIGGER "${trigger}"`);
    db.exec(sql);
  } finally {
    db.close();
  }
}

beforeAll(assertBuilt);

beforeEach(async () => {
  home = tempDir('cli-audit');
  dbFile = path.join(home, 'supervise.db');
  const seed = await runFixture('cli-seed.ts', [dbFile, '6'], { home });
  expect(seed.code, seed.stderr).toBe(0);
  seeded = JSON.parse(seed.stdout) as Seeded;
});

afterEach(killCliChildren);

describe('audit list', () => {
  it('lists newest first, with every filter, as a table or JSON', async () => {
    const all = json<AuditEntry[]>(await cli('audit', 'list', '--json'));
    expect(all.map((e) => e.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(all[0]).toMatchObject({ slug: 'zeta', status: 'modified', action: 'proposal-decision', kind: 'egress-allow', proposalId: seeded.ids[5] });

    expect(json<AuditEntry[]>(await cli('audit', 'list', '--json', '--bottle', 'acme')).map((e) => e.seq)).toEqual([5, 3, 1]);
    expect(json<AuditEntry[]>(await cli('audit', 'list', '--json', '--status', 'rejected')).map((e) => e.seq)).toEqual([5, 2]);
    expect(json<AuditEntry[]>(await cli('audit', 'list', '--json', '--kind', 'egress-allow', '--action', 'proposal-decision', '--component', 'egress', '--limit', '2')).map((e) => e.seq)).toEqual([6, 5]);
    expect(json<AuditEntry[]>(await cli('audit', 'list', '--json', '--since', '1h'))).toHaveLength(6);
    expect(json<AuditEntry[]>(await cli('audit', 'list', '--json', '--until', '2001-01-01'))).toEqual([]);

    const table = await cli('audit', 'list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+BOTTLE\s+COMPONENT\s+ACTION\s+KIND\s+STATUS\s+ACTOR\s+NOTES$/);
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^6\s+\S+ \S+Z\s+zeta\s+egress\s+proposal-decision\s+egress-allow\s+modified\s+operator\s+ok 5$/);
    expect(table.stdout).not.toContain('\u001b[');

    const none = await cli('audit', 'list', '--bottle', 'nobody');
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toMatch(/No audit entries match/);
  });

  it('refuses bad filters with the fix and a usage or input exit code', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--since', 'last tuesday'], 2, /--since "last tuesday" is not a time: use an ISO date/],
      [['--limit', '0'], 2, /--limit must be a positive whole number/],
      [['--since', '1h', '--until', '2h'], 2, /is not before --until/],
      [['--bottle', '../etc'], 3, /bottle slug "\.\.\/etc" contains a path separator/],
      [['--colour'], 2, /unknown option '--colour'/],
    ];
    for (const [args, code, message] of cases) {
      const run = await cli('audit', 'list', ...args);
      expect({ code: run.code, stderr: run.stderr }, args.join(' ')).toEqual({ code, stderr: expect.stringMatching(message) });
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('audit show', () => {
  it('shows one entry with its diff, coloured only on a terminal and never with NO_COLOR', async () => {
    const plain = await cli('audit', 'show', '3');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^Audit entry 3 of 6\n/);
    expect(plain.stdout).toContain(`proposal   ${seeded.ids[2]}`);
    expect(plain.stdout).toMatch(/hash\s+[0-9a-f]{64} \(matches the contents\)/);
    expect(plain.stdout).toContain('-  - host: base.example.com\n+  - host: api2.example.com\n+    path_allowlist: [/v1]');
    expect(plain.stdout).not.toContain('\u001b[');

    const terminal = await runCliOnTerminal(['--db', dbFile, 'audit', 'show', '3'], { home });
    expect(terminal.code).toBe(0);
    expect(terminal.stdout).toContain('\u001b[32m+  - host: api2.example.com');
    expect(terminal.stdout).toContain('\u001b[31m-  - host: base.example.com');

    const noColor = await runCliOnTerminal(['--db', dbFile, 'audit', 'show', '3'], { home, env: { NO_COLOR: '1' } });
    expect(noColor.stdout).toContain('+  - host: api2.example.com');
    expect(noColor.stdout).not.toContain('\u001b[3');

    const asJson = json<AuditEntry & { contentsMatchHash: boolean; time: string }>(await cli('audit', 'show', '3', '--json'));
    expect(asJson).toMatchObject({ seq: 3, slug: 'acme', status: 'modified', contentsMatchHash: true });
    expect(asJson.diff).toContain('+    path_allowlist: [/v1]');
  });

  it('says which entries exist for an unknown number, and refuses a non-number', async () => {
    const unknown = await cli('audit', 'show', '99');
    expect(unknown).toMatchObject({ code: 3, stdout: '' });
    expect(unknown.stderr).toMatch(/there is no audit entry 99: the log has entries 1–6/);
    const notNumber = await cli('audit', 'show', 'abc');
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/the entry number must be a positive whole number, got "abc"/);
    expect((await cli('audit', 'show')).code).toBe(2);
  });

  it('marks an entry whose contents no longer match its hash', async () => {
    tamper(`UPDATE audit_entries SET notes = 'looks innocent' WHERE seq = 2`);
    const run = await cli('audit', 'show', '2');
    expect(run.stdout).toMatch(/DOES NOT match the contents: run `bot-bottle audit verify`/);
  });
});

describe('audit export', () => {
  it('streams JSONL whose records recompute the whole hash chain', async () => {
    const run = await cli('audit', 'export');
    expect(run.code).toBe(0);
    const records = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Omit<AuditEntry, 'ts'> & { time: string });
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    let prev = GENESIS_HASH;
    for (const record of records) {
      expect(record.prevHash).toBe(prev);
      // The hashed ts is the ISO time's milliseconds, exactly.
      expect(chainHash(record.prevHash, canonicalAuditEntry({ ...record, ts: Date.parse(record.time) }))).toBe(record.hash);
      prev = record.hash;
    }
    expect(prev).toBe(seeded.head.hash);

    const filtered = await cli('audit', 'export', '--bottle', 'zeta');
    expect(filtered.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as AuditEntry).seq)).toEqual([2, 4, 6]);
  });

  it('writes CSV to a file through a .partial name, 0600, refusing to overwrite without --force', async () => {
    const out = path.join(home, 'audit.csv');
    const run = await cli('audit', 'export', '--format', 'csv', '--output', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Exported 6 audit entries to .*audit\.csv \(csv\)/);
    expect(fs.readdirSync(home).filter((name) => name.includes('partial'))).toEqual([]);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toBe('seq,time,slug,component,action,proposalId,kind,status,actor,notes,diff,prevHash,hash');
    // Diffs start with '=': a spreadsheet would run them as formulas without the leading quote.
    expect(text).toContain(`,ok 0,"'===`);
    for (const id of seeded.ids) expect(text).toContain(id);

    const again = await cli('audit', 'export', '--format', 'csv', '--output', out);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already exists\. Pick another --output, or pass --force/);
    fs.writeFileSync(out, 'old');
    expect((await cli('audit', 'export', '--output', out, '--force')).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8').split('\n')).toHaveLength(7);
  });

  it('refuses an unknown format and a missing directory without writing', async () => {
    const format = await cli('audit', 'export', '--format', 'xml');
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format "xml" is not supported: use jsonl or csv/);
    const missing = await cli('audit', 'export', '--output', path.join(home, 'no', 'such', 'dir', 'out.jsonl'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/the directory .*no\/such\/dir does not exist/);
  });

  it('writes a long log, in many buffers and with entries bigger than a buffer, exactly as one rendering of the whole log', async () => {
    const db = openConnection(dbFile, { fileMustExist: true });
    const store = new AuditStore(db);
    try {
      const awkward = ['-starts with a minus', '=SUM(A1)', '+1', '@cmd', '\tTab', 'quotes " and, commas', 'line\r\nbreaks', 'ＡＢ＝', '＝1', '＋1', '－1', '＠x', '\rstart', '"', ',', '\n', 'escape \u001b[31m red', ''];
      db.transaction(() => {
        for (let i = 0; i < 3000; i += 1) {
          const big = i % 1000 === 500;
          store.appendWithinTransaction(i % 2 ? 'acme' : 'zeta', {
            component: 'egress',
            action: 'proposal-decision',
            actor: 'operator',
            status: i % 7 === 0 ? null : 'approved',
            notes: awkward[i % awkward.length] as string,
            // Bigger than a 256 KiB buffer could surely hold (3 bytes a character): written as it is.
            diff: big ? `=== big\n${'+ host: h.example.com, "quoted"\n'.repeat(4000)}` : `+ host: h${i}.example.com\n`,
            ...(i % 3 === 0 ? { detail: { n: i, text: awkward[(i + 1) % awkward.length] } } : {}),
            ts: i === 42 ? -5000 : Date.UTC(2026, 0, 1) + i * 1000,
          });
        }
      }).immediate();
    } finally {
      db.close();
    }
    const check = openConnection(dbFile, { readonly: true });
    const records = new AuditStore(check).readAuditEntries().map(auditRecord);
    check.close();
    expect(records).toHaveLength(3006);

    const jsonl = path.join(home, 'long.jsonl');
    expect((await cli('audit', 'export', '--output', jsonl)).code).toBe(0);
    expect(fs.readFileSync(jsonl, 'utf8')).toBe(records.map((record) => `${safeJson(record, 0)}\n`).join(''));
    const csv = path.join(home, 'long.csv');
    expect((await cli('audit', 'export', '--format', 'csv', '--output', csv)).code).toBe(0);
    const columns = ['seq', 'time', 'slug', 'component', 'action', 'proposalId', 'kind', 'status', 'actor', 'notes', 'diff', 'prevHash', 'hash'];
    expect(fs.readFileSync(csv, 'utf8')).toBe(stringify(records, { header: true, columns, escape_formulas: true }));
    const stdout = await cli('audit', 'export', '--format', 'csv');
    expect(stdout.stdout).toBe(fs.readFileSync(csv, 'utf8'));
  });

  it('ends quietly when the reader of stdout goes away (| head)', async () => {
    const fill = await runFixture('cli-audit-fill.ts', [dbFile, '20000'], { home });
    expect(fill.code, fill.stderr).toBe(0);
    const child = spawnCli(['--db', dbFile, 'audit', 'export'], { home });
    const { stdout, stderr: errors } = child as ChildProcessByStdio<null, Readable, Readable>;
    let stderr = '';
    errors.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const firstChunk = await new Promise<string>((resolve) => stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
    stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(firstChunk).toMatch(/^\{"seq":1,/);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('audit verify', () => {
  it('prints the head of an intact log as HASH:COUNT and exits 0', async () => {
    const run = await cli('audit', 'verify');
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`head ${seeded.head.hash}:6`);
    expect(run.stdout).toContain('Every recorded answer checks out: 6 answers');
    expect(json<{ ok: boolean; head: { hash: string; count: number } }>(await cli('audit', 'verify', '--json'))).toEqual({
      ok: true,
      head: seeded.head,
      answers: { checked: 6, unsealed: 0, problems: [] },
    });
  });

  it('names the first bad entry of a log edited with raw SQL (triggers dropped) and exits 1', async () => {
    tamper(`UPDATE audit_entries SET status = 'approved' WHERE seq = 5`);
    const edited = await cli('audit', 'verify');
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/tampered with at entry 5: its contents do not match its hash: the entry was edited/);
    expect(edited.stdout).toMatch(/Entries 1–4 are intact \(head [0-9a-f]{64}:4\)/);
    expect(json<{ ok: boolean; firstBad: { seq: number } }>(await cli('audit', 'verify', '--json'))).toMatchObject({ ok: false, firstBad: { seq: 5 } });
  });

  it('names a deleted entry in the middle', async () => {
    tamper('DELETE FROM audit_entries WHERE seq = 3');
    const run = await cli('audit', 'verify');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/tampered with at entry 4: expected entry 3 here but found entry 4/);
  });

  it('with --expect-head catches a truncated log that is otherwise self-consistent', async () => {
    const kept = `${seeded.head.hash}:${seeded.head.count}`;
    expect((await cli('audit', 'verify', '--expect-head', kept)).code).toBe(0);
    tamper('DELETE FROM audit_entries WHERE seq > 4');

    // The chain alone is self-consistent; the answers whose decision entries went with it are not.
    const alone = await cli('audit', 'verify');
    expect(alone.stdout).toContain('The audit chain is intact: 4 entries.');
    expect(alone.stdout).toMatch(/2 of 6 recorded answers do not check out/);
    expect(alone.code).toBe(1);
    const checked = await cli('audit', 'verify', '--expect-head', kept);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/the log ends at entry 4, but the kept head .* is entry 6: entries 5–6 were removed from the end of the log/);
    expect(json<{ ok: boolean; expectedHead: { matches: boolean } }>(await cli('audit', 'verify', '--json', '--expect-head', kept))).toMatchObject({ ok: false, expectedHead: { matches: false } });
  });

  it('with --expect-head catches a log rewritten from scratch to the same length', async () => {
    const kept = `${seeded.head.hash}:${seeded.head.count}`;
    tamper('DELETE FROM audit_entries');
    const db = new Database(dbFile);
    try {
      const store = new AuditStore(db);
      db.transaction(() => {
        for (let i = 0; i < 6; i += 1) store.appendWithinTransaction('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', status: 'approved' });
      })();
    } finally {
      db.close();
    }
    // The chain alone is self-consistent; the recorded answers no longer have their decision entries.
    const alone = await cli('audit', 'verify');
    expect(alone.stdout).toContain('The audit chain is intact: 6 entries.');
    expect(alone.stdout).toMatch(/6 of 6 recorded answers do not check out/);
    expect(alone.code).toBe(1);
    const checked = await cli('audit', 'verify', '--expect-head', kept);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(new RegExp(`entry 6 has hash [0-9a-f]{64}, not the kept ${seeded.head.hash}: the log was rewritten at or before entry 6`));
  });

  it('reports entries appended since the kept head, and refuses a malformed head', async () => {
    const kept = `${seeded.head.hash.toUpperCase()}:5`;
    const fifth = json<AuditEntry[]>(await cli('audit', 'list', '--json', '--limit', '2'))[1] as AuditEntry;
    const run = await cli('audit', 'verify', '--expect-head', `${fifth.hash}:5`);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/is in the log \(1 entries since\)/);
    expect((await cli('audit', 'verify', '--expect-head', kept)).code).toBe(1);
    const malformed = await cli('audit', 'verify', '--expect-head', 'deadbeef');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/is not a head: give HASH:COUNT exactly as `bot-bottle audit verify` printed it/);
  });
});

describe('audit --help', () => {
  it('documents every subcommand', async () => {
    for (const sub of ['list', 'show', 'export', 'verify']) {
      const run = await runCli(['audit', sub, '--help'], { home });
      expect(run.code, sub).toBe(0);
      expect(run.stdout).toMatch(/^Usage: bot-bottle audit /);
    }
  });
});

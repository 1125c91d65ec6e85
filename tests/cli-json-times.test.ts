/**
 * One representation for times across every verb's JSON: an ISO 8601 UTC string with milliseconds,
 * never epoch milliseconds. Each verb that prints JSON runs on one database as the built CLI, and
 * every value in every document is checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, runFixture, type CliRun } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Epoch milliseconds between 2001 and 2286: what a time written as a number looks like. */
const EPOCH_MS = { min: 1e12, max: 1e13 };
const TIME_NAME = /(At|^time|^ts)$/;

let home: string;
let dbFile: string;

const cli = (...args: string[]): Promise<CliRun> => runCli(['--db', dbFile, ...args], { home, env: { USER: 'tester' } });

/** Every time-like field in `value`, by its path; fails on a number that is a time. */
function timesIn(value: unknown, at = '$', found: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value)) value.forEach((item, index) => timesIn(item, `${at}[${index}]`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (TIME_NAME.test(key)) found[`${at}.${key}`] = inner;
      timesIn(inner, `${at}.${key}`, found);
    }
  } else if (typeof value === 'number') {
    expect(value >= EPOCH_MS.min && value < EPOCH_MS.max, `${at} is ${value}, a time as epoch milliseconds`).toBe(false);
  }
  return found;
}

async function jsonOf(run: Promise<CliRun>, code = 0): Promise<unknown> {
  const done = await run;
  expect(done.code, done.stderr).toBe(code);
  return JSON.parse(done.stdout) as unknown;
}

beforeAll(async () => {
  assertBuilt();
  home = tempDir('cli-json-times');
  dbFile = path.join(home, 'supervise.db');
  const seed = await runFixture('cli-seed.ts', [dbFile, '3'], { home });
  expect(seed.code, seed.stderr).toBe(0);
  fs.writeFileSync(path.join(home, 'routes.yaml'), 'routes:\n  - host: api.github.com\n');
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('times in --json output', () => {
  it('are ISO 8601 UTC strings in every verb, never epoch milliseconds', async () => {
    const routes = path.join(home, 'routes.yaml');
    const documents: Record<string, unknown> = {};
    documents['propose (pending)'] = await jsonOf(cli('propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', routes, '--idempotency-key', 'k1', '--json'), 2);
    const pending = (await jsonOf(cli('supervise', '--once', '--json'))) as Array<{ id: string; payloadSha256: string }>;
    documents['supervise --once'] = pending;
    const [first] = pending;
    documents['supervise approve'] = await jsonOf(cli('supervise', 'approve', first?.id ?? '', '--expect-sha256', first?.payloadSha256 ?? '', '--json'));
    documents['propose (answered)'] = await jsonOf(cli('propose', '--bottle', 'acme', '--resume', first?.id ?? '', '--json'));
    documents['audit list'] = await jsonOf(cli('audit', 'list', '--json'));
    documents['audit show'] = await jsonOf(cli('audit', 'show', '1', '--json'));
    documents['audit verify'] = await jsonOf(cli('audit', 'verify', '--json'));
    documents['db status'] = await jsonOf(cli('db', 'status', '--json'));
    const exported = await cli('audit', 'export');
    expect(exported.code, exported.stderr).toBe(0);
    documents['audit export'] = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);

    const times = Object.fromEntries(Object.entries(documents).map(([verb, document]) => [verb, timesIn(document)]));
    for (const [verb, fields] of Object.entries(times)) {
      for (const [where, value] of Object.entries(fields)) {
        if (value !== null) expect(value, `${verb}: ${where}`).toMatch(ISO_UTC);
      }
    }
    // The same moments, each named once per record, in every verb that has them.
    expect(Object.keys(times['supervise approve'] ?? {})).toEqual(['$.createdAt']);
    expect(Object.keys(times['propose (answered)'] ?? {})).toEqual(['$.answeredAt']);
    expect(Object.keys(times['propose (pending)'] ?? {})).toEqual(['$.expiresAt']);
    expect(Object.keys(times['supervise --once'] ?? {})).toEqual(['$[0].createdAt', '$[0].expiresAt']);
    expect(Object.keys(times['audit show'] ?? {})).toEqual(['$.time']);
    expect((times['audit export'] ?? {})['$[3].time']).toBe((times['supervise approve'] ?? {})['$.createdAt']);
  });
});

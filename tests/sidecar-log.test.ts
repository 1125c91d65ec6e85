/**
 * The serving sidecar's log (`docker logs`): one event a line with its time and level, as text or
 * JSON lines (--log-format json), and what a bottle sent still shown display-safe. A real sidecar
 * process, a real refused HTTP request and a real SIGTERM.
 */
import http from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafeCharacters } from '../src/core/safe-text.js';
import { formatLogRecord } from '../sidecar/log-line.js';
import { assertBuilt, hostDatabase, killChildren, runSidecar, startSidecar, type HostFixture, type RunningSidecar } from './fixtures/sidecar-harness.js';

const SLUG = 'acme';
const TEXT_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (info|warn|error) \S/;

let fixture: HostFixture | undefined;

beforeAll(() => assertBuilt());
afterEach(async () => {
  await killChildren();
  await fixture?.host.close();
  fixture = undefined;
});

/** A request from a hostile page: its Origin carries a C1 control (CSI), which the sidecar refuses and logs. */
function hostileRequest(sidecar: RunningSidecar): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(sidecar.url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil\u009b2K.example' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end('{}');
  });
}

/** Serves until a refused request is logged, then stops with SIGTERM; returns its log lines. */
async function serveAndStop(extraArgs: string[]): Promise<string[]> {
  fixture = await hostDatabase();
  const sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, HOME: process.env.HOME }, extraArgs);
  expect(await hostileRequest(sidecar)).toBe(403);
  sidecar.child.kill('SIGTERM');
  const exit = await sidecar.exited;
  expect(exit.code).toBe(0);
  expect(hasUnsafeCharacters(exit.stderr)).toBe(false);
  return exit.stderr.trimEnd().split('\n');
}

describe('sidecar log', () => {
  it('writes each event as one line of time, level and message', async () => {
    const lines = await serveAndStop([]);
    for (const line of lines) expect(line).toMatch(TEXT_LINE);
    expect(lines.some((line) => / info serving bottle acme from /.test(line))).toBe(true);
    // The client sends the header as UTF-8 and the server reads latin1: the CSI byte arrives after an Â.
    expect(lines.some((line) => / warn refused a request \(HTTP 403\): Origin "http:\/\/evilÂ⟨CSI⟩2K\.example" may not call this sidecar/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/ info SIGTERM: shutting down/);
  });

  it('--log-format json writes one JSON object a line: time, level, message', async () => {
    const lines = await serveAndStop(['--log-format', 'json']);
    const records = lines.map((line) => JSON.parse(line) as { time: string; level: string; message: string });
    for (const record of records) {
      expect(Object.keys(record)).toEqual(['time', 'level', 'message']);
      expect(record.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(records).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('Origin "http://evilÂ⟨CSI⟩2K.example"') as string }));
    expect(records.at(-1)).toMatchObject({ level: 'info', message: expect.stringMatching(/^SIGTERM: shutting down/) as string });
  });

  it('a start-up refusal is one error event; an unknown format is a usage error', async () => {
    const refused = await runSidecar(['serve', '--db', '/nonexistent/bot-bottle.db', '--port', '0', '--log-format', 'json'], { SUPERVISE_BOTTLE_SLUG: SLUG });
    expect(refused.code).toBe(1);
    const [only, ...more] = refused.stderr.trimEnd().split('\n');
    expect(more).toEqual([]);
    expect(JSON.parse(only ?? '')).toMatchObject({ level: 'error', message: expect.stringContaining('/nonexistent/bot-bottle.db') as string });

    const usage = await runSidecar(['serve', '--log-format', 'xml'], { SUPERVISE_BOTTLE_SLUG: SLUG });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("argument 'xml' is invalid. Allowed choices are text, json.");
  });

  it('keeps a message of several lines, and every hidden character, on one line', () => {
    const message = 'bad payload:\n2026-01-01T00:00:00.000Z info approved\u001b[2K\u202e';
    expect(formatLogRecord('warn', message, 'text', 0)).toBe('1970-01-01T00:00:00.000Z warn bad payload:⟨LF⟩2026-01-01T00:00:00.000Z info approved⟨ESC⟩[2K⟨RLO⟩\n');
    const json = formatLogRecord('error', message, 'json', 0);
    expect(json.trimEnd().split('\n')).toHaveLength(1);
    expect(hasUnsafeCharacters(json)).toBe(false);
    expect(JSON.parse(json)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'error', message });
  });
});

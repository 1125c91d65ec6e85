// What both propose commands take from their flags: seconds, a payload from a file or stdin (capped
// at the payload limit), and a draft checked for its kind and origin before anything is opened.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { checkDraft, parseSeconds, readPayloadFile, readPayloadStream } from '../src/queue/propose-input.js';
import { expectFailure, GITLEAKS_REPORT, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('propose-input');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parseSeconds', () => {
  it('takes plain decimal seconds and returns milliseconds', () => {
    expect(parseSeconds('0', '--wait', { allowZero: true })).toBe(0);
    expect(parseSeconds('2.5', '--wait', { allowZero: true, max: 3600 })).toBe(2500);
    expect(parseSeconds('3600', '--wait', { allowZero: true, max: 3600 })).toBe(3_600_000);
  });

  it.each([
    ['soon', { allowZero: true }, /--wait "soon" is not valid: give a number of seconds \(0 or more\), e\.g\. --wait 30/],
    ['-1', { allowZero: true }, /\(0 or more\)/],
    ['1e3', { allowZero: true }, /not valid/],
    ['3601', { allowZero: true, max: 3600 }, /\(0 to 3600\)/],
    ['0', { allowZero: false }, /--wait "0" is not valid: give a number of seconds \(above 0\)/],
  ])('refuses %j (%j) as a usage error', async (raw, range, message) => {
    await expectFailure(() => parseSeconds(raw, '--wait', range), 'usage', message);
  });
});

describe('readPayloadFile', () => {
  it('reads a file up to the payload limit', () => {
    const file = path.join(dir, 'routes.yaml');
    fs.writeFileSync(file, ROUTES_YAML);
    expect(readPayloadFile(file, '--payload-file')).toBe(ROUTES_YAML);
    fs.writeFileSync(file, 'x'.repeat(MAX_PAYLOAD_BYTES));
    expect(readPayloadFile(file, '--payload-file')).toHaveLength(MAX_PAYLOAD_BYTES);
  });

  it('names the flag and the fix for a missing file, a directory and a file over the limit', async () => {
    await expectFailure(() => readPayloadFile(path.join(dir, 'missing.yaml'), '--payload-file'), 'invalid-input', /cannot read --payload-file .*missing\.yaml \(ENOENT\): pass a readable file/);
    await expectFailure(() => readPayloadFile(dir, '--current-file'), 'invalid-input', /--current-file .* is a directory; give the file itself/);
    const big = path.join(dir, 'big.yaml');
    fs.writeFileSync(big, 'x'.repeat(MAX_PAYLOAD_BYTES + 1));
    await expectFailure(() => readPayloadFile(big, '--payload-file'), 'too-large', new RegExp(`is ${MAX_PAYLOAD_BYTES + 1} bytes, over the payload limit of ${MAX_PAYLOAD_BYTES} bytes`));
  });
});

describe('readPayloadStream', () => {
  it('joins the chunks of a pipe', async () => {
    expect(await readPayloadStream(Readable.from([Buffer.from('routes:\n'), '  - host: a.example.com\n']), '--payload-stdin')).toBe('routes:\n  - host: a.example.com\n');
  });

  it('stops reading an endless pipe as soon as it passes the limit', async () => {
    let produced = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          produced += 64 * 1024;
          yield Buffer.alloc(64 * 1024, 'x');
        }
      })(),
    );
    await expectFailure(() => readPayloadStream(endless, '--payload-stdin'), 'too-large', new RegExp(`the payload on stdin is over the limit of ${MAX_PAYLOAD_BYTES} bytes`));
    expect(produced).toBeLessThan(MAX_PAYLOAD_BYTES * 4);
  });

  it('refuses a terminal instead of waiting for typing', async () => {
    const terminal = Object.assign(Readable.from([]), { isTTY: true });
    await expectFailure(() => readPayloadStream(terminal, '--payload-stdin'), 'usage', /--payload-stdin reads the payload from a pipe, but stdin is a terminal/);
  });
});

describe('checkDraft', () => {
  const kinds = KindRegistry.withBuiltins();

  it('defaults the origin to the kind’s component and keeps a given one', () => {
    expect(checkDraft(kinds, { kind: 'gitleaks-allow', payload: GITLEAKS_REPORT }, 'bottle')).toEqual({ kind: 'gitleaks-allow', payload: GITLEAKS_REPORT, origin: 'git-gate' });
    expect(checkDraft(kinds, { kind: 'egress-routes-apply', payload: ROUTES_YAML, origin: 'host' }, 'host').origin).toBe('host');
  });

  it('refuses an unknown kind, a downward kind from a bottle, an invalid payload and a bad origin', async () => {
    await expectFailure(() => checkDraft(kinds, { kind: 'egress-teleport', payload: ROUTES_YAML }, 'host'), 'unknown-kind', /unknown proposal kind "egress-teleport"/);
    await expectFailure(() => checkDraft(kinds, { kind: 'egress-routes-apply', payload: ROUTES_YAML }, 'bottle'), 'invalid-input', /a bottle cannot propose them\. Upward kinds: egress-allow/);
    await expectFailure(() => checkDraft(kinds, { kind: 'egress-allow', payload: 'routes: [' }, 'bottle'), 'invalid-payload', /payload is not a valid egress-allow payload/);
    await expectFailure(() => checkDraft(kinds, { kind: 'egress-allow', payload: ROUTES_YAML, origin: 'git gate' }, 'bottle'), 'invalid-input', /--origin "git gate" is not valid/);
  });
});

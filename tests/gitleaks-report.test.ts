import { describe, expect, it } from 'vitest';
import { gitleaksReportFromGitleaksJson, parseGitleaksReport } from '../src/kinds/gitleaks-report.js';
import { rejection } from './fixtures/payload-rejection.js';

const COMMIT = 'a'.repeat(40);
const finding = {
  ref: 'refs/heads/main',
  file: 'config/dev.env',
  line: 3,
  rule: 'generic-api-key',
  commit: COMMIT,
  line_text: 'API_KEY=REDACTED # gitleaks:allow',
};

describe('parseGitleaksReport', () => {
  it('accepts a report with findings', () => {
    const sha256Commit = 'b'.repeat(64);
    const report = { findings: [finding, { ...finding, commit: sha256Commit, line: 9 }] };
    expect(parseGitleaksReport(JSON.stringify(report))).toEqual(report);
  });

  it.each([
    ['no findings', { findings: [] }, 'findings', 'a report needs at least one finding'],
    ['an abbreviated commit', { findings: [{ ...finding, commit: 'abc1234' }] }, 'findings[0].commit', /full lowercase SHA-1/],
    ['an uppercase commit', { findings: [{ ...finding, commit: 'A'.repeat(40) }] }, 'findings[0].commit', /full lowercase SHA-1/],
    ['line 0', { findings: [{ ...finding, line: 0 }] }, 'findings[0].line', 'line must be a positive integer'],
    ['a fractional line', { findings: [{ ...finding, line: 1.5 }] }, 'findings[0].line', 'line must be a positive integer'],
    ['an extra key', { findings: [{ ...finding, secret: 'x' }] }, 'findings[0].secret', 'unknown key "secret"'],
    ['a missing key', { findings: [{ ...finding, ref: undefined }] }, 'findings[0]', 'missing required key "ref"'],
    ['an empty rule', { findings: [{ ...finding, rule: '' }] }, 'findings[0].rule', 'rule must be a non-empty string'],
    ['an extra top-level key', { findings: [finding], scanned: 1 }, 'scanned', 'unknown key "scanned"'],
  ])('rejects %s', (_what, report, path, rule) => {
    const [problem, ...rest] = rejection(() => parseGitleaksReport(JSON.stringify(report))).problems;
    expect(rest).toEqual([]);
    expect(problem?.path).toBe(path);
    expect(problem?.line).toBeUndefined();
    if (typeof rule === 'string') expect(problem?.rule).toBe(rule);
    else expect(problem?.rule).toMatch(rule);
  });

  it('rejects text that is not JSON without quoting it back', () => {
    const error = rejection(() => parseGitleaksReport('{"findings": [ghp_secretsecret'));
    expect(error.problems).toMatchObject([{ path: '(document)', rule: 'not valid JSON' }]);
    expect(error.message).not.toContain('ghp_secretsecret');
  });
});

describe('gitleaksReportFromGitleaksJson', () => {
  const native = {
    RuleID: 'github-pat',
    Description: 'GitHub Personal Access Token',
    StartLine: 12,
    EndLine: 12,
    StartColumn: 9,
    EndColumn: 48,
    Match: 'token = "ghp_REDACTED"',
    Secret: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    File: 'src/client.ts',
    SymlinkFile: '',
    Commit: 'c'.repeat(40),
    Entropy: 4.1,
    Author: 'Dev',
    Email: 'dev@example.com',
    Date: '2024-01-01T00:00:00Z',
    Message: 'add client',
    Tags: [],
    Fingerprint: `${'c'.repeat(40)}:src/client.ts:github-pat:12`,
  };

  it('converts findings, dropping the fields it does not carry (Secret among them)', () => {
    const report = gitleaksReportFromGitleaksJson([native, { ...native, Line: '  const token = "ghp_REDACTED";', StartLine: 40 }], 'refs/heads/feature');
    expect(report).toEqual({
      findings: [
        { ref: 'refs/heads/feature', file: 'src/client.ts', line: 12, rule: 'github-pat', commit: 'c'.repeat(40), line_text: 'token = "ghp_REDACTED"' },
        { ref: 'refs/heads/feature', file: 'src/client.ts', line: 40, rule: 'github-pat', commit: 'c'.repeat(40), line_text: '  const token = "ghp_REDACTED";' },
      ],
    });
    expect(JSON.stringify(report)).not.toContain(native.Secret);
    expect(parseGitleaksReport(JSON.stringify(report))).toEqual(report);
  });

  it.each([
    ['an object instead of the findings array', { findings: [] }, '(top level)', /--report-format json/],
    ['no findings', [], '(top level)', /no findings/],
    ['a directory scan without commits', [{ ...native, Commit: '' }], '[0].Commit', /SHA-1/],
    ['a finding without Line or Match', [{ ...native, Match: undefined }], '[0]', 'a finding needs Line or Match'],
    ['a finding without RuleID', [{ ...native, RuleID: undefined }], '[0]', 'missing required key "RuleID"'],
    ['a non-integer StartLine', [{ ...native, StartLine: '12' }], '[0].StartLine', /expected number/],
  ])('rejects %s', (_what, json, path, rule) => {
    const [problem] = rejection(() => gitleaksReportFromGitleaksJson(json, 'refs/heads/main')).problems;
    expect(problem?.path).toBe(path);
    if (typeof rule === 'string') expect(problem?.rule).toBe(rule);
    else expect(problem?.rule).toMatch(rule);
  });

  it('rejects an empty ref', () => {
    expect(rejection(() => gitleaksReportFromGitleaksJson([native], '')).problems).toMatchObject([
      { path: 'findings[0].ref', rule: 'ref must be a non-empty string' },
    ]);
  });
});

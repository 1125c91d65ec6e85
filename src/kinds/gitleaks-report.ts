/** git-gate's report of the gitleaks:allow-suppressed secrets in a push: JSON, one entry per finding. */
import { z } from 'zod';
import { jsonLocator, parseJsonPayload } from './json-payload.js';
import { checkSchema } from './payload-problems.js';

const nonEmpty = (what: string) => z.string().min(1, `${what} must be a non-empty string`);
const lineNumber = z.number().int('line must be a positive integer').positive('line must be a positive integer');
const commitId = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'commit must be a full lowercase SHA-1 (40 hex) or SHA-256 (64 hex) id');

const gitleaksReport = z.strictObject({
  findings: z
    .array(
      z.strictObject({
        ref: nonEmpty('ref'),
        file: nonEmpty('file'),
        line: lineNumber,
        rule: nonEmpty('rule'),
        commit: commitId,
        line_text: z.string(),
      }),
    )
    .min(1, 'a report needs at least one finding'),
});

export type GitleaksReport = z.output<typeof gitleaksReport>;
export type GitleaksFinding = GitleaksReport['findings'][number];

const SUBJECT = 'gitleaks report';
const REMEDY =
  'Send {"findings":[{"ref","file","line","rule","commit","line_text"}]} with at least one finding, e.g. converted from gitleaks --report-format json output.';

/** Throws `invalid-payload` naming each problem's path. */
export function parseGitleaksReport(text: string): GitleaksReport {
  const json = parseJsonPayload(text, SUBJECT, REMEDY);
  return checkSchema(gitleaksReport, json, jsonLocator(json), SUBJECT, REMEDY);
}

// gitleaks' findings carry many more fields (Secret among them); z.object drops them on purpose.
const gitleaksNative = z
  .array(
    z
      .object({
        RuleID: nonEmpty('RuleID'),
        File: nonEmpty('File'),
        StartLine: lineNumber,
        Commit: commitId,
        Line: z.string().optional(),
        Match: z.string().optional(),
      })
      .transform((f, ctx) => {
        // Recent gitleaks versions leave `Line` out of JSON reports; `Match` is then the best context.
        const text = f.Line || f.Match;
        if (text === undefined) {
          ctx.addIssue({ code: 'custom', message: 'a finding needs Line or Match' });
          return z.NEVER;
        }
        return { file: f.File, line: f.StartLine, rule: f.RuleID, commit: f.Commit, line_text: text };
      }),
    'expected the array of findings gitleaks writes with --report-format json',
  )
  .min(1, 'gitleaks reported no findings, so there is nothing to allow');

/** Converts gitleaks' own JSON report (already parsed) into a `GitleaksReport` for `ref`. */
export function gitleaksReportFromGitleaksJson(json: unknown, ref: string): GitleaksReport {
  const subject = 'gitleaks JSON output';
  const remedy = 'Pass the parsed output of `gitleaks ... --report-format json` from a git scan (findings need a Commit).';
  const findings = checkSchema(gitleaksNative, json, jsonLocator(json), subject, remedy);
  const report = { findings: findings.map((f) => ({ ref, ...f })) };
  return checkSchema(gitleaksReport, report, jsonLocator(report), subject, remedy);
}

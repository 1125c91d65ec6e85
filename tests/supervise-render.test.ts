/** What the detail view says about who asked and how it shows reports: every cell a bottle filled made display-safe, nothing cut. */
import { createColors } from 'picocolors';
import { describe, expect, it } from 'vitest';
import { askedBy } from '../src/cli/supervise/asked-by.js';
import { renderDetail } from '../src/cli/supervise/detail.js';
import { reportLines } from '../src/cli/supervise/report-view.js';
import { layoutLine } from '../src/cli/supervise/styled-line.js';
import { KindRegistry } from '../src/kinds/registry.js';
import type { Proposal } from '../src/queue/proposal.js';
import { GITLEAKS_REPORT, TOKEN_REPORT } from './fixtures/storage-support.js';

const plain = createColors(false);
const kinds = KindRegistry.withBuiltins();

function proposal(fields: Partial<Proposal>): Proposal {
  return {
    id: '0123456789abcdef',
    seq: 1,
    slug: 'acme',
    kind: 'egress-allow',
    origin: 'agent',
    target: 'operator',
    payload: 'routes:\n  - host: a.example.com\n',
    justification: 'because',
    currentFile: null,
    currentFileHash: null,
    idempotencyKey: null,
    state: 'pending',
    createdAt: 0,
    expiresAt: null,
    updatedAt: 0,
    seal: null,
    ...fields,
  };
}

const text = (lines: ReturnType<typeof reportLines>, width?: number): string =>
  [lines?.heading ?? '', ...(lines?.lines ?? []).flatMap((line) => layoutLine(line, width))].join('\n');

describe('who asked', () => {
  it('names the bottle’s component, or the launcher only when the host signed it', () => {
    expect(askedBy(proposal({ origin: 'agent' }), 'bottle')).toEqual({ who: 'the agent in bottle acme' });
    expect(askedBy(proposal({ origin: 'git-gate' }), 'bottle')).toEqual({ who: 'git-gate in bottle acme' });
    expect(askedBy(proposal({ origin: 'egress' }), 'bottle')).toEqual({ who: 'the egress proxy in bottle acme' });
    expect(askedBy(proposal({ origin: 'ci-bot' }), 'bottle')).toEqual({ who: '"ci-bot" in bottle acme' });
    expect(askedBy(proposal({ origin: 'host' }), 'host')).toEqual({ who: 'the launcher on this host, for bottle acme' });
    expect(askedBy(proposal({ origin: 'deploy-script' }), 'host')).toEqual({ who: 'this host, as "deploy-script", for bottle acme' });
  });

  it('does not take a bottle’s word that it is the host, and says nothing about a forged row but that', () => {
    const claims = askedBy(proposal({ origin: 'host' }), 'bottle');
    expect(claims.who).toBe('bottle acme');
    expect(claims.warning).toMatch(/names itself "host", but it is sealed by the bottle, not signed by the host/);
    expect(askedBy(proposal({ origin: 'operator:alice' }), 'bottle').warning).toMatch(/names itself "operator:alice"/);
    expect(askedBy(proposal({ origin: 'host' }), 'forged').who).toMatch(/^nobody it can be traced to: its seal does not verify/);
    expect(askedBy(proposal({ origin: 'agent\u001b[2J', slug: 'a\u202eb' }), 'forged').who).toContain('"agent⟨ESC⟩[2J" in bottle a⟨RLO⟩b');
  });

  it('the detail view says who asked with the kind’s description, never “the agent asks” for the launcher', () => {
    const launcher = renderDetail(proposal({ origin: 'host' }), kinds, plain, 1000, { seal: 'host' }).join('\n');
    expect(launcher).toContain('asked by the launcher on this host, for bottle acme: egress routes to allow, as a whole routes file');
    expect(launcher).not.toMatch(/agent/);
    const agent = renderDetail(proposal({}), kinds, plain, 1000, { seal: 'bottle' }).join('\n');
    expect(agent).toContain('asked by the agent in bottle acme: egress routes to allow');
  });
});

describe('reports', () => {
  it('shows gitleaks findings as a table with each finding’s commit and line under it', () => {
    const report = JSON.stringify({
      findings: [
        { ref: 'refs/heads/main', file: 'config.env', line: 3, rule: 'generic-api-key', commit: 'a'.repeat(40), line_text: 'KEY=abc # gitleaks:allow' },
        { ref: 'refs/heads/feature', file: 'src/deep/path/settings.py', line: 120, rule: 'aws-access-token', commit: 'b'.repeat(40), line_text: 'AWS = "AKIA…" # gitleaks:allow' },
      ],
    });
    expect(text(reportLines('gitleaks-allow', report, plain))).toBe(
      [
        'Report: 2 findings that gitleaks:allow suppressed',
        '  #  FILE:LINE                      RULE              REF',
        '  1  config.env:3                   generic-api-key   refs/heads/main',
        `     commit ${'a'.repeat(40)}`,
        '     line   KEY=abc # gitleaks:allow',
        '  2  src/deep/path/settings.py:120  aws-access-token  refs/heads/feature',
        `     commit ${'b'.repeat(40)}`,
        '     line   AWS = "AKIA…" # gitleaks:allow',
      ].join('\n'),
    );
    const detail = renderDetail(proposal({ kind: 'gitleaks-allow', origin: 'git-gate', payload: GITLEAKS_REPORT }), kinds, plain, 1000).join('\n');
    expect(detail).toContain('Report: 1 finding that gitleaks:allow suppressed');
    expect(detail).not.toContain('"findings"');
  });

  it('makes every cell display-safe before aligning, and wraps a wide row rather than cutting it', () => {
    const hostile = JSON.stringify({
      findings: [{ ref: 'refs/heads/\u202emain', file: 'a\u001b[2Jb.env', line: 1, rule: 'r\u200bule', commit: 'c'.repeat(40), line_text: `x\ty\u0007${'z'.repeat(100)}END` }],
    });
    const shown = text(reportLines('gitleaks-allow', hostile, createColors(true)), 40);
    for (const raw of ['\u202e', '\u001b[2J', '\u200b', '\t', '\u0007']) expect(shown).not.toContain(raw);
    // Rows wider than 40 columns continue on rows marked ↪; joined back, every character is there.
    expect(shown).toMatch(/\n\s+↪/);
    const joined = text(reportLines('gitleaks-allow', hostile, plain), 40).replace(/\n\s*↪/g, '');
    expect(joined).toContain('a⟨ESC⟩[2Jb.env:1');
    expect(joined).toContain('r⟨ZWSP⟩ule');
    expect(joined).toContain('refs/heads/⟨RLO⟩main');
    expect(joined).toContain(`commit ${'c'.repeat(40)}`);
    expect(joined).toContain(`x⟨TAB⟩y⟨BEL⟩${'z'.repeat(100)}END`);
  });

  it('shows a DLP catch as labelled fields, and a report that does not parse as it is', () => {
    expect(text(reportLines('egress-token-allow', TOKEN_REPORT, plain))).toBe(
      [
        'Report: a token the egress DLP caught (the token itself is redacted)',
        '  detector github-pat',
        '  request  POST api.example.com/v1/upload',
        '  snippet  Authorization: [REDACTED:github-pat]',
      ].join('\n'),
    );
    expect(reportLines('gitleaks-allow', '{"findings": "not a list"}', plain)).toBeUndefined();
    expect(reportLines('egress-allow', 'routes: []\n', plain)).toBeUndefined();
    const raw = renderDetail(proposal({ kind: 'gitleaks-allow', payload: '{"findings": "not\u001b a list"}' }), kinds, plain, 1000).join('\n');
    expect(raw).toContain('Report\n  {"findings": "not⟨ESC⟩ a list"}');
  });
});

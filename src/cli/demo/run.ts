import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEntry } from '../../audit/audit-store.js';
import type { SuperviseDatabase } from '../../database.js';
import type { Proposal } from '../../queue/proposal.js';
import { SCHEMA_VERSION } from '../../storage/schema-version.js';
import { safeLine } from '../../core/safe-text.js';
import type { Command } from 'commander';
import { colorsFor, databasePathOption, UserError, withHostDatabase } from '../common.js';
import { withTemporaryDatabase } from './temporary-database.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { howToRun } from './invocation.js';
import { startSidecar, type RunningSidecar } from './sidecar.js';
import { packageRoot } from '../../core/package-root.js';
import { ensureBottleKeys, ensureHostKeyPair } from '../../keys/key-files.js';
import { answerProposal, operatorName, reviewOf } from '../supervise/actions.js';
import { colorDiff, renderDetail, safeLines } from '../supervise/detail.js';
import { renderPendingTable, type Palette } from '../supervise/list-model.js';
import { loadSuperviseTui } from '../supervise/load-tui.js';
import { assertInteractiveTerminal } from '../supervise/terminal.js';
import { isoTime } from '../../core/time.js';

/** Long enough for the scripted approval; short so an interactive person sees the agent resume. */
const RESPONSE_TIMEOUT_SECONDS = { scripted: 15, interactive: 20 } as const;
const PROPOSAL_APPEAR_TIMEOUT_MS = 30_000;

const CURRENT_ROUTES = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/\n';
const PROPOSED_ROUTES = `${CURRENT_ROUTES}  - host: pypi.org\n    path_allowlist:\n      - /simple/\n  - host: files.pythonhosted.org\n`;
const JUSTIFICATION = 'The test suite installs its Python dependencies with pip; pip needs the package index (pypi.org/simple) and the file host behind it.';
const APPROVAL_REASON = 'demo: read-only package index, scoped to /simple/';

export interface DemoOptions {
  interactive: boolean;
}

/** The database the demo runs on: a temporary one with its own keys, or the operator's (--real-db). */
export interface DemoDatabase {
  database: SuperviseDatabase;
  /** The host's keys; the default key directory when absent. */
  keysDir?: string;
  temporary: boolean;
}

export class Narrator {
  #step = 0;
  constructor(readonly colors: Palette) {}

  step(text: string): void {
    this.#step += 1;
    process.stdout.write(`\n${this.colors.bold(this.colors.cyan(`${this.#step}.`))} ${this.colors.bold(text)}\n`);
  }

  lines(lines: string[] | string): void {
    const all = typeof lines === 'string' ? lines.replace(/\n$/, '').split('\n') : lines;
    process.stdout.write(`${all.map((line) => `   ${line}`).join('\n')}\n`);
  }
}

/** What the tool told the agent, display-safe: it carries the operator's notes and the sidecar's words back. */
function toolText(result: CallToolResult): string[] {
  return safeLines(result.content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('\n'));
}

function toolStatus(result: CallToolResult): string | undefined {
  const status = (result.structuredContent as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' ? status : undefined;
}

/** Resolves with the bottle's first pending proposal as soon as the sidecar has enqueued it. */
function waitForProposal(database: SuperviseDatabase, slug: string): Promise<Proposal> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const [proposal] = database.queue.listPendingProposals({ slug });
      if (!proposal) return false;
      finish();
      resolve(proposal);
      return true;
    };
    const unsubscribe = database.queue.subscribe({ slug }, () => void check());
    const timer = setTimeout(() => {
      finish();
      reject(new UserError(`the sidecar never enqueued the demo proposal (waited ${PROPOSAL_APPEAR_TIMEOUT_MS / 1000} s).`, VERB_EXIT.environment));
    }, PROPOSAL_APPEAR_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      unsubscribe();
    };
    check();
  });
}

function auditLines(entry: AuditEntry, colors: Palette): string[] {
  const [bottle, component, action, status, actor] = [entry.slug, entry.component, entry.action, entry.status ?? '', entry.actor].map(safeLine);
  return [
    `#${entry.seq} ${isoTime(entry.ts)}  bottle ${bottle}  ${component}/${action}  ${status} by ${actor}`,
    ...(entry.notes === '' ? ['(none)'] : safeLines(entry.notes)).map((line, index) => `${index === 0 ? 'notes:' : '      '} ${line}`),
    `hash ${safeLine(entry.hash.slice(0, 16))}… (previous ${safeLine(entry.prevHash.slice(0, 16))}…)`,
    ...(entry.diff === '' ? [] : colorDiff(entry.diff, colors)),
  ];
}

export async function runDemo(where: DemoDatabase, options: DemoOptions, narrator: Narrator): Promise<number> {
  const { colors } = narrator;
  const { database, keysDir } = where;
  const slug = `demo-${randomBytes(3).toString('hex')}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-bottle-demo-'));
  let sidecar: RunningSidecar | undefined;
  let client: Client | undefined;
  try {
    if (where.temporary) {
      narrator.step(`A temporary host database is ready: ${database.path} (schema version ${SCHEMA_VERSION}).`);
      narrator.lines([
        'One SQLite file holds every bottle’s proposals, answers and the audit log; sidecars reach it through a directory mount.',
        colors.dim('It is removed when the demo ends, so your own audit log gains nothing; --real-db runs the demo on your database instead.'),
      ]);
    } else {
      narrator.step(`The host database is ready: ${database.path} (schema version ${SCHEMA_VERSION}).`);
      narrator.lines('One SQLite file holds every bottle’s proposals, answers and the audit log; sidecars reach it through a directory mount.');
    }

    const routesFile = path.join(workDir, 'routes.yaml');
    fs.writeFileSync(routesFile, CURRENT_ROUTES);
    const mode = options.interactive ? 'interactive' : 'scripted';
    sidecar = await startSidecar({ dbPath: database.path, keysDir: ensureBottleKeys(slug, ensureHostKeyPair(keysDir), keysDir), slug, responseTimeoutSeconds: RESPONSE_TIMEOUT_SECONDS[mode], routesFile });
    narrator.step(`A sidecar for bottle "${slug}" is serving MCP at ${sidecar.url}.`);
    narrator.lines(`It runs as a child process here, as it would in the bottle's container, and answers for this bottle only.`);

    client = new Client({ name: 'bot-bottle-demo-agent', version: '0.1.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(sidecar.url)));
    const tools = await client.listTools();
    narrator.step(`Playing the agent: an MCP client connects and calls egress-allow (tools offered: ${tools.tools.map((tool) => tool.name).join(', ')}).`);
    narrator.lines([`justification: ${JUSTIFICATION}`, 'routes_yaml:', ...PROPOSED_ROUTES.replace(/\n$/, '').split('\n').map((line) => `  ${line}`)]);
    const callOptions = { timeout: (RESPONSE_TIMEOUT_SECONDS[mode] + 30) * 1000 };
    const firstCall = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: PROPOSED_ROUTES, justification: JUSTIFICATION } }, undefined, callOptions);
    // The call blocks until the operator answers; a failed call must not go unobserved meanwhile.
    firstCall.catch(() => undefined);

    const proposal = await waitForProposal(database, slug);
    narrator.step('The sidecar validated the routes file and queued a proposal. This is what the operator sees in `bot-bottle supervise --once`:');
    narrator.lines(renderPendingTable([proposal], { now: Date.now(), width: Math.max(80, (process.stdout.columns || 100) - 3), colors }));
    narrator.step('…and in the detail view of `bot-bottle supervise`, with the diff against the live routes file:');
    narrator.lines(renderDetail(proposal, database.queue.kinds, colors, Date.now()));

    if (options.interactive) {
      narrator.step('Your turn: answer it in the supervise TUI (Enter opens it; a approves, m modifies, r rejects). The TUI closes once it is answered.');
      const { runSuperviseTui } = await loadSuperviseTui();
      await runSuperviseTui(database, { responder: operatorName(), untilSettled: proposal.id, focus: proposal.id });
    } else {
      const answer = await answerProposal(database.queue, proposal, { status: 'approved', reason: APPROVAL_REASON }, operatorName(), reviewOf(proposal));
      if (answer.outcome === 'elsewhere') throw new UserError(`the demo proposal was settled by something else: ${answer.description}.`, VERB_EXIT.failed);
      narrator.step(`The operator approves it (the a key in the TUI), with the reason "${APPROVAL_REASON}".`);
      narrator.lines('The response and its audit entry commit in one transaction; the waiting sidecar wakes at once.');
    }

    let result = (await firstCall) as CallToolResult;
    while (toolStatus(result) === 'pending') {
      narrator.lines(colors.dim('The wait timed out with a pending result; the agent calls again with the proposal_id, as the tool told it to.'));
      result = (await client.callTool({ name: 'egress-allow', arguments: { proposal_id: proposal.id } }, undefined, callOptions)) as CallToolResult;
    }
    narrator.step(`The agent's tool call returns (status ${safeLine(toolStatus(result) ?? 'unknown')}${result.isError ? ', an error' : ''}):`);
    narrator.lines(toolText(result));
    const settled = database.queue.readProposal(slug, proposal.id);
    narrator.lines(colors.dim(`Having read the answer, the sidecar archived the proposal (state now: ${settled?.state ?? 'unknown'}); archiving is the waiter's job, never the operator's.`));

    const entries = database.audit.readAuditEntries({ proposalId: proposal.id });
    narrator.step('The decision is in the audit log, hash-chained to every entry before it:');
    for (const entry of entries) narrator.lines(auditLines(entry, colors));

    const verification = database.audit.verify();
    narrator.step('`bot-bottle audit verify` recomputes the whole chain:');
    if (!verification.ok) {
      narrator.lines(colors.red(`the chain is broken at entry #${verification.firstBad.seq}: ${verification.firstBad.reason}`));
      return VERB_EXIT.failed;
    }
    narrator.lines([
      colors.green(`ok: ${verification.head.count === 1 ? '1 entry' : `${verification.head.count} entries`}, head ${verification.head.hash}:${verification.head.count}`),
      colors.dim('Keep that head somewhere else; `bot-bottle audit verify --expect-head HASH:COUNT` then also catches a truncated log.'),
    ]);
    const removed = where.temporary ? ' The temporary database is removed now.' : '';
    process.stdout.write(`\n${colors.bold('Done.')}${removed} Next: ${howToRun('supervise', packageRoot())} to triage real proposals, and \`audit list\` the same way to review decisions.\n`);
    return VERB_EXIT.ok;
  } finally {
    await client?.close().catch(() => undefined);
    await sidecar?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** `bot-bottle demo`: the whole flow, narrated, on a temporary database unless `--real-db`. */
export async function demo(options: { interactive?: boolean; realDb?: boolean }, command: Command): Promise<void> {
  if (!options.realDb && databasePathOption(command) !== undefined) {
    throw new UserError('--db names a database for the demo to write to, and its audit log would keep the demo’s entry for good: add --real-db to run it there, or leave --db out for a temporary database.', VERB_EXIT.usage);
  }
  if (options.interactive) assertInteractiveTerminal('bot-bottle demo --interactive');
  const narrator = new Narrator(colorsFor(process.stdout));
  const settings = { interactive: options.interactive ?? false };
  process.exitCode = options.realDb
    ? await withHostDatabase(command, (database) => runDemo({ database, temporary: false }, settings, narrator), { watch: true })
    : await withTemporaryDatabase((place) => runDemo({ ...place, temporary: true }, settings, narrator));
}

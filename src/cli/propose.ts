import fs from 'node:fs';
import { CommanderError, type Command } from 'commander';
import { SuperviseError } from '../core/errors.js';
import type { Target } from '../core/target.js';
import { MAX_PAYLOAD_BYTES } from '../core/limits.js';
import type { NewProposal, WaitOutcome } from '../queue/proposal.js';
import type { QueueStore } from '../queue/queue-store.js';
import { validateSlug } from '../core/validation.js';
import { printJson, reportFailure, UserError, withHostDatabase } from './common.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { PROPOSE_EXIT } from '../core/exit-codes.js';

const FROM_SHARED_EXIT: Record<number, number> = {
  [VERB_EXIT.usage]: PROPOSE_EXIT.input,
  [VERB_EXIT.input]: PROPOSE_EXIT.input,
  [VERB_EXIT.conflict]: PROPOSE_EXIT.input,
  [VERB_EXIT.environment]: PROPOSE_EXIT.environment,
  [VERB_EXIT.internal]: PROPOSE_EXIT.internal,
};

interface ProposeFlags {
  bottle: string;
  kind?: string;
  payloadFile?: string;
  payloadStdin?: boolean;
  currentFile?: string;
  justification?: string;
  target?: string;
  origin: string;
  idempotencyKey?: string;
  ttl?: string;
  wait?: string;
  resume?: string;
  finalFile?: string;
  json?: boolean;
}

function input(message: string): UserError {
  return new UserError(message, PROPOSE_EXIT.input);
}

function parseSeconds(raw: string, flag: string, allowZero: boolean): number {
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds) || (!allowZero && seconds === 0)) {
    throw input(`${flag} ${JSON.stringify(raw)} is not valid: give a number of seconds${allowZero ? ' (0 or more)' : ' above 0'}, e.g. ${flag} 30.`);
  }
  return Math.round(seconds * 1000);
}

function readFileFor(file: string, flag: string): string {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw input(`${flag} ${file} is a directory; give the file itself.`);
    if (stat.size > MAX_PAYLOAD_BYTES) throw input(`${flag} ${file} is ${stat.size} bytes, over the payload limit of ${MAX_PAYLOAD_BYTES} bytes.`);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw input(`cannot read ${flag} ${file} (${code}): pass a readable file.`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw input('--payload-stdin reads the payload from a pipe, but stdin is a terminal. Pipe the payload in (… | bot-bottle propose …) or use --payload-file.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAYLOAD_BYTES) throw input(`the payload on stdin is over the limit of ${MAX_PAYLOAD_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function newProposal(flags: ProposeFlags): Promise<NewProposal> {
  if (flags.kind === undefined) throw input('propose needs --kind (e.g. --kind egress-routes-apply), or --resume ID to wait on an earlier proposal.');
  if ((flags.payloadFile === undefined) === (flags.payloadStdin !== true)) {
    throw input('give the payload with exactly one of --payload-file FILE or --payload-stdin.');
  }
  if (flags.target !== undefined && flags.target !== 'operator' && flags.target !== 'sidecar') {
    throw input(`--target ${JSON.stringify(flags.target)} is not valid: use operator (a human answers) or sidecar (the bottle's sidecar answers).`);
  }
  const payload = flags.payloadFile !== undefined ? readFileFor(flags.payloadFile, '--payload-file') : await readStdin();
  return {
    kind: flags.kind,
    payload,
    origin: flags.origin,
    ...(flags.justification !== undefined ? { justification: flags.justification } : {}),
    ...(flags.target !== undefined ? { target: flags.target as Target } : {}),
    ...(flags.currentFile !== undefined ? { currentFile: readFileFor(flags.currentFile, '--current-file') } : {}),
    ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
    ...(flags.ttl !== undefined ? { ttlMs: parseSeconds(flags.ttl, '--ttl', false) } : {}),
  };
}

/** Waits until answered or `timeoutMs`; Ctrl-C ends the wait as pending and leaves the proposal queued. */
async function waitForOutcome(queue: QueueStore, slug: string, id: string, timeoutMs: number): Promise<WaitOutcome> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    return await queue.waitForResponse(slug, id, { timeoutMs, signal: abort.signal });
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

interface ProposeResult {
  exitCode: number;
  json: Record<string, unknown>;
  /** For people, on stderr. */
  summary: string;
  /** For scripts, on stdout: the id while pending, the notes once answered. */
  output: string;
  finalPayload: string | null;
}

async function describe(queue: QueueStore, outcome: WaitOutcome): Promise<ProposeResult> {
  const { proposal } = outcome;
  const base = { proposalId: proposal.id, slug: proposal.slug, kind: proposal.kind, target: proposal.target };
  switch (outcome.outcome) {
    case 'answered': {
      // The waiter is the consumer: it archives once it has the answer (DESIGN §3.3).
      await queue.archiveProposal(proposal.slug, proposal.id);
      const { response } = outcome;
      return {
        exitCode: response.status === 'rejected' ? PROPOSE_EXIT.rejected : PROPOSE_EXIT.approved,
        json: { ...base, status: response.status, notes: response.notes, finalPayload: response.finalPayload, responder: response.responder, answeredAt: new Date(response.createdAt).toISOString() },
        summary: `Proposal ${proposal.id} (${proposal.kind}, bottle "${proposal.slug}") was ${response.status} by ${response.responder}${response.notes ? `: ${response.notes}` : '.'}`,
        output: response.notes === '' ? '' : `${response.notes.replace(/\n$/, '')}\n`,
        finalPayload: response.finalPayload,
      };
    }
    case 'pending':
      return {
        exitCode: PROPOSE_EXIT.pending,
        json: { ...base, status: 'pending', expiresAt: proposal.expiresAt === null ? null : new Date(proposal.expiresAt).toISOString() },
        summary: `Proposal ${proposal.id} (${proposal.kind}, bottle "${proposal.slug}") is pending. Wait again with: bot-bottle propose --bottle ${proposal.slug} --resume ${proposal.id} --wait 30`,
        output: `${proposal.id}\n`,
        finalPayload: null,
      };
    case 'expired':
      return { exitCode: PROPOSE_EXIT.expired, json: { ...base, status: 'expired' }, summary: `Proposal ${proposal.id} expired unanswered; nobody decided it.`, output: '', finalPayload: null };
    case 'cancelled':
      return { exitCode: PROPOSE_EXIT.cancelled, json: { ...base, status: 'cancelled' }, summary: `Proposal ${proposal.id} was cancelled before anyone answered it.`, output: '', finalPayload: null };
  }
}

async function runPropose(flags: ProposeFlags, command: Command): Promise<number> {
  const slug = validateSlug(flags.bottle);
  const timeoutMs = flags.wait === undefined ? 0 : parseSeconds(flags.wait, '--wait', true);
  if (flags.resume !== undefined && (flags.kind !== undefined || flags.payloadFile !== undefined || flags.payloadStdin)) {
    throw input('--resume waits on an existing proposal; drop --kind and the payload flags.');
  }
  const request = flags.resume === undefined ? await newProposal(flags) : undefined;
  const result = await withHostDatabase(
    command,
    async ({ queue }) => {
      const id = request ? (await queue.writeProposal(slug, request)).id : (flags.resume as string);
      if (!queue.readProposal(slug, id)) throw new SuperviseError('not-found', `no proposal ${JSON.stringify(id)} for bottle "${slug}". Use the id an earlier propose printed.`);
      return describe(queue, await waitForOutcome(queue, slug, id, timeoutMs));
    },
    { watch: timeoutMs > 0 },
  );
  if (result.finalPayload !== null && flags.finalFile !== undefined) fs.writeFileSync(flags.finalFile, result.finalPayload, 'utf8');
  if (flags.json) printJson(result.json);
  else {
    process.stderr.write(`${result.summary}\n`);
    process.stdout.write(result.output);
  }
  return result.exitCode;
}

export function registerPropose(program: Command): void {
  const command = program
    .command('propose')
    .description('Enqueue a proposal for a bottle (up to the operator, or down to its sidecar) and optionally wait for the answer.')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes (the same as the sidecar\'s propose):',
        '   0  approved or modified (stdout: the notes)',
        '   1  rejected (stdout: the notes)',
        '   2  still pending (stdout: the id; wait again with --resume ID --wait SECONDS)',
        '   3  expired unanswered',
        '   4  bad flags or input',
        '   5  the environment needs fixing (layout, schema version, a lock held too long)',
        '   6  cancelled before anyone answered',
        '  70  a bug',
      ].join('\n'),
    )
    .requiredOption('--bottle <slug>', 'the bottle the proposal is for')
    .option('--kind <kind>', 'the proposal kind (egress-allow, egress-routes-apply, …)')
    .option('--payload-file <file>', 'read the payload (the full proposed file or report) from this file')
    .option('--payload-stdin', 'read the payload from standard input')
    .option('--current-file <file>', 'the file the payload replaces, so the reviewer sees a diff')
    .option('--justification <text>', 'why; shown to whoever answers')
    .option('--target <who>', 'operator or sidecar (default: the kind\'s own)')
    .option('--origin <name>', 'who is asking, recorded with the proposal', 'host')
    .option('--idempotency-key <key>', 'enqueueing again with the same key returns the first proposal instead of a duplicate')
    .option('--ttl <seconds>', 'expire the proposal if unanswered this long (default one day)')
    .option('--wait <seconds>', 'wait this long for the answer (default 0: enqueue and exit 2 with the id)')
    .option('--resume <id>', 'wait on a proposal enqueued earlier instead of enqueueing')
    .option('--final-file <file>', 'when the answer is "modified", write the final file here')
    .option('--json', 'print the outcome as JSON');
  command
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => undefined })
    .exitOverride((error: CommanderError) => {
      if (error.exitCode === 0) throw error;
      throw new UserError(`${error.message.replace(/^error: /, '')}. Run \`bot-bottle propose --help\` for usage.`, PROPOSE_EXIT.input);
    })
    .action(async (flags: ProposeFlags, self: Command) => {
      try {
        process.exitCode = await runPropose(flags, self);
      } catch (error) {
        const code = reportFailure(error);
        process.exitCode = error instanceof UserError && error.exitCode >= PROPOSE_EXIT.input ? error.exitCode : (FROM_SHARED_EXIT[code] ?? PROPOSE_EXIT.internal);
      }
    });
}

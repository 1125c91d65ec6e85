import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, isJSONRPCRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isSuperviseError } from '../src/core/errors.js';
import { environmentError } from '../src/storage/environment-errors.js';
import { KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK } from '../src/kinds/builtin-rules.js';
import { MAX_JUSTIFICATION_BYTES, MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { parseRoutesYaml } from '../src/kinds/routes-file.js';
import type { SidecarQueue } from '../src/queue/sidecar-view.js';
import type { Proposal } from '../src/queue/proposal.js';
import { validateTextSize } from '../src/core/validation.js';
import type { SidecarConfig } from './config.js';
import { applyIfApproved, reportApplied } from './approved-routes.js';
import { readCurrentRoutes } from './current-routes.js';
import { listEgressRoutes } from './egress-routes.js';
import type { ApplyOutcome, LiveRoutesFile } from './live-routes.js';
import { askAndWait, idempotencyBase, resumeWait, type ProposalResult } from '../src/queue/proposal-flow.js';
import { describeForAgent } from '../src/queue/proposal-result.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import { OUTCOME_STATUSES, proposalOutcome } from './proposal-outcome.js';
import type { Log } from './log-line.js';

export const SERVER_NAME = 'bot-bottle-supervise';
export const TOOL_LIST_EGRESS_ROUTES = 'list-egress-routes';
export const TOOL_NAMES: readonly string[] = [KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK, TOOL_LIST_EGRESS_ROUTES];

const ORIGIN = 'agent';

export interface ToolContext {
  queue: SidecarQueue;
  /** The live routes file approved proposals are applied to; undefined without SUPERVISE_ROUTES_FILE. */
  live: LiveRoutesFile | undefined;
  config: SidecarConfig;
  /** Aborted at shutdown: every wait in flight returns a pending result. */
  shutdown: AbortSignal;
  log: Log;
}

const ROUTES_SHAPE =
  'A YAML document with one top-level key, routes: a list of {host, path_allowlist?, auth?, dlp?}. host is a bare hostname (api.github.com or *.github.com); ' +
  'path_allowlist is a non-empty list of absolute path prefixes (omit it to allow every path); auth needs both scheme (bearer, basic or token) and token_ref ' +
  '(the NAME of an environment variable holding the token, never the token); dlp.outbound_on_match is block, redact or supervise.';

const routeProposalInput = {
  routes_yaml: z
    .string()
    .optional()
    .describe(`The complete routes file you propose, not a fragment: start from list-egress-routes and add your change. ${ROUTES_SHAPE}`),
  justification: z.string().optional().describe('Why you need this change, for the human operator who decides. Be specific: which task, which host, which paths.'),
  proposal_id: z
    .string()
    .max(100)
    .optional()
    .describe('Only to keep waiting on a proposal an earlier call reported as pending; routes_yaml and justification are then not needed.'),
};

const routeProposalOutput = {
  status: z.enum(OUTCOME_STATUSES),
  notes: z.string(),
  proposal_id: z.string(),
  final_routes_yaml: z.string().optional(),
  merged_routes_yaml: z.string().optional(),
  apply_error: z.string().optional(),
};

function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function routeProposalResult(result: ProposalResult, tool: string, applied: ApplyOutcome | undefined): CallToolResult {
  let text = describeForAgent(result, {
    resume: (id) => `call ${tool} again with {"proposal_id": "${id}"}`,
    askAgain: 'change the justification (say what changed)',
  });
  const report = applied && reportApplied(applied);
  const structured = proposalOutcome(result, report);
  if (report) text += ` ${report.sentence}`;
  if (structured.final_routes_yaml !== undefined) text += `\n\nThe routes file as the operator approved it:\n\n${structured.final_routes_yaml}`;
  if (structured.merged_routes_yaml !== undefined) text += `\n\nThe live routes file now (merged):\n\n${structured.merged_routes_yaml}`;
  return { content: [{ type: 'text', text }], structuredContent: { ...structured } };
}

/** `egress-allow` / `egress-block`: validate, enqueue (or resume), wait for the operator, archive. */
function routeProposalTool(kind: string, context: ToolContext) {
  return async (
    args: { routes_yaml?: string | undefined; justification?: string | undefined; proposal_id?: string | undefined },
    extra: { signal: AbortSignal },
  ): Promise<CallToolResult> => {
    const { queue, config } = context;
    const wait = {
      timeoutMs: config.responseTimeoutMs,
      signal: AbortSignal.any([context.shutdown, extra.signal]),
      onQueued: (proposal: Proposal) => context.log(`${kind} proposal ${proposal.id} for bottle ${queue.slug} (${proposal.state}); waiting for operator...`),
    };
    try {
      // The operator's answer is applied even when the agent stopped listening; only shutdown interrupts it.
      const answered = async (result: ProposalResult) => routeProposalResult(result, kind, await applyIfApproved(result, queue, context.live, context.shutdown));
      if (args.proposal_id !== undefined) {
        return answered(await resumeWait(queue, args.proposal_id, wait, { kind, target: 'operator' }));
      }
      if (args.routes_yaml === undefined || args.justification === undefined) {
        return toolError(`${kind} needs routes_yaml (the complete routes file you propose) and justification, or proposal_id to keep waiting on a pending proposal.`);
      }
      if (args.justification.trim() === '') return toolError('justification is empty: tell the operator why you need this change.');
      validateTextSize(args.routes_yaml, MAX_PAYLOAD_BYTES, 'routes_yaml');
      validateTextSize(args.justification, MAX_JUSTIFICATION_BYTES, 'justification');
      parseRoutesYaml(args.routes_yaml);
      const current = await readCurrentRoutes(config.routesFile, context.log);
      const proposal = {
        kind,
        origin: ORIGIN,
        payload: args.routes_yaml,
        justification: args.justification,
        currentFileHash: current.hash,
        ...(current.text !== undefined ? { currentFile: current.text } : {}),
      };
      const result = await askAndWait(queue, { ...proposal, idempotency: { base: idempotencyBase(ORIGIN, proposal), earlierAnswer: 'report' } }, wait);
      context.log(`${kind} proposal ${result.proposalId} for bottle ${queue.slug}: ${result.status}`);
      return answered(result);
    } catch (error) {
      // A full disk or a damaged database is the environment's: the agent is told so, not handed an internal error.
      const failure = environmentError(error) ?? error;
      if (isSuperviseError(failure)) return toolError(failure.message);
      throw failure;
    }
  };
}

async function listRoutesTool(context: ToolContext, signal: AbortSignal): Promise<CallToolResult> {
  const listing = await listEgressRoutes(context.config.egressUrl, AbortSignal.any([context.shutdown, signal]));
  if (!listing.ok) {
    return toolError(
      `Cannot list the live egress routes: ${listing.reason} Proposals still work: egress-allow and egress-block take a complete routes file (${ROUTES_SHAPE})`,
    );
  }
  const text = `Live egress routes from ${listing.url} (${listing.routes.routes.length} route(s)), in the routes-file format egress-allow and egress-block take. Token values are never shown; token_ref names the variable that holds each one.\n\n${listing.routesYaml}`;
  return { content: [{ type: 'text', text }], structuredContent: { url: listing.url, routes_yaml: listing.routesYaml } };
}

/** One server per HTTP request (the SDK's stateless pattern); the queue and config are shared. */
export function createMcpServer(context: ToolContext): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: PACKAGE_VERSION }, { capabilities: { tools: {} } });
  server.registerTool(
    KIND_EGRESS_ALLOW,
    {
      title: 'Ask the operator to allow egress routes',
      description:
        'Propose a new egress routes file that allows what you need (a new host, more paths). A human operator approves, modifies or rejects it; this call waits for the decision ' +
        `(up to ${Math.round(context.config.responseTimeoutMs / 1000)} s) and otherwise returns a pending result with a proposal_id to resume with.`,
      inputSchema: routeProposalInput,
      outputSchema: routeProposalOutput,
    },
    routeProposalTool(KIND_EGRESS_ALLOW, context),
  );
  server.registerTool(
    KIND_EGRESS_BLOCK,
    {
      title: 'Report an egress block and propose a fix',
      description:
        'You were blocked by the egress proxy: propose the complete routes file that would let the request through. The operator decides as for egress-allow; same waiting and resuming rules.',
      inputSchema: routeProposalInput,
      outputSchema: routeProposalOutput,
    },
    routeProposalTool(KIND_EGRESS_BLOCK, context),
  );
  server.registerTool(
    TOOL_LIST_EGRESS_ROUTES,
    {
      title: 'List the live egress routes',
      description: 'Returns the egress proxy’s current routes as a routes file (never token values), ready to edit and propose with egress-allow.',
      inputSchema: {},
      outputSchema: { url: z.string(), routes_yaml: z.string() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (_args, extra) => listRoutesTool(context, extra.signal),
  );
  return server;
}

/**
 * The SDK answers a call to an unknown tool with a tool result marked isError; MCP's tools spec
 * makes it a protocol error (-32602), so it is answered here before the server sees it.
 */
export function rejectUnknownTools(transport: Transport, known: readonly string[]): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (isJSONRPCRequest(message) && message.method === 'tools/call') {
      const name = (message.params as { name?: unknown } | undefined)?.name;
      if (typeof name === 'string' && !known.includes(name)) {
        const shown = JSON.stringify(name.slice(0, 100));
        void transport.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidParams, message: `Unknown tool: ${shown}. This server has: ${known.join(', ')}.` } });
        return;
      }
    }
    deliver?.(message, extra);
  };
}

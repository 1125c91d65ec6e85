import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { openHostDatabase, type SuperviseDatabase } from '../database.js';
import { SuperviseError } from '../core/errors.js';
import { KIND_EGRESS_ROUTES_APPLY } from '../kinds/builtin-rules.js';
import { SHARED_DIR_IN_CONTAINER, hostDbPath, sharedDir } from '../storage/layout.js';
import { askAndWait, idempotencyBase, resumeWait } from '../queue/proposal-flow.js';
import type { ProposalResponse } from '../queue/proposal.js';
import { validateSlug } from '../core/validation.js';
import { sha256 } from '../core/hash.js';
import { KEYS_DIR_IN_CONTAINER, ensureBottleKeys, ensureHostKeyPair, readBottleKey } from '../keys/key-files.js';
import { MAX_FLOOD_SETTING } from '../queue/flood-control.js';
import { backendProfile, brokerUrlFor, type SuperviseBackend } from './backends.js';

export type ContainerEngine = 'docker' | 'podman';

/** The label Dockerfile.sidecar sets to the database schema version the image's sidecar needs. */
export const SCHEMA_VERSION_LABEL = 'io.bot-bottle.schema-version';

/** A sidecar image as the engine that will run it knows it (a tag, or a name with its digest). */
export interface SidecarImage {
  engine: ContainerEngine;
  ref: string;
}

export interface SuperviseMount {
  type: 'bind';
  source: string;
  target: string;
  readonly?: boolean;
}

export interface PrepareSuperviseOptions {
  /**
   * The bottle's internal network (created with `network create --internal`, so it has no
   * egress). The agent reaches the sidecar on it as `supervise:9100`. Default `bot-bottle-<slug>`.
   */
  network?: string;
  /** Container name; default `bot-bottle-<slug>-supervise`. */
  name?: string;
  /** The egress proxy's route-table endpoint for `list-egress-routes`. */
  egressUrl?: string;
  /** The live routes file inside the sidecar that `egress-routes-apply` replaces. */
  routesFile?: string;
  /** argv run after the routes file is replaced (no shell). */
  reloadCommand?: string[];
  responseTimeoutSeconds?: number;
  /** uid:gid the sidecar runs as; default this process's, which owns the shared directory. */
  user?: { uid: number; gid: number };
  /** The bottle's proposals waiting for the operator at once; past it the agent is told to wait (default 20). */
  maxPending?: number;
  /** The bottle's proposals in any minute (default 30). */
  proposalsPerMinute?: number;
  /** Host names the sidecar answers to (default `supervise`, `localhost`, `127.0.0.1`, `[::1]`); others get 403. */
  allowedHosts?: string[];
  /** The sidecar's listen address (default 0.0.0.0: the bottle's network is the boundary). */
  listenHost?: string;
  /** Require a bearer token on `/mcp`, derived from the bottle key; the plan's `mcpToken` is what the agent's client sends. */
  requireMcpToken?: boolean;
  /**
   * The image the launcher will run: its SCHEMA_VERSION_LABEL must equal the database's schema
   * version, or prepareSupervise refuses it (`schema-mismatch`) before a sidecar could start on it.
   */
  image?: SidecarImage;
  /**
   * Where the bottle runs (default `docker`/`podman` on Linux: the shared directory is mounted).
   * A VM-backed backend gets broker mode: no database mount, the broker's URL as the VM sees the host.
   */
  backend?: SuperviseBackend;
  /** Broker mode on a Linux backend too (no bottle holds the shared file): the broker's URL as the bottle reaches it. */
  brokerUrl?: string;
  /** The port `bot-bottle broker` listens on, for the backend's host alias (default 9110). */
  brokerPort?: number;
  /** Broker mode: a network of the sidecar's that reaches the host (the bottle's own is internal); added as a second `--network`. */
  brokerNetwork?: string;
}

/** Everything a launcher needs to start a bottle's sidecar against the host database. */
export interface SupervisePlan {
  hostDbPath: string;
  sharedDir: string;
  mount: SuperviseMount;
  /**
   * The bottle's key directory (its MAC key and the host's public key), read-only at
   * KEYS_DIR_IN_CONTAINER: into this bottle's sidecar (and git-gate) only, never another's.
   */
  keysMount: SuperviseMount;
  env: Record<string, string>;
  /** `broker`: the database is not mounted and `brokerUrl` is how the sidecar reaches it. */
  mode: 'mount' | 'broker';
  brokerUrl?: string;
  /** What `runArgs` mounts: the shared directory (mount mode only) and the bottle's key directory. */
  mounts: SuperviseMount[];
  /** With `requireMcpToken`: give it to the agent's MCP client as `Authorization: Bearer <mcpToken>`. */
  mcpToken?: string;
  /** Arguments after the engine's binary: `[engine, ...plan.runArgs(engine, image)]`. */
  runArgs(engine: ContainerEngine, image: string): string[];
}

/**
 * Makes sure the host database exists and is migrated (only the host migrates: a sidecar never
 * changes the schema under the host's feet) and returns the mount, env and run arguments for the
 * bottle's sidecar: the shared directory, never the file, bind-mounted with `--mount` (a missing
 * source fails instead of becoming an empty directory), the host user's uid:gid, and the bottle's
 * internal network only. It also makes the bottle's key (once) and mounts its directory read-only,
 * so the sidecar can seal what it writes as this bottle and check the host's signatures.
 */
export async function prepareSupervise(slug: string, options: PrepareSuperviseOptions = {}): Promise<SupervisePlan> {
  validateSlug(slug);
  // Checked before anything is made, so a bad backend or broker address writes nothing.
  const backend = options.backend ?? 'docker';
  const profile = backendProfile(backend);
  const brokerUrl = profile.mode === 'broker' || options.brokerUrl !== undefined ? brokerUrlFor(profile, options) : undefined;
  const database = await openHostDatabase({ watch: false });
  const schemaVersion = database.db.pragma('user_version', { simple: true }) as number;
  await database.close();
  if (options.image !== undefined) await requireImageSchema(options.image, schemaVersion);

  const source = sharedDir();
  const mount: SuperviseMount = { type: 'bind', source, target: SHARED_DIR_IN_CONTAINER };
  const keysMount: SuperviseMount = { type: 'bind', source: ensureBottleKeys(slug, ensureHostKeyPair()), target: KEYS_DIR_IN_CONTAINER, readonly: true };
  const env: Record<string, string> = { SUPERVISE_BOTTLE_SLUG: slug };
  if (brokerUrl !== undefined) env.SUPERVISE_BROKER_URL = brokerUrl;
  const mounts = brokerUrl === undefined ? [mount, keysMount] : [keysMount];
  if (options.egressUrl !== undefined) env.SUPERVISE_EGRESS_URL = options.egressUrl;
  if (options.routesFile !== undefined) env.SUPERVISE_ROUTES_FILE = options.routesFile;
  if (options.reloadCommand !== undefined) env.SUPERVISE_RELOAD_COMMAND = JSON.stringify(options.reloadCommand);
  if (options.responseTimeoutSeconds !== undefined) env.SUPERVISE_RESPONSE_TIMEOUT_SECONDS = String(options.responseTimeoutSeconds);
  if (options.maxPending !== undefined) env.SUPERVISE_MAX_PENDING = String(floodSetting(options.maxPending, 'maxPending'));
  if (options.proposalsPerMinute !== undefined) env.SUPERVISE_PROPOSALS_PER_MINUTE = String(floodSetting(options.proposalsPerMinute, 'proposalsPerMinute'));
  if (options.allowedHosts !== undefined) env.SUPERVISE_ALLOWED_HOSTS = options.allowedHosts.join(',');
  if (options.listenHost !== undefined) env.SUPERVISE_LISTEN_HOST = options.listenHost;
  const mcpToken = options.requireMcpToken ? mcpBearerToken(slug) : undefined;
  if (mcpToken !== undefined) env.SUPERVISE_MCP_TOKEN = mcpToken;
  const user = options.user ?? currentUser();
  const network = options.network ?? `bot-bottle-${slug}`;
  const name = options.name ?? `bot-bottle-${slug}-supervise`;

  return {
    hostDbPath: hostDbPath(),
    sharedDir: source,
    mount,
    keysMount,
    env,
    mode: brokerUrl === undefined ? 'mount' : 'broker',
    ...(brokerUrl !== undefined ? { brokerUrl } : {}),
    mounts,
    ...(mcpToken !== undefined ? { mcpToken } : {}),
    runArgs(engine, image) {
      const args = [
        'run',
        '--name',
        name,
        // Hardened: an init reaps the reload command's children; the sidecar writes only to the
        // shared directory's mount, needs no capability, and can never gain privileges.
        '--init',
        '--read-only',
        '--cap-drop=ALL',
        '--security-opt=no-new-privileges',
      ];
      for (const each of mounts) args.push('--mount', `type=bind,src=${each.source},dst=${each.target}${each.readonly ? ',readonly' : ''}`);
      args.push('--user', `${user.uid}:${user.gid}`);
      // Rootless podman maps the host user to root in the container unless told to keep the id.
      if (engine === 'podman' && user.uid !== 0 && process.getuid?.() !== 0) args.push('--userns=keep-id');
      args.push('--network', network, '--network-alias', 'supervise');
      if (brokerUrl !== undefined && options.brokerNetwork !== undefined) args.push('--network', options.brokerNetwork);
      // Docker Engine on Linux has no host name for the host unless asked; Docker Desktop and podman add their own.
      if (brokerUrl !== undefined && engine === 'docker' && backend === 'docker') args.push('--add-host', 'host.docker.internal:host-gateway');
      for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
      args.push(image);
      return args;
    },
  };
}

const execFileAsync = promisify(execFile);

/** Refuses an image built for another schema than the database's, naming the way out. */
async function requireImageSchema(image: SidecarImage, schemaVersion: number): Promise<void> {
  let labels: Record<string, string> | null;
  try {
    const { stdout } = await execFileAsync(image.engine, ['image', 'inspect', '--format', '{{json .Config.Labels}}', image.ref], { encoding: 'utf8' });
    labels = JSON.parse(stdout) as Record<string, string> | null;
  } catch (error) {
    const reason = ((error as { stderr?: string }).stderr ?? '').trim() || (error as Error).message;
    throw new SuperviseError('config', `cannot inspect the sidecar image ${image.ref} with ${image.engine} (${reason}); build it (\`${image.engine} build -f Dockerfile.sidecar -t ${image.ref} .\`) or pull it first.`);
  }
  const label = labels?.[SCHEMA_VERSION_LABEL];
  const build = `${image.engine} build -f Dockerfile.sidecar -t ${image.ref} .`;
  if (label === undefined) {
    throw new SuperviseError('schema-mismatch', `the sidecar image ${image.ref} has no ${SCHEMA_VERSION_LABEL} label, so the schema it needs is unknown; rebuild it from this version's Dockerfile.sidecar (\`${build}\`).`);
  }
  if (label !== String(schemaVersion)) {
    throw new SuperviseError(
      'schema-mismatch',
      `the sidecar image ${image.ref} needs database schema ${label}, but the host database is at schema ${schemaVersion}: rebuild the image from the host's version (\`${build}\`), or run the image's version of the host tools (bot-bottle db migrate/rollback).`,
    );
  }
}

function floodSetting(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_FLOOD_SETTING) {
    throw new SuperviseError('invalid-input', `${name} must be a whole number from 1 to ${MAX_FLOOD_SETTING}, got ${String(value)}.`);
  }
  return value;
}

/**
 * Derived from the bottle key rather than stored: the launcher and the sidecar agree on it without
 * another secret file, it differs per bottle, and a new bottle key gives a new token.
 */
function mcpBearerToken(slug: string): string {
  ensureBottleKeys(slug, ensureHostKeyPair());
  const key = readBottleKey(slug);
  if (key === undefined) throw new SuperviseError('layout', `the key of bottle "${slug}" was not made; check ~/.bot-bottle/keys and run prepareSupervise again.`);
  return createHmac('sha256', key).update('mcp-bearer').digest('hex');
}

function currentUser(): { uid: number; gid: number } {
  if (!process.getuid || !process.getgid) {
    throw new SuperviseError('invalid-input', 'prepareSupervise needs a POSIX host (it runs the sidecar as the host user); pass options.user explicitly.');
  }
  return { uid: process.getuid(), gid: process.getgid() };
}

export interface ApplyRoutesOptions {
  timeoutMs: number;
  /** A database this process already has open; otherwise the host database is opened and closed. */
  database?: SuperviseDatabase;
  /** Resume waiting on an earlier call's pending proposal instead of sending the file again. */
  proposalId?: string;
  /**
   * Sending again with the same key returns that proposal instead of a new one. By default the key
   * is derived from the routes file, so a retried call joins the pending proposal (or collects an
   * answer no call has consumed yet), while applying the same file after its answer was consumed
   * asks the sidecar anew: the live file may have changed since.
   */
  idempotencyKey?: string;
  /**
   * The live routes file this one was made from, as the launcher last knew it. The sidecar then
   * applies the new file only onto that file; onto a file changed since, only through a clean
   * route-level merge, and otherwise answers rejected with "stale: propose again". Without it the
   * file replaces whatever is live.
   */
  currentFile?: string;
  signal?: AbortSignal;
}

export type ApplyRoutesResult =
  | { outcome: 'answered'; proposalId: string; status: ProposalResponse['status']; notes: string }
  | { outcome: 'pending' | 'expired' | 'cancelled'; proposalId: string };

const ORIGIN = 'host';
const JUSTIFICATION = 'launcher: apply routes to the live egress proxy';

/**
 * The downward flow: the launcher cannot reach into the bottle, so it asks the bottle's sidecar to
 * apply a routes file and waits for its answer: `approved` with the applied file's sha256 in the
 * notes, or `rejected` with the error. On timeout the result is `pending` with the id to resume with.
 */
export async function applyRoutes(slug: string, routesYaml: string, options: ApplyRoutesOptions): Promise<ApplyRoutesResult> {
  validateSlug(slug);
  const database = options.database ?? (await openHostDatabase());
  try {
    const queue = database.queue.forSlug(slug);
    const wait = { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
    const request = {
      kind: KIND_EGRESS_ROUTES_APPLY,
      origin: ORIGIN,
      payload: routesYaml,
      justification: JUSTIFICATION,
      ...(options.currentFile !== undefined ? { currentFile: options.currentFile, currentFileHash: sha256(options.currentFile) } : {}),
    };
    const result =
      options.proposalId !== undefined
        ? await resumeWait(queue, options.proposalId, wait, { kind: KIND_EGRESS_ROUTES_APPLY })
        : await askAndWait(
            queue,
            {
              ...request,
              idempotency: options.idempotencyKey !== undefined ? { key: options.idempotencyKey } : { base: idempotencyBase(ORIGIN, request), earlierAnswer: 'ask-again' },
            },
            wait,
          );
    switch (result.status) {
      case 'approved':
      case 'modified':
      case 'rejected':
        return { outcome: 'answered', proposalId: result.proposalId, status: result.status, notes: result.notes };
      default:
        return { outcome: result.status, proposalId: result.proposalId };
    }
  } finally {
    if (!options.database) await database.close();
  }
}

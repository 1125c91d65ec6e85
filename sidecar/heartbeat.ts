import { HEARTBEAT_INTERVAL_MS } from '../src/bottles/bottle-overview.js';
import type { Heartbeat } from '../src/bottles/bottle-store.js';
import type { SidecarBottle } from '../src/queue/sidecar-view.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { readLiveRoutes, withinPayloadLimit } from './current-routes.js';
import type { Log } from './log-line.js';

export interface HeartbeatOptions {
  bottle: SidecarBottle;
  sidecarVersion: string;
  routesFile: string | undefined;
  log: Log;
}

/**
 * The sidecar's row in the bottles table: its version, the schema it runs, and the live routes
 * file's hash and text, so the operator is warned when a proposal was made against another file
 * and sees the bottle alive. Every beat is one upsert, MACed with the bottle's key.
 * A failed beat is logged and tried again at the next one; it never stops the sidecar.
 */
export class SidecarHeartbeat {
  readonly #options: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** Beats once now (so the row is there when the sidecar says it is ready), then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Resolves once this beat is written (beats run one after another, so the newest file wins). */
  beat(): Promise<void> {
    this.#beating = this.#beating.then(() => this.#publish());
    return this.#beating;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
  }

  async #publish(): Promise<void> {
    try {
      await this.#options.bottle.recordHeartbeat(await this.#read());
    } catch (error) {
      this.#options.log(`heartbeat not recorded: ${error instanceof Error ? error.message : String(error)}`, 'warn');
    }
  }

  async #read(): Promise<Heartbeat> {
    const { routesFile, sidecarVersion } = this.#options;
    const beat = { sidecarVersion, schemaVersion: SCHEMA_VERSION };
    if (!routesFile) return { ...beat, liveRoutes: undefined };
    try {
      const live = await readLiveRoutes(routesFile);
      return { ...beat, liveRoutes: { hash: live.hash, text: withinPayloadLimit(live.text) } };
    } catch (error) {
      this.#options.log(`cannot read the live routes file ${routesFile} for the heartbeat (${(error as NodeJS.ErrnoException).code ?? String(error)}); published as unknown.`, 'warn');
      return { ...beat, liveRoutes: undefined };
    }
  }
}

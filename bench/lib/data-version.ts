import Database from 'better-sqlite3';

/**
 * The change check of a `PRAGMA data_version` poller (as the Honker queue waits): a connection of
 * its own on the database file, whose data_version moves whenever another connection commits. A
 * check costs a few microseconds; the poller touches the queue only when it says something changed.
 */
export class DataVersionCheck {
  readonly #db: Database.Database;
  #last = Number.NaN;
  /** How many times the version was read. */
  checks = 0;

  constructor(file: string) {
    this.#db = new Database(file, { fileMustExist: true });
  }

  /** True on the first call and whenever a commit landed since the previous call. */
  changed(): boolean {
    this.checks++;
    const version = this.#db.pragma('data_version', { simple: true }) as number;
    if (version === this.#last) return false;
    this.#last = version;
    return true;
  }

  close(): void {
    this.#db.close();
  }
}

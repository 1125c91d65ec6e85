import type { SourceKind } from './ledger.js';

export type UnitKind = 'proposals' | 'responses' | 'auditLines';
export type Result = 'imported' | 'alreadyPresent' | 'malformed';

export interface UnitCounts {
  read: number;
  imported: number;
  alreadyPresent: number;
  malformed: number;
}

export interface LegacyProblem {
  /** Relative to the import root, e.g. `queue/acme/1234.json` or `audit/egress.jsonl`. */
  path: string;
  line?: number;
  reason: string;
}

export interface LegacyImportSummary {
  from: string;
  dryRun: boolean;
  proposals: UnitCounts;
  responses: UnitCounts;
  auditLines: UnitCounts;
  /** Malformed files and lines, and directories or files that could not be read at all. */
  problems: LegacyProblem[];
  /** Files and directories that are not part of the legacy layout, left alone. */
  ignored: { count: number; examples: string[] };
  /** read = imported + alreadyPresent + malformed for every unit, and the rows this run wrote agree. */
  countsVerified: boolean;
  countMismatch?: string;
}

/** What became of one file or line. */
export interface Outcome {
  unit: UnitKind;
  result: Result;
  path: string;
  line?: number;
  reason?: string;
}

const IGNORED_EXAMPLES = 20;

/** Counts every file and line as it is read and as its outcome settles, and the problems met on the way. */
export class Collector {
  readonly counts: Record<UnitKind, UnitCounts> = {
    proposals: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
    responses: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
    auditLines: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
  };
  readonly problems: LegacyProblem[] = [];
  readonly ignored = { count: 0, examples: [] as string[] };

  read(unit: UnitKind): void {
    this.counts[unit].read += 1;
  }

  settle(outcomes: Outcome[]): void {
    for (const outcome of outcomes) {
      this.counts[outcome.unit][outcome.result] += 1;
      if (outcome.result === 'malformed') this.problems.push({ path: outcome.path, ...(outcome.line !== undefined ? { line: outcome.line } : {}), reason: outcome.reason ?? 'malformed' });
    }
  }

  ignore(rel: string): void {
    this.ignored.count += 1;
    if (this.ignored.examples.length < IGNORED_EXAMPLES) this.ignored.examples.push(rel);
  }

  unreadable(rel: string, error: unknown): void {
    this.problems.push({ path: rel, reason: cannotRead(error) });
  }

  /** An entry the import does not read (a link out of the tree, a loop), with the reason. */
  refuse(rel: string, reason: string): void {
    this.problems.push({ path: rel, reason });
  }

  /**
   * The run's summary; its counts must add up, and agree with what the run recorded (`recorded`,
   * per source kind), or it says where they do not.
   */
  summarize(from: string, dryRun: boolean, recorded: Record<SourceKind, number>): LegacyImportSummary {
    const { counts } = this;
    const mismatches: string[] = [];
    for (const unit of ['proposals', 'responses', 'auditLines'] as const) {
      const c = counts[unit];
      if (c.read !== c.imported + c.alreadyPresent + c.malformed) {
        mismatches.push(`${unit}: read ${c.read} but imported ${c.imported} + already present ${c.alreadyPresent} + malformed ${c.malformed}`);
      }
    }
    for (const [unit, kind] of [['proposals', 'proposal'], ['responses', 'response'], ['auditLines', 'audit']] as const) {
      if (recorded[kind] !== counts[unit].imported) mismatches.push(`${unit}: counted ${counts[unit].imported} imported but ${recorded[kind]} were recorded in legacy_imports`);
    }
    return {
      from,
      dryRun,
      proposals: counts.proposals,
      responses: counts.responses,
      auditLines: counts.auditLines,
      problems: [...this.problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0))),
      ignored: this.ignored,
      countsVerified: mismatches.length === 0,
      ...(mismatches.length > 0 ? { countMismatch: mismatches.join('; ') } : {}),
    };
  }
}

/** Why a file or directory could not be read, as the problem list puts it. */
export function cannotRead(error: unknown): string {
  return `cannot be read (${describeFsError(error)})`;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it vanished, or is a link to nothing';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (error as Error).message;
}

/**
 * What the dashboard's JSON API sends and takes. The server (Node) and the page (the browser)
 * both compile this file, so it imports nothing. Every string in a `…View` that a bottle could
 * have written is display-safe already (`safeText`/`safeLine` on the server); the page puts
 * it on screen with `textContent` only.
 */

export type SealView = 'host' | 'bottle' | 'forged';

/** One pending proposal as a row of the list: fair order across bottles is the server's. */
export interface PendingRowView {
  id: string;
  shortId: string;
  slug: string;
  kind: string;
  origin: string;
  createdAt: number;
  /** The justification's first line, squeezed. */
  excerpt: string;
  stale: boolean;
  forged: boolean;
}

export interface PendingView {
  rows: PendingRowView[];
  /** Milliseconds since the epoch at which the server read the list. */
  readAt: number;
}

/**
 * The list as `/api/pending` gives it on load, with its version: the page opens its event stream
 * with it (`/api/events?have=`), and the stream sends the list again only if it changed since.
 */
export interface PendingLoadView extends PendingView {
  version: string;
}

export type LineTone = 'add' | 'del' | 'hunk' | 'meta' | 'plain';

export interface ViewLine {
  tone: LineTone;
  text: string;
}

export interface ViewSection {
  heading: string;
  lines: ViewLine[];
}

export interface WarningView {
  tone: 'danger' | 'warn' | 'note';
  text: string;
}

/** One proposal as the detail pane shows it, and what an answer to it must be bound to. */
export interface ProposalView {
  id: string;
  /** Only `pending` can be answered; any other state is shown with how it was settled. */
  state: string;
  settled: string | null;
  slug: string;
  kind: string;
  origin: string;
  createdAt: number;
  expiresAt: number | null;
  kindDescription: string;
  modifiable: boolean;
  reasonRequiredToApprove: boolean;
  seal: SealView;
  payloadSha256: string;
  currentFileHash: string | null;
  warnings: WarningView[];
  justification: string[];
  sections: ViewSection[];
  /** The proposed file exactly as sent: only ever the editor's value (a textarea), never markup. */
  payload: string;
}

/** The result of checking an edited file with the kind's own validation, before anything is written. */
export type EditCheckView =
  | { ok: true; diff: ViewLine[]; unchanged: boolean }
  | { ok: false; message: string; problems: Array<{ line: number | null; text: string }> };

export interface AnswerRequest {
  status: 'approved' | 'modified' | 'rejected';
  reason: string;
  finalPayload?: string;
  /** What the page showed: the answer is refused if the proposal changed since. */
  payloadSha256: string;
  currentFileHash: string | null;
}

export type AnswerView = { outcome: 'answered'; status: string; responder: string } | { outcome: 'elsewhere'; description: string };

/** Every error the API returns: a message that names the problem and what to do, and a stable code. */
export interface ErrorView {
  error: string;
  code: string;
  problems?: Array<{ line: number | null; text: string }>;
}

export interface AuditRowView {
  seq: number;
  ts: number;
  slug: string;
  component: string;
  action: string;
  kind: string;
  status: string;
  actor: string;
  notes: string;
}

export interface AuditListView {
  rows: AuditRowView[];
  headCount: number;
}

export interface AuditEntryView extends AuditRowView {
  proposalId: string;
  notesLines: string[];
  diff: ViewLine[];
  prevHash: string;
  hash: string;
  contentsMatchHash: boolean;
}

export interface VerifyView {
  ok: boolean;
  chain: { ok: true; count: number; head: string } | { ok: false; firstBadSeq: number; reason: string; validCount: number };
  answersChecked: number;
  answerProblems: Array<{ proposalId: string; slug: string; reason: string }>;
}

/**
 * One bottle as the host's overview (`BottleStore.overview`) shows it: liveness by the overview's one
 * rule (alive, stale, gone: a heartbeat counts only when the bottle's own key sealed it), each seal's
 * state, and each claim only as far as its seal carries it. Texts are display-safe; `-` stands for none.
 */
export interface BottleView {
  slug: string;
  liveness: 'alive' | 'stale' | 'gone';
  /** `registered` or `retired` under the host's signature, `unregistered`, or `forged`. */
  registration: 'registered' | 'retired' | 'unregistered' | 'forged';
  /** `sealed` by the bottle's own key, `none` (never beat), `unsealed` or `forged`. */
  heartbeat: 'sealed' | 'none' | 'unsealed' | 'forged';
  /** From a registration the host signed; `-` otherwise. */
  backend: string;
  image: string;
  startedAt: number | null;
  stoppedAt: number | null;
  /** When the row says the sidecar last beat, sealed or not (`heartbeat` says which). */
  lastHeartbeat: number | null;
  /** From a heartbeat the bottle's key sealed; `-` (or null) otherwise. */
  sidecarVersion: string;
  schemaVersion: number | null;
  liveRoutesHash: string;
  pending: number;
  oldestPendingAt: number | null;
}

export interface SessionView {
  csrfToken: string;
  responder: string;
}

/** Server-sent events: the pending list after each change, and a nudge for the other views. */
export const EVENT_PENDING = 'pending';
export const EVENT_CHANGED = 'changed';
/** The header every state-changing request carries. */
export const CSRF_HEADER = 'x-csrf-token';

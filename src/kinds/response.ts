/**
 * What an answer to a proposal may say. It lives with the kinds because each kind decides which
 * answers it takes (can it be modified, does approving it need a reason).
 */
export type ResponseStatus = 'approved' | 'modified' | 'rejected';
export const RESPONSE_STATUSES: readonly ResponseStatus[] = ['approved', 'modified', 'rejected'];

export interface NewResponse {
  status: ResponseStatus;
  responder: string;
  notes?: string;
  /** Required with `modified`, refused otherwise. */
  finalPayload?: string;
}

/** An answer its proposal's kind accepts, ready to be written. */
export interface CheckedResponse {
  status: ResponseStatus;
  responder: string;
  notes: string;
  /** The replacement file; set exactly when the status is `modified`. */
  finalPayload: string | null;
}

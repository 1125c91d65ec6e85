import { CSRF_HEADER, type ErrorView, type SessionView } from './api-types.js';

/** A refusal from the server, with its message (which names the fix) and any payload problems. */
export class ApiError extends Error {
  readonly code: string;
  readonly problems: ErrorView['problems'];

  constructor(view: ErrorView) {
    super(view.error);
    this.code = view.code;
    this.problems = view.problems;
  }
}

async function parse<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ code: 'internal', error: `the dashboard answered ${response.status} without JSON: reload the page.` }))) as unknown;
  if (!response.ok) throw new ApiError(body as ErrorView);
  return body as T;
}

/** Requests to the page's own server: the cookie proves the token; state changes add the CSRF header. */
export class Api {
  readonly #session: SessionView;

  private constructor(session: SessionView) {
    this.#session = session;
  }

  static async connect(): Promise<Api> {
    return new Api(await Api.load<SessionView>('/api/session'));
  }

  /** A read before the session is known; with the mode the HTML's `rel=preload as=fetch crossorigin` uses, so it takes the preloaded response. */
  static async load<T>(path: string): Promise<T> {
    return parse<T>(await fetch(path, { credentials: 'same-origin' }));
  }

  get responder(): string {
    return this.#session.responder;
  }

  async get<T>(path: string): Promise<T> {
    return parse<T>(await fetch(path, { credentials: 'same-origin' }));
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return parse<T>(
      await fetch(path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', [CSRF_HEADER]: this.#session.csrfToken },
        body: JSON.stringify(body),
      }),
    );
  }
}

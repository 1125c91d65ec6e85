/**
 * Finding a caught secret in the forms a reader could turn back into it. A DLP catch is reported
 * to the operator with the request text around it, and that text commonly carries the token
 * encoded rather than raw: base64 in a Basic auth header (at any byte offset inside
 * `user:token`), percent-encoded in a query string, hex in a signature, or wrapped across lines.
 * Everything stored lands in the append-only audit log, backups and exports, so a form missed
 * here could never be taken back.
 */

const BASE64_CHARS = 'A-Za-z0-9+/';
const BASE64URL_CHARS = 'A-Za-z0-9_-';
/** Between two characters of an encoded form: line wrapping, indentation, quoting continuations. */
const GAP = '[\\s\\\\]*';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function spaced(chars: readonly string[]): string {
  return chars.join(GAP);
}

/** Each character as itself or percent-encoded (either case), a space also as `+`. */
function percentPattern(secret: string): string {
  return spaced(
    [...secret].map((char) => {
      const bytes = [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
      const options = [escapeRegExp(char), bytes.replace(/[a-f]/g, (hex) => `[${hex}${hex.toUpperCase()}]`)];
      if (char === ' ') options.push('\\+');
      return `(?:${options.join('|')})`;
    }),
  );
}

function hexPattern(bytes: Buffer): string {
  return spaced([...bytes.toString('hex')].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)));
}

/**
 * The base64 characters that depend only on the secret's bytes, for each of the three byte
 * offsets it can start at inside a longer encoded value: whatever surrounds it, these appear.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    const first = Math.ceil((8 * offset) / 6);
    const last = Math.floor((8 * (offset + bytes.length)) / 6);
    cores.push(encoded.slice(first, last));
  }
  return cores;
}

/** Each core as it appears in standard and in URL-safe base64, possibly wrapped. */
function base64CorePatterns(bytes: Buffer): string[] {
  const patterns = new Set<string>();
  for (const core of base64Cores(bytes)) {
    patterns.add(spaced([...core].map(escapeRegExp)));
    patterns.add(spaced([...core.replace(/\+/g, '-').replace(/\//g, '_')].map(escapeRegExp)));
  }
  return [...patterns];
}

const BASE64_RUN_CHAR = new RegExp(`[${BASE64_CHARS}${BASE64URL_CHARS}]`);

/**
 * A core's neighbours in its base64 run encode the bits of the secret's first and last bytes
 * the core leaves out (and whatever the secret was encoded with), so the whole run goes. Found
 * by scanning outwards rather than by a leading `[…]*` in the pattern, which would retry the
 * whole run from every position in it: quadratic in a long base64-looking run a request carries.
 */
function widenToBase64Run(text: string, start: number, end: number): [number, number] {
  while (start > 0 && BASE64_RUN_CHAR.test(text.charAt(start - 1))) start--;
  while (end < text.length && BASE64_RUN_CHAR.test(text.charAt(end))) end++;
  while (text.charAt(end) === '=') end++;
  return [start, end];
}

/** Every form of one secret, compiled once per catch. */
export class SecretForms {
  /** Group 1: raw, percent-encoded or hex (replaced as matched); group 2: a base64 core (its run is replaced). */
  readonly #pattern: RegExp;
  /** The same without the global flag, so testing leaves no `lastIndex` behind. */
  readonly #probe: RegExp;
  readonly #bytes: Buffer;

  constructor(secret: string) {
    this.#bytes = Buffer.from(secret, 'utf8');
    const exact = [percentPattern(secret), hexPattern(this.#bytes)].map((alternative) => `(?:${alternative})`).join('|');
    const base64 = base64CorePatterns(this.#bytes).map((alternative) => `(?:${alternative})`).join('|');
    this.#probe = new RegExp(`(${exact})|(${base64})`);
    this.#pattern = new RegExp(this.#probe.source, 'g');
  }

  /** Every raw, percent-encoded, hex, base64 or line-wrapped occurrence replaced by `marker`. */
  redact(text: string, marker: string): string {
    const spans: Array<[number, number]> = [];
    for (const match of text.matchAll(this.#pattern)) {
      const span: [number, number] = [match.index, match.index + match[0].length];
      let [start, end] = match[2] !== undefined ? widenToBase64Run(text, ...span) : span;
      // A widened run can reach back over earlier matches: they become one redaction.
      for (let last = spans.at(-1); last && start < last[1]; last = spans.at(-1)) {
        start = Math.min(start, last[0]);
        end = Math.max(end, last[1]);
        spans.pop();
      }
      spans.push([start, end]);
    }
    let redacted = '';
    let from = 0;
    for (const [start, end] of spans) {
      redacted += `${text.slice(from, start)}${marker}`;
      from = end;
    }
    return redacted + text.slice(from);
  }

  /**
   * Whether the secret can still be read out of `text`, also after undoing percent-encoding
   * (nested up to three times) and decoding every base64 run at each alignment: the check that
   * a redacted report is safe to store.
   */
  foundIn(text: string): boolean {
    let layer = text;
    for (let depth = 0; depth < 4; depth++) {
      if (this.#probe.test(layer) || this.#inBase64Runs(layer)) return true;
      const decoded = percentDecode(layer);
      if (decoded === layer) break;
      layer = decoded;
    }
    return false;
  }

  #inBase64Runs(text: string): boolean {
    for (const run of text.match(/[A-Za-z0-9+/_-]{8,}=*/g) ?? []) {
      const clean = run.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
      for (let shift = 0; shift < 4; shift++) {
        if (Buffer.from(clean.slice(shift), 'base64').includes(this.#bytes)) return true;
      }
    }
    return false;
  }
}

function percentDecode(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    const decoded = Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8');
    return decoded.includes('\ufffd') ? run : decoded;
  });
}

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

/** A whole base64 (or base64url) run holding one of the cores: the run is what must go. */
function base64Patterns(bytes: Buffer): string[] {
  const patterns: string[] = [];
  for (const core of base64Cores(bytes)) {
    const standard = core;
    const urlSafe = core.replace(/\+/g, '-').replace(/\//g, '_');
    patterns.push(`[${BASE64_CHARS}]*${spaced([...standard].map(escapeRegExp))}[${BASE64_CHARS}]*=*`);
    if (urlSafe !== standard) patterns.push(`[${BASE64URL_CHARS}]*${spaced([...urlSafe].map(escapeRegExp))}[${BASE64URL_CHARS}]*=*`);
  }
  return patterns;
}

/** Every form of one secret, compiled once per catch. */
export class SecretForms {
  readonly #pattern: RegExp;
  readonly #bytes: Buffer;

  constructor(secret: string) {
    this.#bytes = Buffer.from(secret, 'utf8');
    const alternatives = [percentPattern(secret), hexPattern(this.#bytes), ...base64Patterns(this.#bytes)];
    this.#pattern = new RegExp(alternatives.map((alternative) => `(?:${alternative})`).join('|'), 'g');
  }

  /** Every raw, percent-encoded, hex, base64 or line-wrapped occurrence replaced by `marker`. */
  redact(text: string, marker: string): string {
    return text.replace(this.#pattern, marker);
  }

  /**
   * Whether the secret can still be read out of `text`, also after undoing percent-encoding
   * (nested up to three times) and decoding every base64 run at each alignment: the check that
   * a redacted report is safe to store.
   */
  foundIn(text: string): boolean {
    let layer = text;
    for (let depth = 0; depth < 4; depth++) {
      this.#pattern.lastIndex = 0;
      if (this.#pattern.test(layer) || this.#inBase64Runs(layer)) return true;
      const decoded = percentDecode(layer);
      if (decoded === layer) break;
      layer = decoded;
    }
    this.#pattern.lastIndex = 0;
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

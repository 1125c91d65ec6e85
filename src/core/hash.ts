import { createHash } from 'node:crypto';

/** sha256 of a text's UTF-8 bytes, as 64 lowercase hex characters. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

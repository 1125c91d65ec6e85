import { hash } from 'node:crypto';

/** sha256 of a text's UTF-8 bytes, as 64 lowercase hex characters. One-shot: a list hashes every row's texts, and a Hash object apiece costs more than the hashing. */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

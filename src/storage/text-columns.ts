/**
 * A TEXT column as read. SQLite keeps whatever type a raw writer binds (a bottle writes the shared
 * file with its own SQL): a TEXT column turns numbers into text but keeps a blob a blob. Rows are
 * read through these, a blob as its bytes in UTF-8, so nothing past the row (screens, diffs, seal
 * and hash checks, which a blob never passes honestly) is handed a Buffer to crash on.
 */
export function textColumn(value: string): string {
  const stored: unknown = value;
  if (typeof stored === 'string') return stored;
  return Buffer.isBuffer(stored) ? stored.toString('utf8') : String(stored);
}

export function textColumnOrNull(value: string | null): string | null {
  return value === null ? null : textColumn(value);
}

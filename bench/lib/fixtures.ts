import path from 'node:path';
import { openConnection, type Db } from '../../src/storage/connection.js';
import { migrateUp } from '../../src/storage/migrations.js';

export const SLUG_COUNT = 50;

export function slugFor(i: number): string {
  return `bottle-${String(i % SLUG_COUNT).padStart(2, '0')}`;
}

/** A migrated database file at `dir/name`, as the host would create it. */
export async function createDatabase(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await migrateUp(file);
  return file;
}

const SERVICES = ['api.github.com', 'registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org', 'objects.githubusercontent.com', 'proxy.golang.org', 'crates.io', 'static.rust-lang.org'];

/**
 * A routes file like an agent proposes: several hosts, path allowlists, one authenticated route.
 * `variant` changes the extra host so payloads are not all identical (about 800–900 bytes).
 */
export function routesYaml(variant: number, extraRoutes = 1): string {
  const lines = ['routes:'];
  for (const host of SERVICES) {
    lines.push(`  - host: ${host}`, '    path_allowlist:', '      - /v1/', '      - /simple/', '      - /download/');
  }
  lines.push('    auth:', '      scheme: bearer', '      token_ref: GITHUB_TOKEN', '    dlp:', '      outbound_on_match: supervise');
  for (let i = 0; i < extraRoutes; i++) lines.push(`  - host: mirror-${variant}-${i}.example.org`, '    path_allowlist:', `      - /pkg/${variant}/`);
  return `${lines.join('\n')}\n`;
}

/** The file the proposal replaces: the same routes without the extra host. */
export function currentRoutesYaml(): string {
  return routesYaml(0, 0);
}

export const JUSTIFICATION = 'The build needs to download packages from the project mirror; the request fails with 403 from egress without this route.';

/** The proposals table's own DDL (table and indexes) read from a migrated database, so a raw baseline uses the very same shape. */
export function proposalsDdl(migratedFile: string): string[] {
  const db = openConnection(migratedFile, { fileMustExist: true });
  try {
    return db.prepare(`SELECT sql FROM sqlite_master WHERE tbl_name = 'proposals' AND sql IS NOT NULL ORDER BY type DESC, name`).pluck().all() as string[];
  } finally {
    db.close();
  }
}

export function createRawProposalsTable(db: Db, ddl: readonly string[]): void {
  db.exec(ddl.join(';\n'));
}

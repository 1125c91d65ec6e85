import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { PAGE_CSS, PAGE_SHELL } from './page-shell.js';

export interface PageAsset {
  body: string;
  type: string;
}

/** The page: a static shell, its stylesheet and its script, read once at start and served from memory. */
export interface PageAssets {
  shell: string;
  files: ReadonlyMap<string, PageAsset>;
}

/** The page's one script: src/dashboard/page/*.ts bundled by the build (`npm run build:page`). */
const SCRIPT = 'app.js';

/**
 * The page's script is the build's bundle in dist/src/dashboard/page/, read once. Only the names in
 * the map are served: a request can never name a path.
 */
export function loadPageAssets(pageDir: string = path.join(packageRoot(), 'dist', 'src', 'dashboard', 'page')): PageAssets {
  const script = path.join(pageDir, SCRIPT);
  if (!fs.existsSync(script)) {
    throw new SuperviseError('config', `the dashboard's page script is missing (${script}): build the project first (npm run build) and run bot-bottle from dist/.`);
  }
  const files = new Map<string, PageAsset>([
    ['app.css', { body: PAGE_CSS, type: 'text/css; charset=utf-8' }],
    [SCRIPT, { body: fs.readFileSync(script, 'utf8'), type: 'text/javascript; charset=utf-8' }],
  ]);
  return { shell: PAGE_SHELL, files };
}

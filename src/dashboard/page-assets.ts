import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SuperviseError } from '../core/errors.js';
import { PAGE_CSS, PAGE_SHELL } from './page-shell.js';

export interface PageAsset {
  body: string;
  type: string;
}

/** The page: a static shell, its stylesheet and its script modules, read once at start and served from memory. */
export interface PageAssets {
  shell: string;
  files: ReadonlyMap<string, PageAsset>;
}

const MODULE_NAME = /^[a-z][a-z0-9-]*\.js$/;

/**
 * The page's script modules are the compiled `src/dashboard/page/*.ts` beside this module in
 * dist/. Only names of that form are served, from this map: a request can never name a path.
 */
export function loadPageAssets(pageDir: string = fileURLToPath(new URL('./page/', import.meta.url))): PageAssets {
  const files = new Map<string, PageAsset>([['app.css', { body: PAGE_CSS, type: 'text/css; charset=utf-8' }]]);
  const names = fs.existsSync(pageDir) ? fs.readdirSync(pageDir).filter((name) => MODULE_NAME.test(name)) : [];
  if (!names.includes('main.js')) {
    throw new SuperviseError('config', `the dashboard's page scripts are missing from ${pageDir}: build the project first (npm run build) and run bot-bottle from dist/.`);
  }
  for (const name of names) files.set(name, { body: fs.readFileSync(`${pageDir}/${name}`, 'utf8'), type: 'text/javascript; charset=utf-8' });
  return { shell: PAGE_SHELL, files };
}

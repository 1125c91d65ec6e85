import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of this installation's package.json (a checkout or an installed package): the
 * nearest one above this module. The same from src/ (tsx), from tsc's dist/src/ and from the bins
 * bundled into dist/bin/, which is why files the program reads at run time (migrations, the
 * dashboard's page script, the sidecar for the demo) are found from here and not beside a module.
 */
export function packageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: the bot-bottle installation is incomplete; reinstall it.`);
    directory = parent;
  }
  return directory;
}

import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { describeHostLinkProblem, inspectHostLink } from '../storage/layout.js';

/**
 * The database a command that must not create anything works on. With the host layout (no
 * explicit file) a broken host link is refused first, with its fix: the file behind it is not the
 * one the user means.
 */
export function requireExistingDatabase(file: string, options: { hostLayout: boolean }): string {
  if (options.hostLayout) {
    const problem = describeHostLinkProblem(inspectHostLink());
    if (problem) throw new SuperviseError('layout', problem);
  }
  if (!fs.existsSync(file)) {
    throw new SuperviseError('layout', `there is no database at ${file} yet. \`bot-bottle db migrate\` creates it (any host command does).`);
  }
  return file;
}

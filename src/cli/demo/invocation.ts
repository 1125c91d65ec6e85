import fs from 'node:fs';
import path from 'node:path';

/** Whether `name` is an executable in one of PATH's directories: what a shell would find. */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        fs.accessSync(path.join(dir, name), fs.constants.X_OK);
        return fs.statSync(path.join(dir, name)).isFile();
      } catch {
        return false;
      }
    });
}

/**
 * How the reader runs `bot-bottle ARGS` from where they are: the command itself when it is on
 * PATH, else through npx in the checkout (`npm ci` does not put a package's own bin on PATH),
 * with how to get it there.
 */
export function howToRun(args: string, root: string, env: NodeJS.ProcessEnv = process.env): string {
  if (onPath('bot-bottle', env)) return `\`bot-bottle ${args}\``;
  return `\`npx bot-bottle ${args}\` in ${root} (\`bot-bottle\` is not on your PATH; \`npm link\` there puts it on it)`;
}

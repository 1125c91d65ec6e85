import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../common.js';

/** `$VISUAL`, then `$EDITOR`, then vi: what terminal programs conventionally honour. */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

/** JSON reports get a .json name and routes files .yaml, so editors pick the right highlighting. */
function fileNameFor(text: string): string {
  return text.trimStart().startsWith('{') ? 'proposal.json' : 'proposal.yaml';
}

/**
 * Opens `text` in the operator's editor on the terminal and returns what was saved. Blocks until
 * the editor exits; the caller must have released the terminal (raw mode off) first. The file
 * lives in a private temp directory that is removed afterwards.
 */
export function editInEditor(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-bottle-edit-'));
  const file = path.join(directory, fileNameFor(text));
  try {
    fs.writeFileSync(file, text, { mode: 0o600 });
    const editor = editorCommand(env);
    // Through the shell so EDITOR may carry arguments ("code --wait"); the file is passed as $1.
    const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit', env });
    if (result.error) throw new UserError(`could not start the editor ${JSON.stringify(editor)}: ${result.error.message}. Set $EDITOR to an editor that is installed.`);
    if (result.status !== 0) {
      throw new UserError(`the editor ${JSON.stringify(editor)} exited with ${result.status === null ? `signal ${String(result.signal)}` : `status ${result.status}`}; the edit was discarded.`);
    }
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

import type { colorsFor } from './common.js';

export type Palette = ReturnType<typeof colorsFor>;

/** Colours a unified diff line by line: additions green, removals red, hunk headers cyan. */
export function colorDiff(diff: string, colors: Palette): string[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return colors.bold(line);
      if (line.startsWith('===') || line.startsWith('Index:') || line.startsWith('\\')) return colors.dim(line);
      if (line.startsWith('@@')) return colors.cyan(line);
      if (line.startsWith('+')) return colors.green(line);
      if (line.startsWith('-')) return colors.red(line);
      return line;
    });
}

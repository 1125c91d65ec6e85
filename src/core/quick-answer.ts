/**
 * `--version` and the top-level help, answered before commander and the command trees load: they
 * are what people and launchers run most, and loading commander alone costs more than starting
 * Node. The text is not written here: `scripts/render-help.mjs` has commander itself print it
 * at build time (into `<bin>.help.json` beside each bin), and tests/cli-quick-answer.test.ts holds it
 * equal to what commander prints now. Anything else, or a width no rendering fits, goes to
 * commander.
 */
/** Help as commander printed it at build time, for the widths it is valid at. */
export interface RenderedHelp {
  /** At commander's default width, 80: output that is not a terminal, or an 80-column one. */
  at80: string;
  /** With nothing wrapped: what commander prints at every width from `unwrappedFrom` up. */
  unwrapped: string;
  unwrappedFrom: number;
}

/** What a bin's `.help.json` holds. */
export interface QuickAnswers {
  /** The version the build printed: a file left by another build is ignored. */
  version: string;
  /** `--help` / `-h`: on stdout, exit 0. */
  help: RenderedHelp;
  /** No arguments at all, where the program answers with its help on stderr (exit 1 in commander's terms); absent where it runs a default command. */
  helpWithoutArguments?: RenderedHelp;
}

export interface QuickAnswerOptions {
  /** The `.help.json` the build wrote beside the bin: {@link helpFileOf}. */
  file: URL;
  version: string;
  /** The exit code the program gives a usage error (what commander's exit 1 becomes). */
  usageExit: number;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** The width commander wraps help for on `stream`: a terminal's columns, else 80. */
function helpWidth(stream: NodeJS.WriteStream): number {
  return stream.isTTY ? (stream.columns ?? 80) : 80;
}

/** The rendering that commander would print at `width`, or undefined when none was rendered for it. */
export function helpFor(help: RenderedHelp, width: number): string | undefined {
  if (width === 80) return help.at80;
  return width >= help.unwrappedFrom ? help.unwrapped : undefined;
}

/** Where the build writes the help of the bin at `entry` (its import.meta.url): `main.js` → `main.help.json`. */
export function helpFileOf(entry: string): URL {
  return new URL(entry.replace(/\.[jt]s$/, '.help.json'));
}

function readAnswers(file: URL, version: string): QuickAnswers | undefined {
  let answers: QuickAnswers;
  try {
    // getBuiltinModule, not an ES import of node:fs: building that namespace reads fs.promises,
    // which loads the promise API (a few ms, a tenth of what this path costs).
    answers = JSON.parse(process.getBuiltinModule('node:fs').readFileSync(file, 'utf8')) as QuickAnswers;
  } catch {
    // Not built (run from source) or unreadable: commander answers, as it always can.
    return undefined;
  }
  return answers.version === version ? answers : undefined;
}

/**
 * Answers `args` (the arguments after the script) when it is exactly `--version`/`-V`,
 * `--help`/`-h`, or nothing at a program that then prints help. Returns the exit code, or
 * undefined when commander must answer instead.
 */
export function quickAnswer(args: readonly string[], options: QuickAnswerOptions): number | undefined {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const only = args.length === 1 ? args[0] : undefined;
  if (only === '--version' || only === '-V') {
    stdout.write(`${options.version}\n`);
    return 0;
  }
  if (only !== '--help' && only !== '-h' && args.length !== 0) return undefined;
  const answers = readAnswers(options.file, options.version);
  if (answers === undefined) return undefined;
  if (args.length === 0) {
    if (answers.helpWithoutArguments === undefined) return undefined;
    const text = helpFor(answers.helpWithoutArguments, helpWidth(stderr));
    if (text === undefined) return undefined;
    stderr.write(text);
    return options.usageExit;
  }
  const text = helpFor(answers.help, helpWidth(stdout));
  if (text === undefined) return undefined;
  stdout.write(text);
  return 0;
}

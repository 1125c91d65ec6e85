/** The reader of a pipe went away (`| head`): what writing to it then fails with. */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * A reader that has seen enough (`bot-bottle supervise --once | head -1`) is not a failure: the
 * command ends as it would have, with no stack trace and no "this is a bug", and whatever it was
 * doing (an answer already written) stays done. Anything else a stream fails with still throws.
 */
export function endQuietlyOnClosedOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: unknown) => {
      if (!isClosedPipe(error)) throw error;
    });
  }
}

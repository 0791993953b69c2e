/**
 * `siteops audit | head -1`: once the reader has gone, writing to stdout fails with EPIPE,
 * which Node raises as an unhandled 'error' event (a stack trace). A command line whose reader
 * stopped listening has nothing left to say: it ends quietly, with the exit code it has so far.
 */
export function exitQuietlyOnBrokenPipe(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw error;
    });
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * moto (https://docs.getmoto.org), an AWS emulator others wrote, as a server the emulator
 * tests talk to over HTTP. One environment variable names it; without it the test run starts
 * `moto_server` itself (vitest globalSetup) and stops it by its process id.
 */

/** The variable that names a running moto server (`http://127.0.0.1:<port>`). */
export const MOTO_ENDPOINT_ENV = 'BULKHEAD_MOTO_ENDPOINT';

/** What to run when moto is missing. */
export const MOTO_INSTALL_HINT = 'pip install "moto[server]"';

/** The message emulator tests fail with when there is no moto to talk to. */
export function motoMissingMessage(detail: string): string {
  return `the emulator tests need moto (5.2.x): ${detail}. Install it with \`${MOTO_INSTALL_HINT}\` (moto_server must be on PATH), or start one and set ${MOTO_ENDPOINT_ENV}=http://127.0.0.1:<port>`;
}

/** The full path of an executable on PATH, or undefined. */
export function onPath(name: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a moto server answers at `endpoint` (its own API, `/moto-api/data.json`). */
export async function motoAnswers(endpoint: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(new URL('/moto-api/data.json', endpoint), { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until moto answers, or fails naming the endpoint. */
export async function waitForMoto(
  endpoint: string,
  timeoutMs: number,
  exited?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await motoAnswers(endpoint)) return;
    const why = exited?.();
    if (why) throw new Error(motoMissingMessage(`moto_server exited before answering (${why})`));
    if (Date.now() > deadline) {
      throw new Error(motoMissingMessage(`nothing answered at ${endpoint} within ${Math.round(timeoutMs / 1000)} s`));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface StartedMoto {
  readonly endpoint: string;
  readonly pid: number;
  /** Where the server's own output goes (read it when a test cannot reach moto). */
  readonly logFile: string;
  /** Stops this server, by its process id only. */
  stop(): Promise<void>;
}

/** Starts `moto_server` on 127.0.0.1 on a free port; resolves once the process is spawned. */
export async function startMotoServer(executable: string): Promise<StartedMoto & { readonly child: ChildProcess }> {
  const port = await freePort();
  const logFile = path.join(tmpdir(), `bulkhead-moto-${port}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
    detached: false,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(motoMissingMessage(`could not start ${executable}`));
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exit code ${code ?? '-'}, signal ${signal ?? '-'}`;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    pid,
    logFile,
    child,
    async stop() {
      if (exit !== undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (exit === undefined) process.kill(pid, 'SIGKILL');
      }, 5_000);
      await gone;
      clearTimeout(timer);
      rmSync(logFile, { force: true });
    },
  };
}

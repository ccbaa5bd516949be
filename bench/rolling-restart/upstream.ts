/** Starts upstream-main.js and waits for the port it prints. */
import { fileURLToPath } from 'node:url';
import { BenchProcess } from './processes.js';

const MAIN = fileURLToPath(new URL('./upstream-main.js', import.meta.url));

export async function startUpstream(): Promise<{ port: number; process: BenchProcess }> {
  let found: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (found = resolve));
  const process = BenchProcess.start({
    name: 'upstream',
    command: globalThis.process.execPath,
    args: [MAIN],
    onLine: (line) => {
      const parsed = /^\{"port":(\d+)\}$/.exec(line.trim());
      if (parsed) found(Number(parsed[1]));
    },
  });
  const exited = process.exited.then((e) => {
    throw new Error(`the upstream exited at start (${e.code}):\n${process.outputTail()}`);
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the upstream did not start within 10 s')), 10_000).unref());
  return { port: await Promise.race([port, exited, timeout]), process };
}

import path from 'node:path';
import { readSmallFileSync } from '../../fs/read-small-file.js';

/**
 * Certificates, keys and CA bundles are a few KiB; a limit keeps a mistaken path (a log file, an
 * image) out of every Envoy's memory and of the daemon's.
 */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Where the files a config's secrets name are read from. */
export interface SecretFiles {
  /** The absolute path of a file as written in the config. */
  resolve(file: string): string;
  /** The bytes of a file as written in the config; throws with a message that says why not. */
  read(file: string): Buffer;
}

/**
 * Files on this machine, relative paths taken from the config file's folder (the config and the
 * certificates usually ship together, as a ConfigMap and a Secret mounted side by side).
 */
export function secretFilesBeside(configFile: string): SecretFiles {
  const folder = path.dirname(path.resolve(configFile));
  const resolve = (file: string): string => path.resolve(folder, file);
  return { resolve, read: (file) => readSmallFileSync(resolve(file), MAX_SECRET_FILE_BYTES) };
}

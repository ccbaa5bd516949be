/**
 * The example configs name files on their Envoy hosts (certificates and keys, access logs), and
 * `envoy --mode validate` opens them. These point them at files that exist on this machine, so
 * that what Envoy judges is the config, not the machine the test runs on. Values that are not
 * file names (junk a variant put there) are left for Envoy to judge.
 */
export interface HostFiles {
  readonly cert: string;
  readonly key: string;
  readonly log: string;
}

const FILE_ACCESS_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

export function withHostFiles(json: unknown, files: HostFiles, key = ''): unknown {
  if (Array.isArray(json)) return json.map((v) => withHostFiles(v, files));
  if (typeof json !== 'object' || json === null) return json;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    // A DataSource: `private_key: { filename }` is a key, every other `filename` a certificate.
    if (k === 'filename' && typeof v === 'string') out[k] = key === 'private_key' || key === 'privateKey' ? files.key : files.cert;
    else if (k === 'path' && typeof v === 'string' && (json as Record<string, unknown>)['@type'] === FILE_ACCESS_LOG) out[k] = files.log;
    else out[k] = withHostFiles(v, files, k);
  }
  return out;
}

/**
 * The one place Envoy's API is loaded.
 *
 * Envoy's API comes as file descriptors, installed at `npm ci` by scripts/envoy-api.mjs from the
 * Go modules pinned in package.json ("envoyApi": go-control-plane's `envoy` module, the
 * generated code of Envoy's data-plane API, and the modules its protos import) into
 * .envoy-api/<version>/: descriptors.binpb (a FileDescriptorSet of every v3 Envoy file, every
 * cncf/xds file and what they import, Prometheus' metrics.proto included) and info.json (which
 * API it is). Nothing of it is copied into this repository. The google/protobuf well-known types
 * come from protobufjs, as protobufjs bundles them. Field names are kept as the .proto files
 * write them (snake_case); the JSON mapping accepts lowerCamel names too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import { addDescriptorSet } from './descriptors.js';
import { envoyApiDir, requireInstalledApi, type EnvoyApiInfo } from './envoy-api.js';

const require = createRequire(import.meta.url);

const PROTOBUFJS_DIR = path.dirname(require.resolve('protobufjs/package.json'));

export interface ProtoRegistry {
  readonly root: protobuf.Root;
  readonly api: EnvoyApiInfo;
  /** The message type with this fully qualified name (no leading dot); throws when unknown. */
  type(fullName: string): protobuf.Type;
  /** The message type with this fully qualified name, or undefined. */
  findType(fullName: string): protobuf.Type | undefined;
  /** The message type named by an Any type URL (`type.googleapis.com/NAME`), or undefined. */
  typeFromUrl(typeUrl: string): protobuf.Type | undefined;
}

let loaded: ProtoRegistry | undefined;

/** Loads (once per process) Envoy's v3 API and what it imports. */
export function envoyProtos(): ProtoRegistry {
  loaded ??= load();
  return loaded;
}

/**
 * The well-known types protobufjs bundles (google/protobuf/*.proto), which the descriptor set
 * leaves out (scripts/envoy-api.mjs, BUNDLED). Named here rather than read off protobuf.common:
 * other packages add to that shared table at run time.
 */
const WELL_KNOWN = ['any', 'duration', 'empty', 'field_mask', 'struct', 'timestamp', 'wrappers'].map((n) => `google/protobuf/${n}.proto`);

/** The well-known types, as protobufjs bundles them. */
function loadWellKnownTypes(root: protobuf.Root): void {
  root.loadSync(WELL_KNOWN, { keepCase: true });
}

/**
 * google/protobuf/descriptor.proto as protobufjs ships it, parsed with its field names as written.
 * Parsed from the file, not loaded by name: other packages may have put a camelCased copy into
 * protobuf.common, which a load by name would take instead.
 */
function descriptorRoot(): protobuf.Root {
  const root = new protobuf.Root();
  loadWellKnownTypes(root);
  const text = readFileSync(path.join(PROTOBUFJS_DIR, 'google/protobuf/descriptor.proto'), 'utf8');
  protobuf.parse(text, root, { keepCase: true });
  return root;
}

function load(): ProtoRegistry {
  const api = requireInstalledApi();
  const set = readFileSync(path.join(envoyApiDir(api.version), 'descriptors.binpb'));
  const root = new protobuf.Root();
  loadWellKnownTypes(root);
  addDescriptorSet(root, set, descriptorRoot());
  root.resolveAll();
  const byName = new Map<string, protobuf.Type | null>();
  const findType = (fullName: string): protobuf.Type | undefined => {
    let found = byName.get(fullName);
    if (found === undefined) {
      const hit = root.lookup(fullName);
      found = hit instanceof protobuf.Type ? hit : null;
      byName.set(fullName, found);
    }
    return found ?? undefined;
  };
  return {
    root,
    api,
    findType,
    type(fullName) {
      const t = findType(fullName);
      if (!t) throw new Error(`unknown protobuf message type ${fullName}`);
      return t;
    },
    typeFromUrl(typeUrl) {
      const slash = typeUrl.lastIndexOf('/');
      return slash < 0 ? undefined : findType(typeUrl.slice(slash + 1));
    },
  };
}

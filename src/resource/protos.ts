/**
 * The one place Envoy's API protos are loaded.
 *
 * The protos come from an npm dependency (@grpc/grpc-js-xds ships the envoy-api, xds,
 * googleapis and protoc-gen-validate trees under deps/), never from copies in this repository.
 * Only the v3 API is loaded: the v2 files in that tree import protos that are not shipped.
 * Field names are kept as written in the .proto files (snake_case); the JSON mapping accepts
 * lowerCamel names too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** The proto roots inside the dependency, searched in this order for imports. */
const DEP_ROOTS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'];

/** The project's own .proto files (messages Envoy's tree lacks), next to src/ in the package. */
const OWN_PROTOS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../protos');

export interface ProtoRegistry {
  readonly root: protobuf.Root;
  /** The message type with this fully qualified name (no leading dot); throws when unknown. */
  type(fullName: string): protobuf.Type;
  /** The message type with this fully qualified name, or undefined. */
  findType(fullName: string): protobuf.Type | undefined;
  /** The message type named by an Any type URL (`type.googleapis.com/NAME`), or undefined. */
  typeFromUrl(typeUrl: string): protobuf.Type | undefined;
}

const PROTOBUFJS_DIR = path.dirname(require.resolve('protobufjs/package.json'));

let loaded: ProtoRegistry | undefined;

/** Loads (once per process) every v3 Envoy API proto plus the project's own protos. */
export function envoyProtos(): ProtoRegistry {
  loaded ??= load();
  return loaded;
}

function depsDir(): string {
  const pkg = require.resolve('@grpc/grpc-js-xds/package.json');
  return path.join(path.dirname(pkg), 'deps');
}

function load(): ProtoRegistry {
  const deps = depsDir();
  const roots = DEP_ROOTS.map((r) => path.join(deps, r));
  if (existsSync(OWN_PROTOS)) roots.push(OWN_PROTOS);
  const root = new protobuf.Root();
  // google/protobuf/*.proto: protobufjs ships the well-known types and descriptor.proto.
  roots.push(PROTOBUFJS_DIR);
  const resolve = (target: string): string | undefined => {
    if (path.isAbsolute(target) || target in protobuf.common) return target;
    for (const r of roots) {
      const candidate = path.join(r, target);
      if (existsSync(candidate)) return candidate;
    }
    return undefined;
  };
  root.resolvePath = (_origin, target) => resolve(target) ?? target;
  const complete = importsComplete(resolve);
  const files = [
    ...protoFiles(path.join(deps, 'envoy-api', 'envoy')).filter(isV3),
    // xds.type.v3.TypedStruct and friends, which extension configs may name in "@type".
    ...protoFiles(path.join(deps, 'xds')),
    ...(existsSync(OWN_PROTOS) ? protoFiles(OWN_PROTOS) : []),
  ].filter(complete);
  root.loadSync(files, { keepCase: true });
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

/** v3 (and unversioned) files only: the v2 files import protos the dependency does not ship. */
function isV3(file: string): boolean {
  return !/\/v2(alpha\d*)?\//.test(file) && !/\/v1alpha1?\//.test(file);
}

/**
 * A file can be loaded when every file it imports, transitively, exists: a few extension protos
 * in the shipped tree import third-party protos (OpenCensus, ...) that are not shipped.
 */
function importsComplete(resolve: (target: string) => string | undefined): (file: string) => boolean {
  const memo = new Map<string, boolean>();
  const check = (file: string): boolean => {
    const known = memo.get(file);
    if (known !== undefined) return known;
    if (file in protobuf.common) return true; // bundled well-known types
    memo.set(file, true); // import cycles are legal in .proto; assume complete while visiting
    const source = readFileSync(file, 'utf8');
    let ok = true;
    for (const m of source.matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm)) {
      const target = resolve(m[1]!);
      if (!target || !check(target)) {
        ok = false;
        break;
      }
    }
    memo.set(file, ok);
    return ok;
  };
  return check;
}

function protoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(p));
    else if (entry.name.endsWith('.proto')) out.push(p);
  }
  return out.sort();
}

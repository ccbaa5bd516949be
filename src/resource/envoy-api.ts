/**
 * Which Envoy API drainplane is built on: package.json pins it ("envoyApi"), and `npm ci`
 * installs its file descriptors into .envoy-api/<version>/ (scripts/envoy-api.mjs), with an
 * info.json that says where they came from. `drainplane --version` and `GET /v1/info` show it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root (this file runs as dist/src/resource/envoy-api.js). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The installed Envoy API, as info.json records it. */
export interface EnvoyApiInfo {
  /** The Envoy release whose API this is, e.g. "1.40.0". */
  readonly version: string;
  /** The envoyproxy/envoy commit the descriptors were generated from (the module's COMMIT file). */
  readonly envoyCommit: string | null;
  /** The Go module the descriptors come from, with its version. */
  readonly module: string;
  /** How many .proto files the descriptor set holds. */
  readonly files: number;
  /** sha256 of descriptors.binpb. */
  readonly sha256: string;
}

export interface BuildInfo {
  readonly name: string;
  readonly version: string;
  /** The Envoy API drainplane accepts and encodes; `installed` is false until `npm ci` ran. */
  readonly envoyApi: ({ readonly installed: true } & EnvoyApiInfo) | { readonly installed: false; readonly version: string };
}

interface PackageJson {
  readonly name?: unknown;
  readonly version?: unknown;
  readonly envoyApi?: { readonly version?: unknown };
}

function packageJson(): PackageJson {
  return JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** The pinned Envoy API version (package.json "envoyApi.version"). */
export function pinnedApiVersion(): string {
  const version = packageJson().envoyApi?.version;
  if (typeof version !== 'string') throw new Error('package.json has no "envoyApi.version"');
  return version;
}

/** The folder holding the pinned API's descriptors.binpb and info.json. */
export function envoyApiDir(version = pinnedApiVersion()): string {
  return path.join(PACKAGE_ROOT, '.envoy-api', version);
}

/** The installed pinned API, or undefined when it is not installed. */
export function installedApi(version = pinnedApiVersion()): EnvoyApiInfo | undefined {
  const file = path.join(envoyApiDir(version), 'info.json');
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return {
    version: String(raw['envoyApi']),
    envoyCommit: typeof raw['envoyCommit'] === 'string' ? raw['envoyCommit'] : null,
    module: String(raw['module']),
    files: Number(raw['files']),
    sha256: String(raw['sha256']),
  };
}

/** The installed pinned API; throws, saying how to install it, when it is missing. */
export function requireInstalledApi(): EnvoyApiInfo {
  const version = pinnedApiVersion();
  const info = installedApi(version);
  if (!info) {
    throw new Error(
      `Envoy API ${version} is not installed (${envoyApiDir(version)} is missing): run \`npm ci\` or \`node scripts/envoy-api.mjs install\``,
    );
  }
  return info;
}

/** drainplane's name and version, and the Envoy API it is built on. */
export function buildInfo(): BuildInfo {
  const pkg = packageJson();
  const version = pinnedApiVersion();
  const api = installedApi(version);
  return {
    name: typeof pkg.name === 'string' ? pkg.name : 'drainplane',
    version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    envoyApi: api ? { installed: true, ...api } : { installed: false, version },
  };
}

#!/usr/bin/env node
// Envoy's API, as the file descriptors that go-control-plane's generated Go code carries, installed
// into .envoy-api/<version>/ (ignored by git). The Go modules (go-control-plane's `envoy` module and
// the modules its protos import: cncf/xds, protoc-gen-validate, googleapis, Prometheus'
// client_model, OpenTelemetry, CEL) are pinned with their go.sum hashes in package.json
// ("envoyApi") and fetched from the Go module proxy as the zip files `go mod download` fetches.
// No Go toolchain is needed: each zip is checked against its pinned hash (go.sum's "h1:" dirhash),
// and each generated .pb.go file gives up its serialized FileDescriptorProto, which protoc wrote
// with every option (protoc-gen-validate rules included) but without comments.
//
//   node scripts/envoy-api.mjs install    install (no-op when the installed set matches the pins)
//   node scripts/envoy-api.mjs info       print the installed set's info.json
//
// GOPROXY (its first https URL) replaces the default proxy, as it does for the go command.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTALL_DIR = path.join(ROOT, '.envoy-api');
const DEFAULT_PROXY = 'https://proxy.golang.org';

/**
 * Files protobufjs bundles (its google/protobuf well-known types, and descriptor.proto, which
 * only option extensions import): the loader takes those from protobufjs, as it always has, so
 * the set leaves them out. src/resource/protos.ts loads the same list.
 */
const BUNDLED = new Set(
  ['any', 'descriptor', 'duration', 'empty', 'field_mask', 'struct', 'timestamp', 'wrappers'].map((n) => `google/protobuf/${n}.proto`),
);

/** package.json's "envoyApi": { version, module, modules: { path: { version, h1 } } }. */
export function apiPins() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const pins = pkg.envoyApi;
  if (!pins?.version || !pins.module || !pins.modules?.[pins.module]) {
    throw new Error('package.json: "envoyApi" needs "version", "module" and "modules" naming that module');
  }
  return pins;
}

export function installDir(version) {
  return path.join(INSTALL_DIR, version);
}

/** Installs the pinned descriptor set unless the installed one was made from the same pins. */
export async function install({ env = process.env, log = console.log } = {}) {
  const pins = apiPins();
  const dir = installDir(pins.version);
  const infoFile = path.join(dir, 'info.json');
  if (existsSync(infoFile) && samePins(JSON.parse(readFileSync(infoFile, 'utf8')), pins)) return { dir, fresh: false };

  const started = Date.now();
  const proxy = goProxy(env);
  const files = new Map(); // proto file name -> { bytes, imports, module }
  let envoyCommit;
  let downloaded = 0;
  for (const [modulePath, { version, h1 }] of Object.entries(pins.modules)) {
    const zip = await download(`${proxy}/${escapePath(modulePath)}/@v/${version}.zip`);
    downloaded += zip.length;
    const entries = readZip(zip);
    const got = dirHash(entries);
    if (got !== h1) throw new Error(`${modulePath}@${version}: hash ${got} does not match the pinned ${h1}`);
    const prefix = `${modulePath}@${version}/`;
    for (const entry of entries) {
      const name = entry.name.slice(prefix.length);
      if (modulePath === pins.module && name === 'COMMIT') envoyCommit = entry.data.toString('utf8').trim();
      if (!isGeneratedProtoFile(name)) continue;
      const bytes = rawDescriptor(entry.data, entry.name);
      if (!bytes) continue;
      const { name: protoName, imports } = fileHeader(bytes);
      if (files.has(protoName)) throw new Error(`${protoName} is in both ${files.get(protoName).module} and ${modulePath}`);
      files.set(protoName, { bytes, imports, module: modulePath });
    }
  }

  // Every v3 (and unversioned) file of the Envoy module and every file of cncf/xds, and what they
  // import; a file whose imports are not all there (transitively) is left out and named. The v2
  // files the module still carries describe an API Envoy no longer serves.
  const wanted = [...files.keys()].filter((n) => (/^envoy\//.test(n) && isV3(n)) || /^(xds|udpa)\//.test(n));
  const complete = new Map();
  const isComplete = (name) => {
    if (BUNDLED.has(name)) return true;
    const known = complete.get(name);
    if (known !== undefined) return known;
    const file = files.get(name);
    if (!file) return false;
    complete.set(name, true); // cycles are legal in .proto; assume complete while visiting
    const ok = file.imports.every(isComplete);
    complete.set(name, ok);
    return ok;
  };
  const left = wanted.filter((n) => !isComplete(n));
  const chosen = new Set();
  const take = (name) => {
    if (BUNDLED.has(name) || chosen.has(name)) return;
    chosen.add(name);
    for (const dep of files.get(name).imports) take(dep);
  };
  for (const name of wanted) if (isComplete(name)) take(name);

  // FileDescriptorSet { repeated FileDescriptorProto file = 1; }, files sorted by name.
  const names = [...chosen].sort();
  const parts = [];
  for (const name of names) {
    const { bytes } = files.get(name);
    parts.push(Buffer.from([0x0a]), varint(bytes.length), bytes);
  }
  const set = Buffer.concat(parts);
  const info = {
    envoyApi: pins.version,
    envoyCommit: envoyCommit ?? null,
    module: `${pins.module}@${pins.modules[pins.module].version}`,
    modules: pins.modules,
    files: names.length,
    leftOut: left.sort(),
    sha256: createHash('sha256').update(set).digest('hex'),
  };

  // Written to a temporary folder renamed into place: a cut-short install never looks complete.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  writeFileSync(path.join(partial, 'descriptors.binpb'), set);
  writeFileSync(path.join(partial, 'info.json'), `${JSON.stringify(info, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
  log(
    `Envoy API ${pins.version} (${info.module}): ${names.length} proto files, ${mib(set.length)} of descriptors ` +
      `from ${mib(downloaded)} of Go modules in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (left.length ? `; left out (imports missing): ${left.join(', ')}` : ''),
  );
  return { dir, fresh: true };
}

function isV3(file) {
  return !/\/v2(alpha\d*)?\//.test(file) && !/\/v1alpha1?\//.test(file);
}

function samePins(info, pins) {
  return info?.envoyApi === pins.version && JSON.stringify(info.modules) === JSON.stringify(pins.modules);
}

function goProxy(env) {
  for (const entry of (env.GOPROXY ?? '').split(/[,|]/)) {
    const url = entry.trim();
    if (/^https?:\/\//.test(url)) return url.replace(/\/+$/, '');
  }
  return DEFAULT_PROXY;
}

/** The module proxy's path escaping: an upper-case letter becomes `!` and its lower case. */
function escapePath(p) {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

async function download(url) {
  let last;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      last = err;
      if (attempt < 3) await new Promise((r) => setTimeout(r, 1_000 * attempt));
    }
  }
  throw new Error(`could not fetch ${url}: ${last instanceof Error ? last.message : String(last)}`);
}

/** The entries of a zip file (stored or deflated), from its central directory. */
export function readZip(zip) {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw new Error(`${name}: zip method ${method} is not supported`);
    entries.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
  }
  return entries;
}

/** go.sum's "h1:" hash: sha256 over the lines "<sha256 hex>  <name>\n" of the files, by name. */
export function dirHash(entries) {
  const lines = entries
    .map((e) => `${createHash('sha256').update(e.data).digest('hex')}  ${e.name}\n`)
    .sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : a.slice(66) > b.slice(66) ? 1 : 0));
  return `h1:${createHash('sha256').update(lines.join('')).digest('base64')}`;
}

function isGeneratedProtoFile(name) {
  return name.endsWith('.pb.go') && !name.endsWith('_grpc.pb.go') && !name.endsWith('_vtproto.pb.go');
}

/**
 * The serialized FileDescriptorProto in a .pb.go file: protoc-gen-go writes it either as a
 * string constant (`const file_..._rawDesc = "" + "\n..." + ...`) or as a byte slice
 * (`var file_..._rawDesc = []byte{0x0a, ...}`).
 */
export function rawDescriptor(source, where) {
  const text = source.toString('latin1');
  const m = /\nvar file_\w+_rawDesc = \[\]byte\{|\nconst file_\w+_rawDesc = ""/.exec(text);
  if (!m) return undefined;
  let p = m.index + m[0].length;
  if (m[0].endsWith('{')) {
    const end = text.indexOf('\n}', p);
    return Buffer.from(
      text
        .slice(p, end)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => Number(s)),
    );
  }
  const out = [];
  // `"" + \n\t"..." + \n\t"..."`: string literals joined by `+` until a line without one.
  for (;;) {
    const plus = /^\s*\+\s*/.exec(text.slice(p, p + 16));
    if (!plus) break;
    p += plus[0].length;
    if (text[p] !== '"') throw new Error(`${where}: unexpected text in the raw descriptor`);
    p = goString(source, p + 1, out);
  }
  return Buffer.from(out);
}

/** Appends the bytes of the Go interpreted string literal starting at `p` (after its quote). */
function goString(src, p, out) {
  const simple = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 };
  for (;;) {
    const c = src[p];
    if (c === 0x22) return p + 1;
    if (c !== 0x5c) {
      out.push(c);
      p++;
      continue;
    }
    const e = String.fromCharCode(src[p + 1]);
    if (e in simple) {
      out.push(simple[e]);
      p += 2;
    } else if (e === 'x') {
      out.push(parseInt(src.toString('latin1', p + 2, p + 4), 16));
      p += 4;
    } else if (e >= '0' && e <= '7') {
      out.push(parseInt(src.toString('latin1', p + 1, p + 4), 8));
      p += 4;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      out.push(...Buffer.from(String.fromCodePoint(parseInt(src.toString('latin1', p + 2, p + 2 + n), 16)), 'utf8'));
      p += 2 + n;
    } else {
      throw new Error(`bad escape \\${e} in a Go string`);
    }
  }
}

/** A FileDescriptorProto's name (field 1) and imports (field 3). */
export function fileHeader(bytes) {
  let name;
  const imports = [];
  let p = 0;
  const readVarint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (p < bytes.length) {
    const key = readVarint();
    const wire = key & 7;
    const field = Math.floor(key / 8);
    if (wire === 2) {
      const len = readVarint();
      const value = bytes.toString('utf8', p, p + len);
      if (field === 1) name = value;
      else if (field === 3) imports.push(value);
      p += len;
    } else if (wire === 0) readVarint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else throw new Error(`unexpected wire type ${wire} in a FileDescriptorProto`);
  }
  if (!name) throw new Error('a FileDescriptorProto without a name');
  return { name, imports };
}

function varint(n) {
  const out = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const command = process.argv[2] ?? 'install';
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (command === 'install') {
    await install();
  } else if (command === 'info') {
    const file = path.join(installDir(apiPins().version), 'info.json');
    if (!existsSync(file)) {
      console.error('not installed: run `node scripts/envoy-api.mjs install`');
      process.exit(1);
    }
    process.stdout.write(readFileSync(file, 'utf8'));
  } else {
    console.error('usage: node scripts/envoy-api.mjs install|info');
    process.exit(2);
  }
}

/**
 * The pieces of scripts/envoy-api.mjs that read a Go module: its zip (checked against go.sum's
 * "h1:" hash) and the serialized FileDescriptorProto in a generated .pb.go file, in both forms
 * protoc-gen-go writes it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}
interface Installer {
  readZip(zip: Buffer): ZipEntry[];
  dirHash(entries: readonly ZipEntry[]): string;
  rawDescriptor(source: Buffer, where: string): Buffer | undefined;
  fileHeader(bytes: Buffer): { name: string; imports: string[] };
}

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/envoy-api.mjs');
const installer = (await import(SCRIPT)) as Installer;

/** A zip of stored (uncompressed) entries, as a minimal writer lays it out. */
function storedZip(files: readonly [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, data);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

test('a module zip: its files, and the h1 hash go.sum pins (sha256 over "hash  name" lines, by name)', () => {
  const files: [string, string][] = [
    ['example.com/m@v1.0.0/z.go', 'package z\n'],
    ['example.com/m@v1.0.0/go.mod', 'module example.com/m\n'],
  ];
  const entries = installer.readZip(storedZip(files));
  assert.deepEqual(
    entries.map((e) => [e.name, e.data.toString()]),
    files,
  );
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const lines = `${sha('module example.com/m\n')}  example.com/m@v1.0.0/go.mod\n${sha('package z\n')}  example.com/m@v1.0.0/z.go\n`;
  assert.equal(installer.dirHash(entries), `h1:${createHash('sha256').update(lines).digest('base64')}`);
  const changed = installer.readZip(storedZip([files[0]!, ['example.com/m@v1.0.0/go.mod', 'module example.com/n\n']]));
  assert.notEqual(installer.dirHash(changed), installer.dirHash(entries), 'one changed byte changes the hash');
});

/** FileDescriptorProto { name: "a/b.proto" (1), dependency: "c.proto" (3) } and one more byte of each kind of escape. */
const DESCRIPTOR = Buffer.concat([
  Buffer.from([0x0a, 9]),
  Buffer.from('a/b.proto'),
  Buffer.from([0x1a, 7]),
  Buffer.from('c.proto'),
  Buffer.from([0x22, 5, 0x07, 0x22, 0x5c, 0xfa, 0xe9]),
]);

test('the raw descriptor of a .pb.go file: a string constant with Go escapes', () => {
  const source = Buffer.from(
    [
      'package b',
      '',
      'const file_a_b_proto_rawDesc = "" +',
      '\t"\\n\\ta/b.proto\\x1a\\ac.proto" +',
      '\t"\\"\\x05\\a\\"\\\\\\372\\u00e9"',
      '',
      'var x = 1',
    ].join('\n'),
    'utf8',
  );
  const bytes = installer.rawDescriptor(source, 'b.pb.go');
  // \u00e9 is a code point: its UTF-8 bytes, c3 a9, not the single byte e9.
  assert.deepEqual(bytes, Buffer.concat([DESCRIPTOR.subarray(0, -1), Buffer.from([0xc3, 0xa9])]));
});

test('the raw descriptor of a .pb.go file: a byte slice', () => {
  const hex = [...DESCRIPTOR].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
  const source = Buffer.from(
    `package b\n\nvar file_a_b_proto_rawDesc = []byte{\n\t${hex.slice(0, 8).join(', ')},\n\t${hex.slice(8).join(', ')},\n}\n`,
  );
  const bytes = installer.rawDescriptor(source, 'b.pb.go')!;
  assert.deepEqual(bytes, DESCRIPTOR);
  assert.deepEqual(installer.fileHeader(bytes), { name: 'a/b.proto', imports: ['c.proto'] });
});

test('a .pb.go file without a raw descriptor gives none', () => {
  assert.equal(installer.rawDescriptor(Buffer.from('package b\n\nfunc f() {}\n'), 'b.pb.go'), undefined);
});

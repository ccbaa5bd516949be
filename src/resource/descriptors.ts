/**
 * Serialized FileDescriptorProtos (a FileDescriptorSet) into protobufjs reflection, as protobufjs
 * would have built it from the .proto files with `keepCase`: the same names, types, oneofs (the
 * synthetic `_name` oneof of a proto3 `optional` field included), map fields, editions and
 * options.
 *
 * protoc keeps custom options in a descriptor as extension fields of the *Options messages. The
 * protoc-gen-validate ones are read by declaring validate.proto's extensions (`(validate.rules)`
 * on FieldOptions, `(validate.required)` on OneofOptions, `(validate.disabled)` and
 * `(validate.ignored)` on MessageOptions) on the descriptor types before the other files are
 * decoded. Each lands in the reflection object's `options` under its option name, as a
 * structured value: `options['(validate.rules)']` is the field's FieldRules as a plain object
 * (64-bit integers as decimal strings, enums by name, bytes as bytes, empty messages such as
 * `gt {}` kept). Other custom options (Envoy's and udpa's annotations) are not read, and
 * extensions are not declared in the API's root: nothing reads options from a message there.
 */
import protobuf from 'protobufjs';

/** The options kept: the extension's full name in the descriptor root, and the option name. */
const VALIDATE_OPTIONS: readonly (readonly [string, string])[] = [
  ['.validate.rules', '(validate.rules)'],
  ['.validate.required', '(validate.required)'],
  ['.validate.disabled', '(validate.disabled)'],
  ['.validate.ignored', '(validate.ignored)'],
];

const VALIDATE_FILE = 'validate/validate.proto';

/**
 * Adds every file of `set` to `root` and returns how many there were. Files the set's files
 * import but that it leaves out (the well-known types) must already be in `root`. `descriptors`
 * holds google/protobuf/descriptor.proto (loaded with `keepCase`) and what it imports; the
 * validate extensions are declared on it.
 */
export function addDescriptorSet(root: protobuf.Root, set: Uint8Array, descriptors: protobuf.Root): number {
  const files = splitSet(set);
  const fileType = descriptors.lookupType('google.protobuf.FileDescriptorProto');
  const validate = files.find((bytes) => fileName(bytes) === VALIDATE_FILE);
  // Declared before any other file is decoded: FieldOptions then decodes field 1071 as
  // `(validate.rules)` instead of skipping it as an unknown field.
  if (validate) addFile(descriptors, asFile(fileType.decode(validate)), true);
  for (const bytes of files) addFile(root, asFile(fileType.decode(bytes)), false);
  return files.length;
}

/** Adds what one file defines to its package's namespace. */
function addFile(root: protobuf.Root, file: FileProto, withExtensions: boolean): void {
  const ns = file.package ? root.define(file.package.split('.')) : root;
  ns.addJSON(fileToJson(file, withExtensions));
}

/** The FileDescriptorProtos of a FileDescriptorSet (field 1), undecoded. */
function splitSet(set: Uint8Array): Uint8Array[] {
  const reader = protobuf.Reader.create(set);
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 0x0a) out.push(reader.bytes());
    else reader.skipType(tag & 7);
  }
  return out;
}

function fileName(bytes: Uint8Array): string | undefined {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 0x0a) return reader.string();
    reader.skipType(tag & 7);
  }
  return undefined;
}

// The decoded descriptor messages, as far as they are read here. protobufjs gives unset fields
// their defaults from the prototype, so presence of a proto2 optional field is `own()`.
interface Message {
  readonly [key: string]: unknown;
}
interface FileProto extends Message {
  readonly name: string;
  readonly package: string;
  readonly syntax: string;
  readonly message_type: readonly MessageProto[];
  readonly enum_type: readonly EnumProto[];
  readonly service: readonly ServiceProto[];
  readonly extension: readonly FieldProto[];
}
interface MessageProto extends Message {
  readonly name: string;
  readonly field: readonly FieldProto[];
  readonly nested_type: readonly MessageProto[];
  readonly enum_type: readonly EnumProto[];
  readonly extension: readonly FieldProto[];
  readonly oneof_decl: readonly { readonly name: string; readonly options: Message | null }[];
  readonly reserved_range: readonly { readonly start: number; readonly end: number }[];
  readonly reserved_name: readonly string[];
  readonly options: Message | null;
}
interface FieldProto extends Message {
  readonly name: string;
  readonly number: number;
  readonly label: number;
  readonly type: number;
  readonly type_name: string;
  readonly extendee: string;
  readonly options: Message | null;
}
interface EnumProto extends Message {
  readonly name: string;
  readonly value: readonly { readonly name: string; readonly number: number }[];
  readonly options: Message | null;
}
interface ServiceProto extends Message {
  readonly name: string;
  readonly method: readonly Message[];
}

function asFile(message: protobuf.Message): FileProto {
  return message as unknown as FileProto;
}

function own(message: Message | null, key: string): unknown {
  return message !== null && Object.prototype.hasOwnProperty.call(message, key) ? message[key] : undefined;
}

type Json = Record<string, unknown>;

/** What one file defines, as protobufjs JSON, by name within its package. */
function fileToJson(file: FileProto, withExtensions: boolean): Record<string, Json> {
  const syntax = file.syntax || 'proto2';
  if (syntax !== 'proto2' && syntax !== 'proto3') throw new Error(`${file.name}: syntax ${syntax} is not supported`);
  const scope = file.package ? `.${file.package}` : '';
  const defs: Record<string, Json> = {};
  // Top-level definitions carry the file's edition, as protobufjs's parser sets it.
  const top = (name: string, json: Json): void => {
    defs[name] = { ...json, edition: syntax };
  };
  for (const m of file.message_type) top(m.name, messageToJson(m, `${scope}.${m.name}`, withExtensions));
  for (const e of file.enum_type) top(e.name, enumToJson(e));
  for (const s of file.service) top(s.name, serviceToJson(s));
  if (withExtensions) for (const x of file.extension) top(x.name, fieldToJson(x, undefined, true));
  return defs;
}

function messageToJson(message: MessageProto, fullName: string, withExtensions: boolean): Json {
  const mapEntries = new Map<string, MessageProto>();
  for (const t of message.nested_type) {
    if (own(t.options, 'map_entry') === true) mapEntries.set(`${fullName}.${t.name}`, t);
  }
  const json: Json = {
    fields: Object.fromEntries(message.field.map((f) => [f.name, fieldToJson(f, mapEntries, false)])),
  };
  if (message.oneof_decl.length > 0) {
    json['oneofs'] = Object.fromEntries(
      message.oneof_decl.map((o, i) => {
        const oneof: Json = { oneof: message.field.filter((f) => own(f, 'oneof_index') === i).map((f) => f.name) };
        const options = validateOptions(o.options);
        if (options) oneof['options'] = options;
        return [o.name, oneof];
      }),
    );
  }
  const nested: Record<string, Json> = {};
  for (const t of message.nested_type) {
    if (!mapEntries.has(`${fullName}.${t.name}`)) nested[t.name] = messageToJson(t, `${fullName}.${t.name}`, withExtensions);
  }
  for (const e of message.enum_type) nested[e.name] = enumToJson(e);
  if (withExtensions) for (const x of message.extension) nested[x.name] = fieldToJson(x, undefined, true);
  if (Object.keys(nested).length > 0) json['nested'] = nested;
  // Ranges are inclusive in protobufjs, end-exclusive in a descriptor.
  const reserved = [...message.reserved_range.map((r) => [r.start, r.end - 1]), ...message.reserved_name];
  if (reserved.length > 0) json['reserved'] = reserved;
  const options = validateOptions(message.options);
  if (options) json['options'] = options;
  return json;
}

/** FieldDescriptorProto.Type's numbers, from TYPE_DOUBLE = 1; groups (10) read as messages. */
const SCALARS: readonly (string | undefined)[] = [
  undefined,
  'double',
  'float',
  'int64',
  'uint64',
  'int32',
  'fixed64',
  'fixed32',
  'bool',
  'string',
  undefined,
  undefined,
  'bytes',
  'uint32',
  undefined,
  'sfixed32',
  'sfixed64',
  'sint32',
  'sint64',
];
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;

function fieldToJson(field: FieldProto, mapEntries: Map<string, MessageProto> | undefined, extension: boolean): Json {
  const type = typeName(field);
  const options: Json = {};
  const packed = own(field.options, 'packed');
  if (typeof packed === 'boolean') options['packed'] = packed;
  if (own(field.options, 'deprecated') === true) options['deprecated'] = true;
  Object.assign(options, validateOptions(field.options));
  const jsonName = own(field, 'json_name');
  if (typeof jsonName === 'string' && jsonName !== lowerCamel(field.name)) options['json_name'] = jsonName;
  if (own(field, 'proto3_optional') === true) options['proto3_optional'] = true;
  const given = own(field, 'default_value');
  if (typeof given === 'string') options['default'] = defaultValue(given, type);
  const json: Json = { type, id: field.number };
  const entry = mapEntries?.get(type);
  if (entry) {
    const [key, value] = entry.field;
    json['keyType'] = typeName(key!);
    json['type'] = typeName(value!);
  } else if (field.label === LABEL_REPEATED) json['rule'] = 'repeated';
  else if (field.label === LABEL_REQUIRED) json['rule'] = 'required';
  if (extension) json['extend'] = field.extendee;
  if (Object.keys(options).length > 0) json['options'] = options;
  return json;
}

function typeName(field: FieldProto): string {
  return SCALARS[field.type] ?? field.type_name;
}

function enumToJson(e: EnumProto): Json {
  const values: Record<string, number> = {};
  for (const v of e.value) values[v.name] = v.number;
  const json: Json = { values };
  if (own(e.options, 'allow_alias') === true) json['options'] = { allow_alias: true };
  return json;
}

function serviceToJson(s: ServiceProto): Json {
  const methods: Record<string, Json> = {};
  for (const m of s.method) {
    methods[m['name'] as string] = {
      requestType: m['input_type'],
      responseType: m['output_type'],
      ...(own(m, 'client_streaming') === true && { requestStream: true }),
      ...(own(m, 'server_streaming') === true && { responseStream: true }),
    };
  }
  return { methods };
}

/** The protoc-gen-validate options set in an *Options message, by option name. */
function validateOptions(options: Message | null): Json | undefined {
  let out: Json | undefined;
  for (const [key, name] of VALIDATE_OPTIONS) {
    const value = own(options, key);
    if (value === undefined || value === null) continue;
    (out ??= {})[name] = value instanceof protobuf.Message ? plainRules(value as protobuf.Message<object>) : value;
  }
  return out;
}

function plainRules(message: protobuf.Message<object>): Json {
  return message.$type.toObject(message, { longs: String, enums: String });
}

function defaultValue(text: string, type: string): unknown {
  if (type === 'string' || type === 'bytes' || type.startsWith('.')) return text;
  if (type === 'bool') return text === 'true';
  const n = Number(text);
  return Number.isNaN(n) && text !== 'nan' ? text : n;
}

/** protoc's default json_name: each underscore dropped and the character after it upper-cased. */
function lowerCamel(name: string): string {
  let out = '';
  let upper = false;
  for (const c of name) {
    if (c === '_') upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

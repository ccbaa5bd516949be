/**
 * JSON -> message. Strict where protobufjs's fromObject is lenient (it drops unknown fields and
 * coerces bad values), and it goes on after an error so that one pass reports all of them.
 */
import protobuf from 'protobufjs';
import type { ProtoRegistry } from '../protos.js';
import { encodeMessage } from './encode.js';
import { build, fieldById, fullName, isSet, jsonKeys, lookalike, messageTypeOf, type FieldValues, type Fields, type MapField } from './fields.js';
import { describe, isJsonObject, setOwn } from './json-values.js';
import { compareMapKeys, parseMapKey } from './map-keys.js';
import { fieldPath, indexPath, keyPath } from '../paths.js';
import type { MappingError, MappingResult, Parsed } from './result.js';
import { parseEnum, parseScalar, parseString } from './scalars.js';
import { NULL_VALUE, wellKnownKind } from './well-known-types.js';
import { parseDuration, parseFieldMask, parseTimestamp } from './well-known-strings.js';

/**
 * JSON value (already parsed from YAML/JSON) -> protobufjs message of `type`. Collects every error
 * (does not stop at the first). basePath prefixes every error path.
 */
export function messageFromJson(registry: ProtoRegistry, type: protobuf.Type, json: unknown, basePath = ''): MappingResult<protobuf.Message> {
  const { message, errors } = partialMessageFromJson(registry, type, json, basePath);
  if (message === undefined || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: message };
}

/**
 * Like messageFromJson, but also gives what could be parsed when there are errors (each bad
 * value left unset), so that checks over the rest of the message can still run and report
 * everything at once. The message is undefined when `json` is not an object at all.
 */
export function partialMessageFromJson(
  registry: ProtoRegistry,
  type: protobuf.Type,
  json: unknown,
  basePath = '',
): { message: protobuf.Message | undefined; errors: MappingError[] } {
  const parser = new JsonParser(registry);
  const message = parser.message(type, json, basePath);
  return { message, errors: parser.errors };
}

/** messageFromJson then encodeMessage. */
export function encodeJson(registry: ProtoRegistry, type: protobuf.Type, json: unknown, basePath = ''): MappingResult<Uint8Array> {
  const parsed = messageFromJson(registry, type, json, basePath);
  return parsed.ok ? { ok: true, value: encodeMessage(type, parsed.value) } : parsed;
}

/** Null stands for "unset" except where it is a value in its own right. */
function acceptsNull(field: protobuf.Field): boolean {
  if (field.map || field.repeated || !field.resolvedType) return false;
  const name = fullName(field.resolvedType);
  return name === 'google.protobuf.Value' || name === NULL_VALUE;
}

const MAX_DEPTH = 100;

/**
 * A bad value is recorded in `errors` and comes back as undefined, so parsing carries on past it
 * and messageFromJson can report every error at once.
 */
class JsonParser {
  readonly errors: MappingError[] = [];
  /** Messages open around the one being parsed. */
  #depth = 0;

  constructor(private readonly registry: ProtoRegistry) {}

  message(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    // A Struct can nest without end, and the stack cannot: stop where protobuf's own parsers
    // do (their default recursion limit), with an error rather than a crash.
    if (this.#depth >= MAX_DEPTH) return this.fail(path, `nested deeper than ${MAX_DEPTH} messages (protobuf's recursion limit)`);
    this.#depth += 1;
    try {
      return this.#message(type, json, path);
    } finally {
      this.#depth -= 1;
    }
  }

  #message(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    switch (wellKnownKind(type)) {
      case 'any':
        return this.any(type, json, path);
      case 'duration':
        return this.built(type, parseDuration(json), path);
      case 'timestamp':
        return this.built(type, parseTimestamp(json), path);
      case 'fieldMask':
        return this.built(type, parseFieldMask(json), path);
      case 'wrapper':
        return this.wrapper(type, json, path);
      case 'struct':
        return this.struct(type, json, path);
      case 'value':
        return this.value(type, json, path);
      case 'list':
        return this.listValue(type, json, path);
      case 'empty':
      case undefined:
        break;
    }
    if (!isJsonObject(json)) return this.fail(path, `expected an object (${fullName(type)}), got ${describe(json)}`);
    return this.fields(type, json, path);
  }

  /** An ordinary message's fields; `skip` is a key that is not a field ("@type" in an Any). */
  private fields(type: protobuf.Type, json: Record<string, unknown>, path: string, skip?: string): protobuf.Message {
    const props: Fields = {};
    const given = new Map<string, string>(); // field name -> the key it was given under
    const oneofs = new Map<string, string>(); // oneof name -> the key that set it
    for (const [key, raw] of Object.entries(json)) {
      if (key === skip || raw === undefined) continue; // undefined: absent, as JSON.stringify has it
      const at = fieldPath(path, key);
      const field = this.lookup(type, key, at);
      if (!field || !this.firstMention(given, field, key, at)) continue;
      if (raw === null && !acceptsNull(field)) continue; // null: the field keeps its default
      if (!this.claimOneof(oneofs, field, key, at)) continue;
      const value = this.fieldValue(field, raw, at);
      if (isSet(field, value)) props[field.name] = value;
    }
    return type.create(props);
  }

  private lookup(type: protobuf.Type, key: string, at: string): protobuf.Field | undefined {
    const field = jsonKeys(type).get(key);
    if (field) return field;
    const hint = lookalike(type, key);
    const suggestion = hint === undefined ? '' : `; did you mean "${hint}"?`;
    return this.fail(at, `unknown field ${JSON.stringify(key)} in ${fullName(type)}${suggestion}`);
  }

  /** A field may be given once, under either of its names. */
  private firstMention(given: Map<string, string>, field: protobuf.Field, key: string, at: string): boolean {
    const earlier = given.get(field.name);
    if (earlier !== undefined) {
      this.fail(at, `field "${field.name}" is given twice, as "${earlier}" and as "${key}"`);
      return false;
    }
    given.set(field.name, key);
    return true;
  }

  private claimOneof(oneofs: Map<string, string>, field: protobuf.Field, key: string, at: string): boolean {
    const oneof = field.partOf;
    if (!oneof) return true;
    const earlier = oneofs.get(oneof.name);
    if (earlier !== undefined) {
      this.fail(at, `"${earlier}" and "${key}" are both set, but they belong to oneof "${oneof.name}": set only one`);
      return false;
    }
    oneofs.set(oneof.name, key);
    return true;
  }

  private fieldValue(field: protobuf.Field, json: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) return this.map(field, json, path);
    if (field.repeated) return this.list(field, json, path);
    return this.singular(field, json, path);
  }

  /** One value of the field's type: the field itself, a list element or a map value. */
  private singular(field: protobuf.Field, json: unknown, path: string): unknown {
    const target = field.resolvedType;
    if (target instanceof protobuf.Type) return this.message(target, json, path);
    if (target instanceof protobuf.Enum) return this.parsed(parseEnum(target, json), path);
    return this.parsed(parseScalar(field.type, json), path);
  }

  private list(field: protobuf.Field, json: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(json)) {
      return this.fail(path, `expected an array for repeated field "${field.name}", got ${describe(json)}`);
    }
    const values: unknown[] = [];
    json.forEach((item: unknown, i) => {
      const value = this.singular(field, item, indexPath(path, i));
      if (value !== undefined) values.push(value);
    });
    return values;
  }

  /**
   * Entries are inserted in key order, the order encodeMessage writes them in, so that even
   * protobufjs's own encoder (which follows insertion order) gives the same bytes.
   */
  private map(field: MapField, json: unknown, path: string): Fields | undefined {
    if (!isJsonObject(json)) {
      return this.fail(path, `expected an object for map field "${field.name}", got ${describe(json)}`);
    }
    const entries = new Map<string, unknown>();
    for (const [rawKey, raw] of Object.entries(json)) {
      const at = keyPath(path, rawKey);
      const key = this.parsed(parseMapKey(field.keyType, rawKey), at);
      if (key === undefined) continue;
      if (entries.has(key)) {
        this.fail(at, `map key ${describe(rawKey)} repeats key ${describe(key)}`);
        continue;
      }
      const value = this.singular(field, raw, at);
      if (value !== undefined) entries.set(key, value);
    }
    const map: Fields = {};
    for (const key of [...entries.keys()].sort(compareMapKeys(field.keyType))) setOwn(map, key, entries.get(key));
    return map;
  }

  private any(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!isJsonObject(json)) {
      return this.fail(path, `expected an object with "@type" (google.protobuf.Any), got ${describe(json)}`);
    }
    if (Object.keys(json).length === 0) return type.create(); // the empty Any
    const typeUrl = json['@type'];
    const at = keyPath(path, '@type');
    if (typeUrl === undefined) return this.fail(at, 'missing "@type": an Any needs the type URL of the message it holds');
    if (typeof typeUrl !== 'string') return this.fail(at, `expected a type URL string, got ${describe(typeUrl)}`);
    const inner = this.registry.typeFromUrl(typeUrl);
    if (!inner) {
      const expected = '"type.googleapis.com/" and the full name of a known message type';
      return this.fail(at, `unknown type URL ${JSON.stringify(typeUrl)}: expected ${expected}`);
    }
    const payload = wellKnownKind(inner) !== undefined ? this.anyValue(inner, json, path) : this.fields(inner, json, path, '@type');
    return (
      payload &&
      build(type, [
        [1, typeUrl],
        [2, encodeMessage(inner, payload)],
      ])
    );
  }

  /** A well-known type inside an Any: {"@type": ..., "value": <its JSON form>}. */
  private anyValue(inner: protobuf.Type, json: Record<string, unknown>, path: string): protobuf.Message | undefined {
    for (const key of Object.keys(json)) {
      if (key !== '@type' && key !== 'value') {
        const message = `unknown field ${JSON.stringify(key)}: an Any holding ${fullName(inner)} has only "@type" and "value"`;
        this.fail(fieldPath(path, key), message);
      }
    }
    const at = fieldPath(path, 'value');
    if (!Object.hasOwn(json, 'value')) {
      return this.fail(at, `missing "value": an Any holding ${fullName(inner)} puts its JSON form there`);
    }
    return this.message(inner, json['value'], at);
  }

  private wrapper(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    const value = this.singular(fieldById(type, 1), json, path);
    return value === undefined ? undefined : build(type, [[1, value]]);
  }

  private struct(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!isJsonObject(json)) return this.fail(path, `expected an object (google.protobuf.Struct), got ${describe(json)}`);
    const field = fieldById(type, 1);
    const fields = field instanceof protobuf.MapField ? this.map(field, json, path) : undefined;
    return fields && build(type, [[1, fields]]);
  }

  /** google.protobuf.Value: whichever JSON value it is, kept as that kind. */
  private value(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    const kind = (id: number, value: unknown): protobuf.Message | undefined => (value === undefined ? undefined : build(type, [[id, value]]));
    if (json === null) return kind(1, 0);
    if (Array.isArray(json)) return kind(6, this.message(messageTypeOf(fieldById(type, 6)), json, path));
    if (isJsonObject(json)) return kind(5, this.message(messageTypeOf(fieldById(type, 5)), json, path));
    switch (typeof json) {
      case 'boolean':
        return kind(4, json);
      case 'string':
        return kind(3, this.parsed(parseString(json), path));
      case 'number':
      case 'bigint': {
        const number = Number(json);
        const exact = Number.isFinite(number) && (typeof json === 'number' || BigInt(number) === json);
        return exact ? kind(2, number) : this.fail(path, `a JSON value cannot hold ${describe(json)}`);
      }
      default:
        return this.fail(path, `expected a JSON value, got ${describe(json)}`);
    }
  }

  private listValue(type: protobuf.Type, json: unknown, path: string): protobuf.Message | undefined {
    if (!Array.isArray(json)) return this.fail(path, `expected an array (google.protobuf.ListValue), got ${describe(json)}`);
    const values = this.list(fieldById(type, 1), json, path);
    return values && build(type, [[1, values]]);
  }

  private built(type: protobuf.Type, values: Parsed<FieldValues>, path: string): protobuf.Message | undefined {
    const parsed = this.parsed(values, path);
    return parsed && build(type, parsed);
  }

  private parsed<T>(parsed: Parsed<T>, path: string): T | undefined {
    return 'error' in parsed ? this.fail(path, parsed.error) : parsed.value;
  }

  private fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }
}

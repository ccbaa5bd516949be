/**
 * A JSON object as a file writes it for one Envoy message type. The proto3 JSON mapping lets a
 * field be spelled by its proto name or in lowerCamel (`static_resources`, `staticResources`):
 * fields are found by proto name either way, and what import changes keeps the file's spelling.
 */
import protobuf from 'protobufjs';
import { jsonKeys } from '../../resource/json-mapping/fields.js';

export type Json = Record<string, unknown>;

export class WrittenMessage {
  constructor(
    readonly json: Json,
    readonly type: protobuf.Type,
    /** Where it is in the document, fields by proto name (`static_resources.listeners[0]`). */
    readonly path: string,
  ) {}

  /** The key the file writes this field under, if it writes it. */
  key(field: string): string | undefined {
    const keys = jsonKeys(this.type);
    return Object.keys(this.json).find((k) => keys.get(k)?.name === field);
  }

  get(field: string): unknown {
    const key = this.key(field);
    return key === undefined ? undefined : this.json[key];
  }

  /** A string field's value; undefined when it is not written, empty or not a string. */
  string(field: string): string | undefined {
    const value = this.get(field);
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** A message field the file writes as a mapping. */
  message(field: string): WrittenMessage | undefined {
    const value = this.get(field);
    const type = this.type.fields[field]?.resolvedType;
    return isObject(value) && type instanceof protobuf.Type ? new WrittenMessage(value, type, this.pathOf(field)) : undefined;
  }

  /** The entries of a repeated message field, each with its path; an entry that is not a mapping has no message. */
  entries(field: string): { readonly path: string; readonly message: WrittenMessage | undefined }[] {
    const value = this.get(field);
    const type = this.type.fields[field]?.resolvedType;
    if (!Array.isArray(value) || !(type instanceof protobuf.Type)) return [];
    return value.map((item: unknown, i) => {
      const path = `${this.pathOf(field)}[${i}]`;
      return { path, message: isObject(item) ? new WrittenMessage(item, type, path) : undefined };
    });
  }

  /** The proto name of the field a key writes; undefined for a key of no field. */
  fieldOf(key: string): string | undefined {
    return jsonKeys(this.type).get(key)?.name;
  }

  pathOf(field: string): string {
    return this.path === '' ? field : `${this.path}.${field}`;
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON key in snake_case, as the proto names the field (a lowerCamel key is the same field). */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

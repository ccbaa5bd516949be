/**
 * Walks a decoded message along its type's plan: runs the field checks and descends into
 * sub-messages, list items, map values and the payloads of Any fields.
 */
import protobuf from 'protobufjs';
import type { MappingError } from '../json-mapping.js';
import type { ProtoRegistry } from '../protos.js';
import { toNum } from './numbers.js';
import { fieldPath as memberPath, indexPath, keyPath } from '../paths.js';
import { hasRulesBelow, isAnyType, planFor, type MapPlan, type RepeatedPlan, type SingularPlan } from './plan.js';

/** A decoded message's fields by name. */
export type Fields = Record<string, unknown>;

const WIDE_KEYS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

export class ConstraintWalker {
  readonly violations: MappingError[] = [];

  constructor(private readonly registry: ProtoRegistry) {}

  message(type: protobuf.Type, message: Fields, path: string): void {
    if (isAnyType(type)) {
      this.any(type, message, path);
      return;
    }
    const plan = planFor(type);
    if (!plan) return;
    for (const oneof of plan.requiredOneofs) {
      const members = oneof.oneof;
      if (!members.some((name) => isSet(message, name))) {
        const choice = members.length === 1 ? members[0] : `one of ${members.join(', ')}`;
        this.fail(memberPath(path, oneof.name), `is required: set ${choice}`);
      }
    }
    for (const field of plan.fields) {
      const at = memberPath(path, field.name);
      if (field.shape === 'singular') this.singular(field, message, at);
      else if (field.shape === 'repeated') this.repeated(field, message, at);
      else this.map(field, message, at);
    }
  }

  private singular(plan: SingularPlan, message: Fields, path: string): void {
    const value = message[plan.name];
    if (!isSet(message, plan.name)) {
      if (plan.required) this.fail(path, 'is required');
      // An absent proto3 scalar reads as its default (protobufjs keeps defaults on the prototype).
      if (plan.checkUnset) plan.check?.(value, path, this.violations);
      return;
    }
    plan.check?.(value, path, this.violations);
    if (plan.child) this.message(plan.child, value as Fields, path);
  }

  private repeated(plan: RepeatedPlan, message: Fields, path: string): void {
    const items = (message[plan.name] as unknown[] | undefined) ?? [];
    plan.listCheck?.(items, path, this.violations);
    if (!plan.itemCheck && !plan.child) return;
    items.forEach((item, i) => {
      const at = indexPath(path, i);
      plan.itemCheck?.(item, at, this.violations);
      if (plan.child) this.message(plan.child, item as Fields, at);
    });
  }

  private map(plan: MapPlan, message: Fields, path: string): void {
    const entries = (message[plan.name] as Fields | undefined) ?? {};
    const keys = Object.keys(entries);
    plan.sizeCheck?.(keys, path, this.violations);
    for (const raw of keys) {
      const key = mapKey(plan.keyType, raw);
      const at = keyPath(path, String(key));
      plan.keyCheck?.(key, at, this.violations);
      const value = entries[raw];
      if (value == null) {
        if (plan.noSparse) this.fail(at, 'must have a value: map entries must not be empty');
        continue;
      }
      plan.valueCheck?.(value, at, this.violations);
      if (plan.child) this.message(plan.child, value as Fields, at);
    }
  }

  /**
   * Envoy validates the payload of every Any whose type it knows, as it unpacks it. The payload's
   * fields sit beside "@type" in JSON, so their paths continue from the Any's own; an Any inside
   * an Any is a well-known type and goes under "value".
   */
  private any(type: protobuf.Type, any: Fields, path: string): void {
    const typeUrl = any[type.fieldsById[1]!.name];
    const payload = any[type.fieldsById[2]!.name];
    if (typeof typeUrl !== 'string' || typeUrl === '') return;
    const inner = this.registry.typeFromUrl(typeUrl);
    if (!inner || !hasRulesBelow(inner)) return;
    let decoded: Fields;
    try {
      decoded = inner.decode(payload instanceof Uint8Array ? payload : new Uint8Array()) as unknown as Fields;
    } catch (error) {
      this.fail(path, `holds a ${inner.fullName.slice(1)} that cannot be decoded: ${(error as Error).message}`);
      return;
    }
    this.message(inner, decoded, isAnyType(inner) ? memberPath(path, 'value') : path);
  }

  private fail(path: string, message: string): void {
    this.violations.push({ path, message });
  }
}

/** Set on the wire: protobufjs gives decoded fields own properties, absent ones read from the prototype. */
function isSet(message: Fields, name: string): boolean {
  return Object.hasOwn(message, name) && message[name] != null;
}

/**
 * A decoded map key as its typed value. protobufjs holds keys as property names: decimal for
 * 32-bit integers, "true"/"false" for bools, and an 8-character hash for 64-bit integers.
 */
function mapKey(keyType: string, raw: string): string | number | bigint | boolean {
  if (keyType === 'string') return raw;
  if (keyType === 'bool') return raw === 'true';
  if (WIDE_KEYS.has(keyType)) {
    const unsigned = keyType === 'uint64' || keyType === 'fixed64';
    return toNum(protobuf.util.longFromHash(raw, unsigned), keyType);
  }
  return Number(raw);
}

/**
 * What to check in a message of a given type, worked out once per type from its PGV annotations:
 * the oneofs that must be set, and per field its compiled checks and whether to descend into it.
 *
 * Most of a large config (metadata Structs, plain settings) has no rules at any depth, so a field
 * is only descended into when some rule exists below its type; that is decided once per type too.
 */
import protobuf from 'protobufjs';
import type { MappingError } from '../json-mapping.js';
import { toNum } from './numbers.js';
import { count, fieldRules, flag, oneofRequired, record, validationDisabled, type Raw } from './options.js';
import { indexPath } from '../paths.js';
import { compileValueCheck, elementOf, type Element, type ValueCheck } from './value-checks.js';

/** Checks a whole repeated field or map (item counts, uniqueness) given its items. */
export type ListCheck = (items: readonly unknown[], path: string, out: MappingError[]) => void;

export interface SingularPlan {
  readonly shape: 'singular';
  readonly name: string;
  /**
   * Whether the check applies when the field is absent. A proto3 scalar outside a oneof reads as
   * its default then and PGV checks that (a missing `stat_prefix` is too short); oneof members and
   * messages are only checked when set.
   */
  readonly checkUnset: boolean;
  readonly required: boolean;
  readonly check: ValueCheck | undefined;
  /** The message type to descend into, when rules exist below it. */
  readonly child: protobuf.Type | undefined;
}

export interface RepeatedPlan {
  readonly shape: 'repeated';
  readonly name: string;
  readonly listCheck: ListCheck | undefined;
  readonly itemCheck: ValueCheck | undefined;
  readonly child: protobuf.Type | undefined;
}

export interface MapPlan {
  readonly shape: 'map';
  readonly name: string;
  readonly keyType: string;
  readonly sizeCheck: ListCheck | undefined;
  readonly keyCheck: ValueCheck | undefined;
  readonly valueCheck: ValueCheck | undefined;
  /** PGV's no_sparse: every entry of a map of messages must hold a message. */
  readonly noSparse: boolean;
  readonly child: protobuf.Type | undefined;
}

export type FieldPlan = SingularPlan | RepeatedPlan | MapPlan;

export interface TypePlan {
  /** Oneofs with `(validate.required)`: one member must be set. */
  readonly requiredOneofs: readonly protobuf.OneOf[];
  readonly fields: readonly FieldPlan[];
}

const ANY = '.google.protobuf.Any';

const plans = new WeakMap<protobuf.Type, TypePlan | null>();
const rulesBelow = new WeakMap<protobuf.Type, boolean>();
const anyTypes = new WeakMap<protobuf.Type, boolean>();

/** Whether `type` is google.protobuf.Any; remembered, as protobufjs rebuilds fullName on every read. */
export function isAnyType(type: protobuf.Type): boolean {
  let any = anyTypes.get(type);
  if (any === undefined) {
    any = type.fullName === ANY;
    anyTypes.set(type, any);
  }
  return any;
}

/** The plan for `type`, or undefined when nothing in or below it is ever checked. */
export function planFor(type: protobuf.Type): TypePlan | undefined {
  let plan = plans.get(type);
  if (plan === undefined) {
    plan = hasRulesBelow(type) ? compile(type) : null;
    plans.set(type, plan);
  }
  return plan ?? undefined;
}

/**
 * Whether a message of `type` can break any rule: its own, or one of a message reachable from it.
 * An Any counts, as its payload may be of any type. Message types refer to each other in cycles,
 * so this is a search over everything reachable; when it finds nothing, nothing reachable has any
 * rule below it either, and all of it is remembered as such.
 */
export function hasRulesBelow(type: protobuf.Type): boolean {
  const known = rulesBelow.get(type);
  if (known !== undefined) return known;
  const seen = new Set([type]);
  const queue = [type];
  let found = false;
  for (let i = 0; i < queue.length && !found; i++) {
    const current = queue[i]!;
    const memo = current === type ? undefined : rulesBelow.get(current);
    if (memo === true || (memo === undefined && hasOwnRules(current))) found = true;
    if (memo !== undefined || found || validationDisabled(current)) continue;
    for (const child of childTypes(current)) {
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  if (found) rulesBelow.set(type, true);
  else for (const t of seen) rulesBelow.set(t, false);
  return found;
}

function hasOwnRules(type: protobuf.Type): boolean {
  if (isAnyType(type)) return true;
  if (validationDisabled(type)) return false;
  return type.oneofsArray.some(oneofRequired) || type.fieldsArray.some((field) => fieldRules(field) !== undefined);
}

function childTypes(type: protobuf.Type): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  for (const field of type.fieldsArray) {
    if (field.resolvedType instanceof protobuf.Type && !skipsChild(fieldRules(field))) out.push(field.resolvedType);
  }
  return out;
}

function compile(type: protobuf.Type): TypePlan {
  if (validationDisabled(type)) return { requiredOneofs: [], fields: [] };
  const fields = type.fieldsArray.map(fieldPlan).filter((plan): plan is FieldPlan => plan !== undefined);
  return { requiredOneofs: type.oneofsArray.filter(oneofRequired), fields };
}

function fieldPlan(field: protobuf.Field): FieldPlan | undefined {
  const rules = fieldRules(field);
  const element = elementOf(field);
  const child = element.kind === 'message' && !skipsChild(rules) && hasRulesBelow(element.type) ? element.type : undefined;
  if (field instanceof protobuf.MapField) return mapPlan(field, rules, element, child);
  if (field.repeated) return repeatedPlan(field, rules, element, child);
  const check = compileValueCheck(rules, element);
  // A oneof member's rules apply only when it is the member set, so `required` on one means nothing.
  const inOneof = field.partOf !== null;
  const required = !inOneof && ['message', 'any', 'duration', 'timestamp'].some((kind) => flag(record(rules?.[kind]), 'required'));
  if (!check && !required && !child) return undefined;
  const checkUnset = element.kind !== 'message' && !inOneof;
  return { shape: 'singular', name: field.name, checkUnset, required, check, child };
}

function repeatedPlan(field: protobuf.Field, rules: Raw | undefined, element: Element, child: protobuf.Type | undefined): RepeatedPlan | undefined {
  const repeated = record(rules?.['repeated']);
  const listCheck = sizeCheck(repeated, 'min_items', 'max_items', 'item', flag(repeated, 'unique'));
  const itemCheck = compileValueCheck(record(repeated?.['items']), element);
  if (!listCheck && !itemCheck && !child) return undefined;
  return { shape: 'repeated', name: field.name, listCheck, itemCheck, child };
}

function mapPlan(field: protobuf.MapField, rules: Raw | undefined, element: Element, child: protobuf.Type | undefined): MapPlan | undefined {
  const map = record(rules?.['map']);
  const keys = compileValueCheck(record(map?.['keys']), { kind: 'scalar', type: field.keyType });
  const plan: MapPlan = {
    shape: 'map',
    name: field.name,
    keyType: field.keyType,
    sizeCheck: sizeCheck(map, 'min_pairs', 'max_pairs', 'entry', false),
    keyCheck: keys && asKeyCheck(keys),
    valueCheck: compileValueCheck(record(map?.['values']), element),
    noSparse: flag(map, 'no_sparse') && element.kind === 'message',
    child,
  };
  return plan.sizeCheck || plan.keyCheck || plan.valueCheck || plan.noSparse || child ? plan : undefined;
}

/** Key violations are reported at the entry's path, so say that it is the key that is wrong. */
function asKeyCheck(check: ValueCheck): ValueCheck {
  return (key, path, out) => {
    const first = out.length;
    check(key, path, out);
    for (let i = first; i < out.length; i++) {
      out[i] = { path, message: `key ${out[i]!.message.replace(/^value /, '')}` };
    }
  };
}

/** min/max counts and uniqueness of a repeated field or map, skipped when empty under `ignore_empty`. */
function sizeCheck(rules: Raw | undefined, min: string, max: string, unit: 'item' | 'entry', unique: boolean): ListCheck | undefined {
  const least = count(rules, min);
  const most = count(rules, max);
  const ignoreEmpty = flag(rules, 'ignore_empty');
  if (least === undefined && most === undefined && !unique) return undefined;
  const units = (n: number): string => `${n} ${n === 1 ? unit : unit === 'item' ? 'items' : 'entries'}`;
  return (items, path, out) => {
    if (ignoreEmpty && items.length === 0) return;
    if (least !== undefined && items.length < least) out.push({ path, message: `must have at least ${units(least)}` });
    if (most !== undefined && items.length > most) {
      out.push({ path, message: `must have at most ${units(most)}, got ${items.length}` });
    }
    if (unique) reportRepeats(items, path, out);
  };
}

/** PGV's `unique` (scalar items only): each repeat is reported at its index. */
function reportRepeats(items: readonly unknown[], path: string, out: MappingError[]): void {
  const firstAt = new Map<unknown, number>();
  items.forEach((item, i) => {
    const key = uniqueKey(item);
    const first = firstAt.get(key);
    if (first === undefined) firstAt.set(key, i);
    else out.push({ path: indexPath(path, i), message: `must be unique, but repeats item [${first}]` });
  });
}

/** Items compared by content: bytes and 64-bit integers (Long) are objects. */
function uniqueKey(item: unknown): unknown {
  if (item instanceof Uint8Array) return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('hex');
  if (typeof item === 'object' && item !== null) return toNum(item, 'int64');
  return item;
}

/** `message.skip` on the field, or on its items or map values: PGV does not validate inside. */
function skipsChild(rules: Raw | undefined): boolean {
  const skip = (r: Raw | undefined): boolean => flag(record(r?.['message']), 'skip');
  return skip(rules) || skip(record(record(rules?.['repeated'])?.['items'])) || skip(record(record(rules?.['map'])?.['values']));
}

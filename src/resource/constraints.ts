/**
 * Envoy's own field constraints, checked before a resource is sent to Envoy.
 *
 * Envoy's API protos carry protoc-gen-validate (PGV) annotations, and Envoy runs the generated
 * Validate() on every resource it accepts, recursively, including the typed configs inside Any
 * fields it unpacks. A violation makes Envoy NACK the whole update, so the same rules are read
 * here, generically, from the annotations in the loaded protos, and checked up front, where each
 * violation can be reported with its path in the operator's document.
 *
 * The work lives in ./constraints/: options.ts reads the annotations, plan.ts compiles them once
 * per message type, walker.ts walks a decoded message, and the remaining files hold the rules.
 */
import type protobuf from 'protobufjs';
import type { MappingError } from './json-mapping.js';
import type { ProtoRegistry } from './protos.js';
import { ConstraintWalker, type Fields } from './constraints/walker.js';

/**
 * Every PGV constraint violation in `bytes` (a serialized message of `type`), with paths prefixed
 * by basePath. Recurses into sub-messages, repeated and map values, and google.protobuf.Any
 * payloads whose type the registry knows. Throws when `bytes` is not a message of `type`.
 */
export function checkConstraints(registry: ProtoRegistry, type: protobuf.Type, bytes: Uint8Array, basePath = ''): MappingError[] {
  const walker = new ConstraintWalker(registry);
  walker.message(type, type.decode(bytes) as unknown as Fields, basePath);
  return walker.violations;
}

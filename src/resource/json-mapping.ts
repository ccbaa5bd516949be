/**
 * Envoy resources between their JSON/YAML form and protobuf, following protobuf's canonical proto3
 * JSON mapping (https://protobuf.dev/programming-guides/json/), the form Envoy's own YAML config
 * uses.
 *
 * An operator's config file becomes the exact bytes sent to Envoy, so neither direction uses
 * protobufjs's fromObject/toObject/encode: fromObject drops unknown fields and coerces bad values,
 * and encode writes map entries in insertion order and explicitly-set default scalars. Parsing is
 * strict and reports every error with its path; encoding is deterministic (fields by number, map
 * and Struct entries by key, Any payloads encoded the same way), so equal content gives equal bytes.
 *
 * Message values use protobufjs's representation: numbers, Long for 64-bit integers, Uint8Array
 * for bytes, enum numbers, and map fields as objects keyed by the key's canonical string (decimal
 * for integer keys, "true"/"false" for bool keys).
 *
 * The implementation lives in ./json-mapping/; this module is its public surface.
 */
export { encodeMessage } from './json-mapping/encode.js';
export { encodeJson, messageFromJson } from './json-mapping/from-json.js';
export type { MappingError, MappingResult } from './json-mapping/result.js';
export { messageToJson, messageToJsonValue } from './json-mapping/to-json.js';

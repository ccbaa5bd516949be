/**
 * The API's JSON as the console reads it: the types of the schemas the server checks requests
 * and writes replies with (src/api/schemas), and the domain's own lists of states and methods.
 * Type-only, so nothing of the server reaches the page: ui/tsconfig.api.json builds the
 * declarations these names come from.
 */
export type {
  DrainMeasure,
  DrainMethod,
  DrainSpec,
  DrainState,
  EndpointTarget,
  ListenerState,
  NodePhaseState,
  Selector,
} from '../../src/fleet/drain/model.js';
export type { XdsShortName as XdsType } from '../../src/resource/type-urls.js';
export type { FieldError } from '../../src/api/schemas/error.js';
export type { DrainDigest, DrainPreview, DrainRequestBody as DrainRequest, NodeDigest, PhaseDigest } from '../../src/api/schemas/drain.js';
export type { FleetEvent, FleetSummary, LocalityCounts } from '../../src/api/schemas/fleet.js';
export type { NodePage, NodeView } from '../../src/api/schemas/nodes.js';

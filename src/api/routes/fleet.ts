import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FleetRead } from '../../fleet/fleet-read.js';
import { summarizeFleet } from '../../fleet/fleet-summary.js';
import type { FleetFeed } from '../fleet-feed.js';
import { fleetSummarySchema } from '../schemas/fleet.js';
import { eventStreams } from '../sse.js';

/**
 * The fleet as a whole, for a console at 10,000 nodes: counts aggregated on the server, and one
 * coalesced stream of changes instead of a request per node or per second.
 */
export const fleetRoutes: FastifyPluginAsyncTypebox<{ read: () => FleetRead; feed: FleetFeed }> = async (app, { read, feed }) => {
  const openStream = eventStreams(app);

  app.get(
    '/v1/fleet/summary',
    {
      schema: {
        summary: 'Nodes, listeners by state (serving, draining, gone) and drains by state, counted per cluster and locality',
        response: { 200: fleetSummarySchema },
      },
    },
    async () => ({ at: new Date().toISOString(), ...summarizeFleet(read()) }),
  );

  app.get(
    '/v1/fleet/events',
    {
      schema: {
        summary: 'Server-sent events: the fleet summary and drain summaries now, then their changes, coalesced',
        description:
          'A `fleet` event now and at most every 500 ms while anything changes: `{at, summary, changedNodes, changedNodesOmitted}`, ' +
          'the summary as GET /v1/fleet/summary gives it and the ids of the nodes that changed (at most 500; the rest counted). ' +
          'A `drain` event per drain now (every running drain and the 10 latest ended) and per change of a drain, ' +
          'its summary as GET /v1/drains/:id/summary gives it. A comment every 15 s keeps the stream open.',
      },
    },
    async (_req, reply) => {
      let unsubscribe = (): void => {};
      const stream = openStream(reply, () => unsubscribe());
      unsubscribe = feed.subscribe((event, json) => stream.send(event, json));
      return reply;
    },
  );
};

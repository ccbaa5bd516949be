import type { Logger } from 'pino';
import type { StateStore } from '../ports/state-store.js';
import type { ConfigService } from '../config-service.js';
import type { DrainManager } from '../drain/manager.js';
import type { NodeStatusPublisher } from './node-publisher.js';

export interface ReplicationDeps {
  readonly store: StateStore;
  readonly drains: DrainManager;
  readonly config: ConfigService;
  /** Absent when there is no replica to publish to. */
  readonly publisher: NodeStatusPublisher | undefined;
  readonly logger: Logger;
}

/**
 * Keeps this replica in step with the others through the store: drains and config versions
 * they store are applied here at once (pushed to the nodes connected here), this replica's node
 * status is published, and after the store was unreachable everything is brought up to date.
 * Returns the function that stops it.
 */
export function replicate({ store, drains, config, publisher, logger }: ReplicationDeps): () => void {
  const stops = [
    store.drains.watch((id, drain) => drains.applyStored(id, drain)),
    config.follow(),
    store.nodes?.onLost(() => publisher?.republish()) ?? (() => {}),
    store.health.onChange((reason) => {
      if (reason !== undefined) {
        logger.error(
          { event: 'store_unavailable', store: store.location, reason },
          `state store unreachable: serving the last known state; changes are refused until it is back (${reason})`,
        );
        return;
      }
      logger.info({ event: 'store_available', store: store.location }, 'state store reachable again');
      void catchUp();
    }),
  ];
  const catchUp = async (): Promise<void> => {
    try {
      await drains.resync();
      await config.catchUp();
      publisher?.republish();
    } catch (err) {
      logger.warn({ event: 'store_resync_failed', error: (err as Error).message }, 'catching up with the state store failed');
    }
  };
  publisher?.start();
  return () => {
    publisher?.stop();
    for (const stop of stops) stop();
  };
}

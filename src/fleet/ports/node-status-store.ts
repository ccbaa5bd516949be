/** What replication needs from a store: the node status other replicas publish. */
import type { SharedNodeRecord } from '../replication/shared-node.js';

/** Node status that matters across replicas: who holds a node's stream, its ACKs and gauges. */
export interface NodeStatusStore {
  /**
   * Publishes this replica's records, each as its JSON text (null: the node left this replica).
   * Text, because the publisher has it already: it compares texts to skip unchanged records.
   */
  publish(records: ReadonlyMap<string, string | null>): Promise<void>;
  /** Records other replicas published for this node. */
  others(nodeId: string): readonly SharedNodeRecord[];
  /** Every record other replicas published. */
  allOthers(): Iterable<SharedNodeRecord>;
  /** Told of each node whose records from other replicas changed. */
  onChange(listener: (nodeId: string) => void): () => void;
  /**
   * Told when this replica's records were lost (its lease expired while the store was
   * unreachable) and must be published again in full.
   */
  onLost(listener: () => void): () => void;
}

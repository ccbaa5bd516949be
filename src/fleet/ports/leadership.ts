/** Which replica advances drains. */
export interface Leadership {
  /** True while this replica may advance drain batches and deadlines. */
  isLeader(): boolean;
  /** The leading replica's id, when known. */
  leader(): string | undefined;
}

/** Whether the store takes writes now. */
export interface StoreHealth {
  /** Why the store cannot be used now, or undefined when it can. */
  unavailable(): string | undefined;
  /** Told of every change between available (undefined) and unavailable (the reason). */
  onChange(listener: (reason: string | undefined) => void): () => void;
}

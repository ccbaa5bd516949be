import type { SendBudgetOverflow, StreamInfo } from './events.js';

/** A stream, as the send budget sees it. */
export interface BudgetedStream {
  /** Bytes written to the stream that HTTP/2 has not sent yet. */
  readonly queuedBytes: number;
  /**
   * Resets the stream, letting go of everything queued on it, and calls `left`. Returns what
   * the stream was, or undefined when its queue was already dropped.
   */
  shed(): StreamInfo | undefined;
}

/**
 * One bound on the response bytes all streams together leave unread. Each stream counts its
 * own queue here; when a response would pass the bound, the streams whose unread bytes have
 * waited longest (the slowest readers) are reset until it fits, and the reset streams are
 * reported together. Everything a response costs here is O(1); only a reset walks the list.
 */
export class SendBudget {
  #queuedBytes = 0;
  /**
   * The streams with bytes unread, in the order their backlog began: the first has waited
   * longest. A stream leaves when its queue empties and joins at the end when it fills again.
   */
  readonly #backlogs = new Set<BudgetedStream>();

  constructor(
    readonly limitBytes: number,
    private readonly onShed: (shed: readonly StreamInfo[], overflow: SendBudgetOverflow) => void,
  ) {}

  /** Bytes unread over all streams. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Makes room for `bytes` more on `stream`, resetting the slowest other streams if need be.
   * False when even that is not enough and `stream` already has bytes unread: then `stream`
   * itself has been reset, and must not write. A response to a stream with nothing unread always
   * goes out, as one response alone may be larger than the bound.
   */
  admit(stream: BudgetedStream, bytes: number): boolean {
    if (this.#queuedBytes + bytes <= this.limitBytes) return true;
    const before = this.#queuedBytes;
    const shed: StreamInfo[] = [];
    for (const other of this.#backlogs) {
      if (this.#queuedBytes + bytes <= this.limitBytes) break;
      if (other === stream) continue;
      const info = other.shed();
      if (info) shed.push(info);
    }
    let admitted = true;
    if (this.#queuedBytes + bytes > this.limitBytes && stream.queuedBytes > 0) {
      admitted = false;
      const info = stream.shed();
      if (info) shed.push(info);
    }
    if (shed.length > 0) {
      this.onShed(shed, { queuedBytes: before, responseBytes: bytes, limitBytes: this.limitBytes, freedBytes: before - this.#queuedBytes });
    }
    return admitted;
  }

  /** `bytes` were written to `stream` (its queuedBytes already counts them). */
  queued(stream: BudgetedStream, bytes: number): void {
    this.#queuedBytes += bytes;
    // Set.add keeps the place of a stream already there: its backlog began earlier.
    this.#backlogs.add(stream);
  }

  /** HTTP/2 took `bytes` of `stream`'s queue (its queuedBytes no longer counts them). */
  sent(stream: BudgetedStream, bytes: number): void {
    this.#queuedBytes -= bytes;
    if (stream.queuedBytes === 0) this.#backlogs.delete(stream);
  }

  /** The stream ended with `bytes` still unread: they are dropped with it. */
  left(stream: BudgetedStream, bytes: number): void {
    this.#queuedBytes -= bytes;
    this.#backlogs.delete(stream);
  }
}

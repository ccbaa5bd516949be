import type { Campaign, Election, ElectionObserver, Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { Leadership } from '../../fleet/ports/leadership.js';
import type { StoreHealth } from '../../fleet/ports/store-health.js';
import type { EtcdKeys } from './client.js';

const RETRY_MS = 1000;

/**
 * Leader election through etcd3's Election: every replica campaigns with a lease of
 * `leaseSeconds`; the oldest live candidate leads. When the leader dies, its lease runs out and
 * the next candidate leads, within the lease time. A replica that cannot reach etcd does not
 * act as leader even while its campaign still stands (its writes would be refused anyway: they
 * require its election key to exist).
 */
export class EtcdLeadership implements Leadership {
  readonly #election: Election;
  #campaign: Campaign | undefined;
  /** This replica's election key, while it leads. */
  #key: string | undefined;
  #observer: ElectionObserver | undefined;
  #leader: string | undefined;
  #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(
    client: Etcd3,
    keys: EtcdKeys,
    private readonly replica: string,
    leaseSeconds: number,
    private readonly health: StoreHealth,
    private readonly logger: Logger,
  ) {
    this.#election = client.namespace(keys.electionNamespace()).election('leader', leaseSeconds);
  }

  start(): void {
    this.#campaignNow();
    void this.#observe();
  }

  isLeader(): boolean {
    return this.#key !== undefined && this.health.unavailable() === undefined;
  }

  /** The key a leader's writes require to still exist. */
  leaderKey(): string | undefined {
    return this.#key;
  }

  leader(): string | undefined {
    return this.#leader;
  }

  /** Steps down (the lease is revoked: another replica leads at once). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#key = undefined;
    await Promise.all([this.#campaign?.resign().catch(() => undefined), this.#observer?.cancel().catch(() => undefined)]);
  }

  #campaignNow(): void {
    const campaign = this.#election.campaign(this.replica);
    this.#campaign = campaign;
    campaign.on('elected', () => {
      campaign.getCampaignKey().then(
        (key) => {
          if (this.#campaign !== campaign || this.#closed) return;
          this.#key = key;
          this.logger.info({ event: 'leader_elected', replica: this.replica }, 'this replica leads: it advances drains');
        },
        () => undefined,
      );
    });
    campaign.on('error', (err) => {
      if (this.#campaign !== campaign) return;
      const led = this.#key !== undefined;
      this.#key = undefined;
      this.#campaign = undefined;
      if (this.#closed) return;
      this.logger.warn(
        { event: led ? 'leadership_lost' : 'campaign_failed', error: err.message },
        led ? 'this replica no longer leads' : 'leader election failed; trying again',
      );
      this.#later(() => this.#campaignNow());
    });
  }

  async #observe(): Promise<void> {
    if (this.#closed) return;
    try {
      const observer = await this.#election.observe();
      if (this.#closed) {
        await observer.cancel();
        return;
      }
      this.#observer = observer;
      this.#leader = observer.leader();
      observer.on('change', (leader) => (this.#leader = leader));
      observer.on('error', () => {
        this.#leader = undefined;
        this.#later(() => void this.#observe());
      });
    } catch {
      this.#later(() => void this.#observe());
    }
  }

  #later(work: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      work();
    }, RETRY_MS);
    this.#timers.add(timer);
  }
}

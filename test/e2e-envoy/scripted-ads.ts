/**
 * An ADS server a test scripts response by response, for what drainplane cannot be made to send
 * (undecodable resources) and to see every request a real Envoy makes, SotW and Delta. Each
 * stream Envoy opens is handed to the test in order; its requests are read in arrival order.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { encodeJson } from '../../src/resource/json-mapping.js';
import { envoyProtos } from '../../src/resource/protos.js';
import { discoveryService } from '../support/ads-client.js';

/** A DiscoveryRequest or DeltaDiscoveryRequest as proto-loader decodes it (proto3 defaults absent). */
export interface SeenRequest {
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
  node?: { id?: string };
  /** SotW */
  version_info?: string;
  resource_names?: string[];
  /** Delta */
  resource_names_subscribe?: string[];
  initial_resource_versions?: Record<string, string>;
}

export interface PackedResource {
  readonly type_url: string;
  readonly value: Uint8Array;
}

type Call = grpc.ServerDuplexStream<SeenRequest, object>;

/** Items in arrival order; next() takes the oldest, waiting for one if need be. */
class Arrivals<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((item: T) => void)[] = [];

  constructor(private readonly what: string) {}

  push(item: T): void {
    const take = this.#waiting.shift();
    if (take) take(item);
    else this.#items.push(item);
  }

  next(timeoutMs: number): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return new Promise((resolve, reject) => {
      const take = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(new Error(`no ${this.what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.push(take);
    });
  }
}

const WAIT_MS = 10_000;

/** One ADS stream as the server sees it. */
export class ScriptedStream {
  readonly #requests = new Arrivals<SeenRequest>('request');

  constructor(private readonly call: Call) {
    call.on('data', (req: SeenRequest) => this.#requests.push(req));
    call.on('error', () => {}); // Envoy going away is part of the script
  }

  next(timeoutMs = WAIT_MS): Promise<SeenRequest> {
    return this.#requests.next(timeoutMs);
  }

  /** Writes a DiscoveryResponse or DeltaDiscoveryResponse as given. */
  respond(response: object): void {
    this.call.write(response);
  }

  /** Ends the stream with a status, as a control plane going away does. */
  fail(code: grpc.status, details: string): void {
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }
}

export class ScriptedAds {
  readonly #streams = new Arrivals<ScriptedStream>('ADS stream');

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<ScriptedAds> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const ads = new ScriptedAds(server, port);
    const accept = (call: Call) => ads.#streams.push(new ScriptedStream(call));
    server.addService(discoveryService('ads').service, { StreamAggregatedResources: accept, DeltaAggregatedResources: accept });
    return ads;
  }

  nextStream(timeoutMs = WAIT_MS): Promise<ScriptedStream> {
    return this.#streams.next(timeoutMs);
  }

  close(): void {
    this.server.forceShutdown();
  }
}

/** Packs a resource written as Envoy JSON (canonical proto3 JSON) into an Any. */
export function packed(typeUrl: string, json: unknown): PackedResource {
  const protos = envoyProtos();
  const encoded = encodeJson(protos, protos.typeFromUrl(typeUrl)!, json);
  assert.ok(encoded.ok, JSON.stringify(!encoded.ok && encoded.errors));
  return { type_url: typeUrl, value: encoded.value };
}

/** A grpc.health.v1 client, loaded from the proto that grpc-health-check ships. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

type CheckFn = (req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => void;

export class HealthClient {
  readonly #client: grpc.Client & { Check: CheckFn };

  constructor(address: string) {
    const def = protoLoader.loadSync(protoPath, { enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { Check: CheckFn } } } };
    };
    this.#client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  }

  check(service: string): Promise<string> {
    return new Promise((resolve, reject) => this.#client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));
  }

  close(): void {
    this.#client.close();
  }
}

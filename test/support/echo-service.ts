/**
 * A tiny gRPC test service served by grpc-js-xds nodes (grpc-xds-node-main.ts). Messages are
 * JSON rather than protobuf: the service exists only to put real HTTP/2 streams on a node, and
 * JSON keeps it free of a .proto file and generated types.
 */
import { Metadata, status, type Client, type MethodDefinition, type ServiceDefinition } from '@grpc/grpc-js';

export interface EchoRequest {
  message: string;
}

export interface StreamRequest {
  count: number;
  interval_ms: number;
}

export interface EchoReply {
  message: string;
  /** The node id of the node that answered, so tests can tell nodes apart behind one client. */
  node: string;
  /** 0-based position of the reply in a Stream call. */
  seq?: number;
}

const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = <T>(bytes: Buffer): T => JSON.parse(bytes.toString('utf8')) as T;

function method<Req, Res>(name: string, responseStream: boolean): MethodDefinition<Req, Res> {
  return {
    path: `/drainplane.test.Echo/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize<Req>,
    responseSerialize: serialize,
    responseDeserialize: deserialize<Res>,
  };
}

export const echoService = {
  Echo: method<EchoRequest, EchoReply>('Echo', false),
  Stream: method<StreamRequest, EchoReply>('Stream', true),
} satisfies ServiceDefinition;

/** One Echo call on a client of the service: the reply, or the call's error. */
export function callEcho(client: Client, message: string, deadlineMs: number): Promise<EchoReply> {
  const { Echo } = echoService;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      Echo.path,
      Echo.requestSerialize,
      Echo.responseDeserialize,
      { message },
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, reply) => {
        if (err) reject(err);
        else if (!reply) reject(Object.assign(new Error('empty reply'), { code: status.INTERNAL, details: 'empty reply' }));
        else resolve(reply);
      },
    );
  });
}

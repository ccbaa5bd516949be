import { Range, type Etcd3, type IKeyValue } from 'etcd3';

/**
 * Keys per page: a page of node records of a few kB each is a response of about a MiB, where one
 * response for 10,000 of them is over 13 MB, decoded at once while a connect storm runs.
 */
const PAGE_KEYS = 250;

/** Every key in a range, read page by page at the revision of the first page. */
export async function readRange(client: Etcd3, range: Range): Promise<{ kvs: IKeyValue[]; revision: string }> {
  const kvs: IKeyValue[] = [];
  let start = range.start;
  let revision: string | undefined;
  for (;;) {
    const page = client.getAll().inRange(new Range(start, range.end)).limit(PAGE_KEYS);
    const res = await (revision === undefined ? page : page.revision(revision)).exec();
    revision ??= res.header.revision;
    kvs.push(...res.kvs);
    const last = res.kvs[res.kvs.length - 1];
    if (!res.more || !last) return { kvs, revision };
    // The smallest key after the last one read.
    start = Buffer.concat([last.key, Buffer.from([0])]);
  }
}

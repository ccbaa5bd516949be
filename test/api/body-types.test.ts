/**
 * Cross-site requests: a web page can make a browser send a form post (urlencoded, multipart,
 * text/plain) or a POST without a body to any origin, without asking first. The API takes
 * changes only typed application/json (PUT /v1/config: its YAML types too), and an empty JSON
 * body counts as no body, so curl users need not send `{}`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDaemon } from '../support/daemon.js';
import { startDaemonWithNodes, type DaemonWithNodes } from '../support/daemon-with-nodes.js';
import { drainApi } from '../support/drain-api.js';
import { demoConfig } from '../support/fleet-configs.js';

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain'];

describe('changes: their content type, and JSON bodies', { timeout: 60_000 }, () => {
  let started: DaemonWithNodes;
  let d: TestDaemon;
  const { api, drain } = drainApi(() => d.apiUrl);

  /** A raw request: this content type (none when undefined) and this body. */
  const send = async (method: string, path: string, type: string | undefined, body?: string) => {
    const res = await fetch(`${d.apiUrl}${path}`, {
      method,
      ...(type !== undefined && { headers: { 'content-type': type } }),
      ...(body !== undefined && { body }),
    });
    return { status: res.status, body: (await res.json()) as { error: string; message: string } };
  };
  const running = () => drain({ selector: { ids: ['typed-1'] }, scope: 'ingress', method: 'modify' });

  before(async () => {
    started = await startDaemonWithNodes(['typed-1'], { apiRateLimit: 0 });
    d = started.d;
  });
  after(() => started.close());

  test('a form post cannot start a drain: 415 naming the type it sent and the one to send', async () => {
    const body = JSON.stringify({ selector: { ids: ['typed-1'] }, scope: 'ingress' });
    for (const type of FORM_TYPES) {
      const res = await send('POST', '/v1/drains', type, body);
      assert.equal(res.status, 415, type);
      assert.equal(res.body.error, 'unsupported_media_type');
      assert.match(
        res.body.message,
        new RegExp(`^POST /v1/drains: content-type "${type.split(';')[0]}" is not taken here: send "content-type: application/json"`),
      );
    }
    assert.equal(d.daemon.drains.list().length, 0, 'no drain was made');
  });

  test('a form post or a bare POST cannot cancel or advance a drain', async () => {
    const { id } = await running();
    for (const action of ['cancel', 'advance']) {
      const bare = await send('POST', `/v1/drains/${id}/${action}`, undefined);
      assert.equal(bare.status, 415, `${action} without a content-type`);
      assert.match(bare.body.message, new RegExp(`^POST /v1/drains/${id}/${action}: no content-type is not taken here`));
      for (const type of FORM_TYPES) assert.equal((await send('POST', `/v1/drains/${id}/${action}`, type, '')).status, 415, `${action} ${type}`);
    }
    assert.equal(d.daemon.drains.get(id)!.state, 'running');
    assert.equal((await api('POST', `/v1/drains/${id}/cancel`)).status, 200);
  });

  test('PUT /v1/config takes YAML and JSON, and refuses a form or text/plain', async () => {
    const yaml = demoConfig({ listenerTag: 'typed' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded'])
      assert.equal((await send('PUT', '/v1/config', type, yaml)).status, 415, type);
    const refused = await send('PUT', '/v1/config', 'text/plain', yaml);
    assert.match(refused.body.message, /send "content-type: application\/json" or "content-type: application\/yaml"/);
    for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml; charset=utf-8']) {
      assert.equal((await send('PUT', '/v1/config', type, yaml)).status, 200, type);
    }
    const document = ((await api('GET', '/v1/config')).body as { config: unknown }).config;
    assert.equal((await send('PUT', '/v1/config', 'application/json', JSON.stringify(document))).status, 200);
  });

  test('an unknown path answers 404 whatever its type; reads need no type', async () => {
    assert.equal((await send('POST', '/v1/no-such-thing', 'text/plain', 'x')).status, 404);
    assert.equal((await send('GET', '/v1/drains', undefined)).status, 200);
  });

  test('an empty JSON body is no body: cancel and advance work as curl sends them', async () => {
    const { id } = await running();
    const advance = await send('POST', `/v1/drains/${id}/advance`, 'application/json', '');
    assert.equal(advance.status, 409, JSON.stringify(advance.body));
    const cancel = await send('POST', `/v1/drains/${id}/cancel`, 'application/json; charset=utf-8');
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(d.daemon.drains.get(id)!.state, 'cancelled');
    const empty = await send('POST', '/v1/drains', 'application/json', '');
    assert.equal(empty.status, 400);
    assert.match(empty.body.message, /\(body\): must be object/);
  });

  test('JSON bodies keep their guards: bad JSON and prototype poisoning are refused', async () => {
    assert.equal((await send('POST', '/v1/drains', 'application/json', '{"selector":')).status, 400);
    assert.equal((await send('POST', '/v1/drains', 'application/json', ' ')).status, 400);
    const proto = await send('POST', '/v1/drains', 'application/json', '{"selector":{"ids":["typed-1"]},"scope":"ingress","__proto__":{"x":1}}');
    assert.equal(proto.status, 400);
    const ctor = await send(
      'POST',
      '/v1/drains',
      'application/json',
      '{"selector":{"ids":["typed-1"]},"scope":"ingress","constructor":{"prototype":{"x":1}}}',
    );
    assert.equal(ctor.status, 400);
  });
});

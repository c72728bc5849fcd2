import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openApiDocument } from '@diffedit/core';
import type { ApiIssue } from '@diffedit/core';
import { startServer, ServerConfigError } from '@diffedit/runtime';

import { connectClient, runEnd, startTestServer, textWorkflow } from './harness.js';
import type { TestServer } from './harness.js';

const HEX = '0123456789abcdef0123456789abcdef';
const apple = await readFile(new URL('../../../../workflows/assets/red-apple-on-blue.png', import.meta.url));

const errorsOf = (body: unknown): ApiIssue[] => (body as { errors: ApiIssue[] }).errors;

function loadSaveWorkflow(image: string): object {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: 'load and save',
    nodes: [
      { id: 'image', type: 'LoadImage', params: { image } },
      { id: 'save', type: 'SaveImage', params: {} },
    ],
    edges: [{ id: 'e', from: { node: 'image', output: 'image' }, to: { node: 'save', input: 'image' } }],
  };
}

let test: TestServer;
beforeAll(async () => {
  test = await startTestServer({
    limits: { jsonBytes: 64 * 1024, uploadBytes: 1024 * 1024, uploadPixels: 600 * 600 },
  });
});
afterAll(async () => {
  await test?.close();
});

describe('uploads', () => {
  it('sniffs the type from the bytes, serves it back, and a run reads it by file id', async () => {
    const jpeg = await sharp(apple).resize(64, 48).jpeg().toBuffer();
    const upload = await test.api.post('/api/uploads').attach('file', jpeg, 'photo.txt').expect(201);
    expect(upload.body).toMatchObject({ width: 64, height: 48, mime: 'image/jpeg', size: jpeg.length });
    expect(upload.body.fileId).toMatch(/^up_[0-9a-f]{32}\.jpg$/);
    const served = await test.api.get(upload.body.url).buffer(true).expect(200);
    expect(served.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.compare(served.body as Buffer, jpeg)).toBe(0);

    const client = await connectClient(test.url, { clientId: 'uploader' });
    const run = await test.api
      .post('/api/runs')
      .send({ workflow: loadSaveWorkflow(upload.body.fileId), clientId: 'uploader' })
      .expect(202);
    const done = await runEnd(test, client, run.body.runId);
    client.close();
    expect(done.status).toBe('succeeded');
    expect(done.nodes.find((n) => n.nodeId === 'image')!.outputs).toMatchObject({
      width: '64',
      height: '48',
    });
    // An output can be fed back in as an input by its file id.
    const again = await test.api
      .post('/api/runs')
      .send({ workflow: loadSaveWorkflow(done.files[0].fileId) })
      .expect(202);
    expect(again.body.runId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses what LoadImage cannot read: text, a truncated PNG, a GIF, no file at all', async () => {
    const text = await test.api
      .post('/api/uploads')
      .attach('file', Buffer.from('not an image'), 'x.png')
      .expect(415);
    expect(errorsOf(text.body)[0].code).toBe('unsupported_media_type');
    const truncated = await test.api
      .post('/api/uploads')
      .attach('file', apple.subarray(0, 2000), 'cut.png')
      .expect(400);
    expect(errorsOf(truncated.body)[0].code).toBe('invalid_image');
    const gif = await sharp(apple).resize(8, 8).gif().toBuffer();
    expect(
      errorsOf((await test.api.post('/api/uploads').attach('file', gif, 'a.gif').expect(415)).body)[0]
        .message,
    ).toMatch(/gif/);
    const none = await test.api.post('/api/uploads').field('other', 'x').expect(400);
    expect(errorsOf(none.body)[0].code).toBe('no_file');
  });

  it('refuses oversize uploads in bytes and in pixels with 413', async () => {
    const big = await test.api
      .post('/api/uploads')
      .attach('file', Buffer.alloc(2 * 1024 * 1024, 1), 'big.png')
      .expect(413);
    expect(errorsOf(big.body)[0].code).toBe('payload_too_large');
    const wide = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const pixels = await test.api.post('/api/uploads').attach('file', wide, 'wide.png').expect(413);
    expect(errorsOf(pixels.body)[0].code).toBe('too_many_pixels');
  });
});

describe('malformed requests: 4xx with errors, and the server keeps serving', () => {
  const post = (body: string, type = 'application/json') =>
    test.api.post('/api/runs').set('content-type', type).send(body);

  it('answers each with a 4xx listing the problems', async () => {
    const cases: { body: string; type?: string; status: number; code: string; nodeId?: string | null }[] = [
      { body: '{"workflow": ', status: 400, code: 'invalid_json' },
      { body: '[1, 2]', status: 400, code: 'invalid_request' },
      { body: '{}', status: 400, code: 'invalid_request' },
      {
        body: JSON.stringify({ workflow: textWorkflow('x'), targets: 'show' }),
        status: 400,
        code: 'invalid_request',
      },
      {
        body: JSON.stringify({ workflow: textWorkflow('x'), surprise: 1 }),
        status: 400,
        code: 'invalid_request',
      },
      { body: 'workflow=1', type: 'application/x-www-form-urlencoded', status: 400, code: 'invalid_request' },
      { body: JSON.stringify({ workflow: 'text' }), status: 400, code: 'invalid_document' },
      { body: `{"workflow": ${'['.repeat(100)}${']'.repeat(100)}}`, status: 400, code: 'too_deep' },
      {
        body: JSON.stringify({ workflow: { ...textWorkflow('x'), nodes: [{ id: 'n', type: 'Nope' }] } }),
        status: 400,
        code: 'unknown_node_type',
        nodeId: 'n',
      },
      { body: JSON.stringify({ workflow: 'x'.repeat(100 * 1024) }), status: 413, code: 'payload_too_large' },
    ];
    for (const c of cases) {
      const response = await post(c.body, c.type);
      expect(response.status, c.body.slice(0, 60)).toBe(c.status);
      const errors = errorsOf(response.body);
      expect(errors.length).toBeGreaterThan(0);
      expect(
        errors.map((e) => e.code),
        c.body.slice(0, 60),
      ).toContain(c.code);
      if (c.nodeId !== undefined) expect(errors.find((e) => e.code === c.code)!.nodeId).toBe(c.nodeId);
    }
  });

  it('reports every problem of a workflow at once, with node and field', async () => {
    const workflow = {
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'broken',
      nodes: [
        { id: 'a', type: 'Text', params: { text: 'x' } },
        { id: 'grid', type: 'ImageGrid', params: { rows: null, cols: -3 } },
        { id: 'b', type: 'ShowValue' },
        { id: 'c', type: 'ShowValue' },
      ],
      edges: [
        { id: 'e1', from: { node: 'b', output: 'text' }, to: { node: 'c', input: 'value' } },
        { id: 'e2', from: { node: 'c', output: 'text' }, to: { node: 'b', input: 'value' } },
      ],
    };
    // 1e999 is Infinity once parsed: it must be refused like NaN, not clamped.
    const response = await post(JSON.stringify({ workflow }).replace('"rows":null', '"rows":1e999')).expect(
      400,
    );
    const errors = errorsOf(response.body);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ nodeId: 'grid', field: 'rows', code: 'invalid_param' }),
        expect.objectContaining({ nodeId: 'grid', field: 'cols', code: 'invalid_param' }),
        expect.objectContaining({ code: 'cycle' }),
      ]),
    );
  });

  it('refuses workflows with more nodes than the limit', async () => {
    const nodes = Array.from({ length: 501 }, (_, i) => ({ id: `t${i}`, type: 'Text' }));
    const response = await post(JSON.stringify({ workflow: { ...textWorkflow('x'), nodes } })).expect(400);
    expect(errorsOf(response.body)[0].code).toBe('too_many_nodes');
  });

  it('is still alive', async () => {
    expect((await test.api.get('/api/health').expect(200)).body.ok).toBe(true);
  });
});

describe('names a client can give resolve inside their folders', () => {
  const traversals = [
    '..%2F..%2Fpackage.json',
    '%2Fetc%2Fpasswd',
    '..',
    'a%00b',
    'C:%5Cwindows',
    'up_..%2F..%2Fx.png',
  ];

  it('file ids', async () => {
    for (const name of traversals) {
      const response = await test.api.get(`/api/files/${name}`);
      expect(response.status, name).toBe(400);
      expect(errorsOf(response.body)[0].code).toBe('invalid_request');
    }
    await test.api.get(`/api/files/up_${HEX}.png`).expect(404);
  });

  it('workflow names, on GET, PUT and DELETE', async () => {
    for (const name of [...traversals, 'x.json', '.hidden']) {
      for (const method of ['get', 'put', 'delete'] as const) {
        const response = await test.api[method](`/api/workflows/${name}`).send(textWorkflow('x'));
        expect(response.status, `${method} ${name}`).toBe(400);
      }
    }
  });

  it('example image names: the shipped images only, byte for byte', async () => {
    for (const name of [...traversals, '.hidden.png', 'x.svg', 'red-apple-on-blue'])
      expect((await test.api.get(`/api/assets/${name}`)).status, name).toBe(400);
    await test.api.get('/api/assets/no-such-image.png').expect(404);
    const served = await test.api.get('/api/assets/red-apple-on-blue.png').buffer(true).expect(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(served.body as Buffer, apple)).toBe(0);
  });

  it('run ids', async () => {
    for (const name of traversals) expect((await test.api.get(`/api/runs/${name}`)).status, name).toBe(400);
  });

  it("LoadImage's file and LoadDiffusionModel's model params", async () => {
    for (const image of [
      '../../package.json',
      '/etc/passwd',
      'assets/../../package.json',
      'a\0b',
      'C:\\x.png',
      'nested/up.png',
      '',
    ]) {
      const response = await test.api
        .post('/api/runs')
        .send({ workflow: loadSaveWorkflow(image) })
        .expect(400);
      expect(errorsOf(response.body), JSON.stringify(image)).toEqual([
        expect.objectContaining({ nodeId: 'image', field: 'image', code: 'file_not_allowed' }),
      ]);
    }
    const missing = await test.api
      .post('/api/runs')
      .send({ workflow: loadSaveWorkflow(`up_${HEX}.png`) })
      .expect(400);
    expect(errorsOf(missing.body)[0]).toMatchObject({ nodeId: 'image', code: 'file_not_found' });
    const model = {
      format: 'diffedit-studio.workflow',
      version: 1,
      name: 'model',
      nodes: [
        { id: 'model', type: 'LoadDiffusionModel', params: { model: '../../etc' } },
        { id: 'show', type: 'ShowValue' },
      ],
      edges: [{ id: 'e', from: { node: 'model', output: 'model' }, to: { node: 'show', input: 'value' } }],
    };
    const refused = await test.api.post('/api/runs').send({ workflow: model }).expect(400);
    expect(errorsOf(refused.body)[0]).toMatchObject({
      nodeId: 'model',
      field: 'model',
      code: 'model_not_allowed',
    });
  });

  it('symlinks that lead out of the data folder', async () => {
    const outside = join(test.dataDir, '..', `outside-${Date.now()}.png`);
    await writeFile(outside, apple);
    try {
      await symlink(outside, join(test.dataDir, 'files', `up_${HEX}.png`));
      const refused = await test.api
        .post('/api/runs')
        .send({ workflow: loadSaveWorkflow(`up_${HEX}.png`) })
        .expect(400);
      expect(errorsOf(refused.body)[0]).toMatchObject({ nodeId: 'image', code: 'file_not_allowed' });
      expect(errorsOf(refused.body)[0].message).toMatch(/outside/);
      await symlink('/etc/hostname', join(test.dataDir, 'workflows', 'linked.json'));
      expect(errorsOf((await test.api.get('/api/workflows/linked').expect(400)).body)[0].code).toBe(
        'invalid_name',
      );
      const list = await test.api.get('/api/workflows').expect(200);
      expect(list.body.workflows.map((w: { name: string }) => w.name)).not.toContain('linked');
    } finally {
      await rm(outside, { force: true });
    }
  });
});

describe('socket.io long-polling (the client library default)', () => {
  it('gets its run events over polling while the HTTP API keeps answering', async () => {
    const client = await connectClient(test.url, { clientId: 'poller' }, ['polling']);
    try {
      const submitted = await test.api
        .post('/api/runs')
        .send({ workflow: textWorkflow('polled'), clientId: 'poller' })
        .expect(202);
      const run = await runEnd(test, client, (submitted.body as { runId: string }).runId);
      expect(run.status).toBe('succeeded');
      expect(client.events.map((e) => e.type)).toContain('run:done');
      expect((await test.api.get('/api/health').expect(200)).body.ok).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe('the workflow library', () => {
  it('lists the shipped templates read-only and saves, reads and deletes workflows', async () => {
    const list = await test.api.get('/api/workflows').expect(200);
    expect(list.body.workflows).toEqual(
      expect.arrayContaining([
        { name: 'diffedit-prompts', title: 'DiffEdit with prompts', readOnly: true, updatedAt: null },
      ]),
    );
    const template = await test.api.get('/api/workflows/diffedit-prompts').expect(200);
    expect(
      errorsOf(
        (await test.api.put('/api/workflows/diffedit-prompts').send(template.body).expect(403)).body,
      )[0].code,
    ).toBe('read_only');
    await test.api.delete('/api/workflows/diffedit-prompts').expect(403);

    // A half-built canvas (unknown type, dangling edge) may be saved; a malformed document may not.
    const draft = { ...textWorkflow('draft'), nodes: [{ id: 'n', type: 'NotYetKnown' }] };
    const saved = await test.api.put('/api/workflows/my-draft').send(draft).expect(200);
    expect(saved.body).toMatchObject({ name: 'my-draft', title: 'text draft', readOnly: false });
    expect((await test.api.get('/api/workflows/my-draft').expect(200)).body).toEqual(draft);
    const bad = await test.api.put('/api/workflows/my-draft').send({ format: 'other' }).expect(400);
    expect(errorsOf(bad.body).length).toBeGreaterThan(1);
    expect((await test.api.get('/api/workflows/my-draft').expect(200)).body).toEqual(draft); // nothing lost
    await test.api.delete('/api/workflows/my-draft').expect(204);
    await test.api.get('/api/workflows/my-draft').expect(404);
    await test.api.delete('/api/workflows/my-draft').expect(404);
  });
});

describe('the rest of the API', () => {
  it('serves the catalog, the models, and the OpenAPI document generated from the schemas', async () => {
    const nodes = await test.api.get('/api/nodes').expect(200);
    expect(nodes.body.map((n: { type: string }) => n.type)).toEqual(
      expect.arrayContaining(['LoadImage', 'DDIMInvert']),
    );
    const models = await test.api.get('/api/models').expect(200);
    expect(models.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'toy-sd', role: 'diffusion', loads: true })]),
    );
    const openapi = await test.api.get('/api/openapi.json').expect(200);
    const health = await test.api.get('/api/health').expect(200);
    expect(openapi.body).toEqual(openApiDocument({ version: health.body.version }));
    await test.api.get('/api/nope').expect(404);
  });

  it('sends security headers and no CORS headers', async () => {
    const response = await test.api.get('/api/health').set('origin', 'http://elsewhere.example').expect(200);
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses cross-site writes and foreign Host names', async () => {
    const cross = await test.api
      .post('/api/runs')
      .set('origin', 'http://elsewhere.example')
      .send({ workflow: textWorkflow('x') });
    expect(cross.status).toBe(403);
    expect((await test.api.get('/api/health').set('host', 'rebound.example:80')).status).toBe(421);
  });

  it('allows the API to the origins it is configured with, and only those', async () => {
    const open = await startTestServer({ corsOrigins: ['http://localhost:5173'] });
    try {
      const preflight = await open.api
        .options('/api/runs')
        .set('origin', 'http://localhost:5173')
        .set('access-control-request-method', 'POST')
        .expect(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
      const allowed = await open.api
        .post('/api/runs')
        .set('origin', 'http://localhost:5173')
        .send({ workflow: textWorkflow('from the dev server') })
        .expect(202);
      expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      const other = await open.api
        .post('/api/runs')
        .set('origin', 'http://elsewhere.example')
        .send({ workflow: textWorkflow('x') })
        .expect(403);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('serves a placeholder at / until the editor is built, and the editor once it is', async () => {
    const placeholder = await startTestServer({ editorDir: join(test.dataDir, 'no-editor') });
    try {
      expect((await placeholder.api.get('/').expect(200)).text).toContain('/api/health');
    } finally {
      await placeholder.close();
    }
    const editorDir = await mkdtemp(join(tmpdir(), 'diffedit-editor-'));
    await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>editor</title>');
    const withEditor = await startTestServer({ editorDir });
    try {
      expect((await withEditor.api.get('/').expect(200)).text).toContain('<title>editor</title>');
      expect((await withEditor.api.get('/runs/123').expect(200)).text).toContain('<title>editor</title>');
      await withEditor.api.get('/api/nope').expect(404);
    } finally {
      await withEditor.close();
      await rm(editorDir, { recursive: true, force: true });
    }
  });
});

describe('token', () => {
  it('refuses to listen beyond loopback without one', async () => {
    await expect(
      startServer({ host: '0.0.0.0', port: 0, dataDir: join(test.dataDir, 'x') }),
    ).rejects.toBeInstanceOf(ServerConfigError);
  });

  it('is required on every API call and socket once set, and compared exactly', async () => {
    const secured = await startTestServer({ token: 's3cret-token' });
    try {
      for (const [method, path] of [
        ['get', '/api/health'],
        ['get', '/api/runs'],
        ['post', '/api/runs'],
        ['post', '/api/uploads'],
        ['get', `/api/files/up_${HEX}.png`],
        ['get', '/api/assets/red-apple-on-blue.png'],
        ['get', '/api/workflows'],
        ['delete', '/api/cache'],
        ['get', '/api/openapi.json'],
      ] as const) {
        const response = await secured.api[method](path);
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(errorsOf(response.body)[0].code).toBe('unauthorized');
      }
      await secured.api.get('/api/health').set('authorization', 'Bearer s3cret-tokem').expect(401);
      await secured.api.get('/api/health').set('authorization', 'Bearer s3cret-token-and-more').expect(401);
      const ok = await secured.api.get('/api/health').set('authorization', 'Bearer s3cret-token').expect(200);
      expect(ok.body.auth).toBe(true);
      await secured.api.get('/').expect(200); // the static page itself is public

      await expect(connectClient(secured.url)).rejects.toThrow(/unauthorized/);
      await expect(connectClient(secured.url, { token: 'wrong' })).rejects.toThrow(/unauthorized/);
      const client = await connectClient(secured.url, { token: 's3cret-token' });
      client.close();
    } finally {
      await secured.close();
    }
  });

  it('serves files (what the editor shows) to the bearer header only, never to a token in the query', async () => {
    const secured = await startTestServer({ token: 's3cret-token' });
    try {
      const png = await sharp({ create: { width: 5, height: 3, channels: 3, background: '#0a0' } })
        .png()
        .toBuffer();
      const upload = await secured.api
        .post('/api/uploads')
        .set('authorization', 'Bearer s3cret-token')
        .attach('file', png, 'green.png')
        .expect(201);
      const url = upload.body.url as string;
      const served = await secured.api
        .get(url)
        .set('authorization', 'Bearer s3cret-token')
        .buffer(true)
        .expect(200);
      expect(served.headers['content-type']).toBe('image/png');
      expect(Buffer.compare(served.body as Buffer, png)).toBe(0);
      await secured.api.get(url).expect(401);
      await secured.api.get(`${url}?token=s3cret-token`).expect(401);
      await secured.api.get(url).set('authorization', 'Bearer wrong').expect(401);
    } finally {
      await secured.close();
    }
  });
});

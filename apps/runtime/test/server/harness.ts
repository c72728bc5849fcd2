import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';

import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import request from 'supertest';

import type { ClientToServerEvents, RunDetail, ServerEvent, ServerToClientEvents } from '@diffedit/core';
import { startServer } from '@diffedit/runtime';
import type { DiffEditServer, ServerOptions } from '@diffedit/runtime';

export type ApiSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const TEST_NODES = new URL('./test-nodes.mjs', import.meta.url).href;

/** Opens the TestGate gate `name` (test-nodes.mjs), in whichever thread the node waits. */
export function openGate(name: string): void {
  const channel = new BroadcastChannel('diffedit-test-gates');
  channel.postMessage({ open: name });
  channel.close();
}

/** A one-node workflow that blocks on gate `name` (a distinct name per run keeps it out of the cache). */
export function gateWorkflow(name: string): object {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: `gate ${name}`,
    nodes: [{ id: 'gate', type: 'TestGate', params: { name } }],
    edges: [],
  };
}

/** A quick workflow: a Text into ShowValue, which writes value.txt. */
export function textWorkflow(text: string): object {
  return {
    format: 'diffedit-studio.workflow',
    version: 1,
    name: `text ${text}`,
    nodes: [
      { id: 'text', type: 'Text', params: { text } },
      { id: 'show', type: 'ShowValue', params: { filename: 'value.txt' } },
    ],
    edges: [{ id: 'e', from: { node: 'text', output: 'text' }, to: { node: 'show', input: 'value' } }],
  };
}

export interface TestServer {
  server: DiffEditServer;
  url: string;
  dataDir: string;
  api: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** A server on a random loopback port with a fresh data folder (or `dataDir`), with TestGate in its catalog. */
export async function startTestServer(
  options: ServerOptions & { keepData?: boolean } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'diffedit-server-')));
  const server = await startServer({
    port: 0,
    log: () => {},
    ...options,
    dataDir,
    nodeModules: [TEST_NODES, ...(options.nodeModules ?? [])],
  });
  return {
    server,
    url: server.url,
    dataDir,
    api: request(server.url),
    close: async () => {
      await server.close();
      if (!options.keepData && options.dataDir === undefined)
        await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A socket.io client that records every event it receives. */
export async function connectClient(
  url: string,
  auth: { clientId?: string; token?: string } = {},
): Promise<{ socket: ApiSocket; events: ServerEvent[]; close(): void }> {
  const socket: ApiSocket = connect(url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const events: ServerEvent[] = [];
  socket.onAny((_name: string, event: ServerEvent) => events.push(event));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, events, close: () => void socket.close() };
}

const END = new Set(['run:done', 'run:failed', 'run:cancelled']);

/** Resolves once run `runId`'s TestGate is waiting at its gate (its progress(0, 1) event arrived). */
export function atGate(
  client: { socket: ApiSocket; events: ServerEvent[] },
  runId: string,
): Promise<ServerEvent> {
  return waitForEvent(client, (e) => e.type === 'node:progress' && e.runId === runId && e.step === 0);
}

/** Resolves with the first recorded event that matches, waiting for it if needed. */
export function waitForEvent<E extends ServerEvent>(
  client: { socket: ApiSocket; events: ServerEvent[] },
  match: (event: ServerEvent) => event is E,
): Promise<E>;
export function waitForEvent(
  client: { socket: ApiSocket; events: ServerEvent[] },
  match: (event: ServerEvent) => boolean,
): Promise<ServerEvent>;
export function waitForEvent(
  client: { socket: ApiSocket; events: ServerEvent[] },
  match: (event: ServerEvent) => boolean,
): Promise<ServerEvent> {
  const seen = client.events.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const listener = (_name: string, event: ServerEvent): void => {
      if (!match(event)) return;
      client.socket.offAny(listener);
      resolve(event);
    };
    client.socket.onAny(listener);
  });
}

/** Waits for the run's end event (the client must be in its room), then returns the run as GET shows it. */
export async function runEnd(
  test: TestServer,
  client: { socket: ApiSocket; events: ServerEvent[] },
  runId: string,
): Promise<RunDetail> {
  await waitForEvent(
    client,
    (e) =>
      (END.has(e.type) && 'runId' in e && e.runId === runId) ||
      (e.type === 'run:state' &&
        e.runId === runId &&
        ['succeeded', 'failed', 'cancelled'].includes(e.run.status)),
  );
  const response = await test.api.get(`/api/runs/${runId}`).expect(200);
  return response.body as RunDetail;
}

/** The events of one run, in the order received. */
export function eventsOf(events: ServerEvent[], runId: string): ServerEvent[] {
  return events.filter((e) => 'runId' in e && e.runId === runId);
}

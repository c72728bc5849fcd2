import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the browser tests, kept as artifacts (gitignored). */
export const ARTIFACTS = join(REPO, 'test-artifacts', 'editor');

export interface Server {
  url: string;
  dataDir: string;
  /** Everything `serve` printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `diffedit serve` on a free loopback port with a fresh data folder (and `--token` when given); resolves once
 * it prints its URL.
 */
export async function startServer(options: { token?: string } = {}): Promise<Server> {
  const cli = join(REPO, 'apps/runtime/dist/cli.js');
  if (!existsSync(cli) || !existsSync(join(REPO, 'apps/editor/dist/index.html')))
    throw new Error('build first (npm run build): the browser tests serve apps/editor/dist');
  const dataDir = mkdtempSync(join(tmpdir(), 'diffedit-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data',
      dataDir,
      ...(options.token !== undefined ? ['--token', options.token] : []),
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /https?:\/\/127\.0\.0\.1:\d+/.exec(output);
      if (match) resolve(match[0]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`diffedit serve exited with ${code}:\n${output}`)));
  });
  return {
    url,
    dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every uncaught page error and console error, to assert there were none. */
  errors: string[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, in a throwaway profile. Never downloads a browser. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'diffedit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1920, height: 1200 },
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

const node = (id: string): string => `.react-flow__node[data-id="${id}"]`;

/** Adds a node through the canvas search (double-click on empty canvas) at a screen position. */
export async function addNodeBySearch(
  page: Page,
  type: string,
  query: string,
  at: { x: number; y: number },
): Promise<string> {
  const before = await page
    .locator('.react-flow__node')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  // Double-clicks open the search only on the bare pane: wait until nothing (a notice, a node still settling)
  // covers the point, and name what does if it never clears.
  const onPane = (): Promise<string> =>
    page.evaluate(({ x, y }) => {
      const el = document.elementFromPoint(x, y);
      return el?.classList.contains('react-flow__pane') ? 'pane' : (el?.outerHTML.slice(0, 160) ?? 'nothing');
    }, at);
  await expect.poll(onPane, { timeout: 30_000 }).toBe('pane');
  await page.mouse.dblclick(at.x, at.y);
  const search = page.getByRole('dialog', { name: 'Add a node' });
  await search.getByRole('textbox', { name: 'Search nodes' }).fill(query);
  await search.locator(`li[data-type="${type}"]`).click();
  await search.waitFor({ state: 'detached' });
  const after = await page
    .locator('.react-flow__node')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  const added = after.filter((id) => !before.includes(id));
  if (added.length !== 1 || added[0] === null) throw new Error(`adding ${type} added ${added.join(', ')}`);
  return added[0];
}

async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

export function handle(id: string, side: 'source' | 'target', name: string): string {
  return `${node(id)} .react-flow__handle.${side}[data-handleid="${name}"]`;
}

/**
 * Clicks "Fit" and returns once the viewport stands still: React Flow 12 queues the fit and draws it on a later
 * animation frame, so a place read right after the click may be the one before the fit.
 */
export async function fitCanvas(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  // the viewport's transform after two more frames (the queued fit's frame comes before them)
  const settled = (): Promise<string> =>
    page.evaluate(
      () =>
        new Promise<string>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() =>
              resolve(document.querySelector('.react-flow__viewport')?.getAttribute('style') ?? ''),
            ),
          ),
        ),
    );
  let last = await settled();
  await expect
    .poll(async () => {
      const seen = last;
      last = await settled();
      return last === seen;
    })
    .toBe(true);
}

/**
 * Presses the mouse button on an output socket once it has stopped moving and is itself under the pointer (its
 * place read again at each try, naming what covers it otherwise): a fit or a node's late measurement may still
 * move it (in one CI run, 30 s of tries at one place found only the canvas's pane there).
 * Returns where it pressed.
 */
export async function pressOutput(page: Page, id: string, name: string): Promise<{ x: number; y: number }> {
  const source = handle(id, 'source', name);
  let a = await centre(page, source);
  const pressed = async (): Promise<string> => {
    const seen = a;
    a = await centre(page, source);
    if (Math.abs(a.x - seen.x) > 0.5 || Math.abs(a.y - seen.y) > 0.5) return `moving: ${source}`;
    return page.evaluate(
      ({ x, y, selector }) => {
        const el = document.elementFromPoint(x, y);
        const socket = document.querySelector(selector);
        if (el !== null && el === socket) return 'socket';
        // what covers it, and whether the socket takes the pointer at all (React Flow's handles do only while
        // connectable)
        const state = socket
          ? `${socket.className}, pointer-events ${getComputedStyle(socket).pointerEvents}`
          : 'gone';
        return `${el?.outerHTML.slice(0, 160) ?? 'nothing'} over the socket (${state})`;
      },
      { ...a, selector: source },
    );
  };
  await expect.poll(pressed, { timeout: 30_000 }).toBe('socket');
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  return a;
}

/**
 * Drags a link from an output socket to an input socket with the mouse, waiting for the editor at each step
 * instead of assuming it keeps pace on a loaded machine: the press as `pressOutput`, the release once React Flow
 * shows the pointer over the input (`connectingto`, valid or not; the input's place read again at each approach),
 * and the drag ends once its connection line is gone.
 */
export async function dragLink(page: Page, from: [string, string], to: [string, string]): Promise<void> {
  const target = handle(to[0], 'target', to[1]);
  const a = await pressOutput(page, from[0], from[1]);
  const b = await centre(page, target);
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  const over = page.locator(`${target}.connectingto`);
  await expect
    .poll(
      async () => {
        const at = await centre(page, target);
        await page.mouse.move(at.x, at.y, { steps: 5 });
        return over.count();
      },
      { timeout: 30_000 },
    )
    .toBe(1);
  await page.mouse.up();
  await page.locator('.react-flow__connectionline').waitFor({ state: 'detached' });
}

export { node };

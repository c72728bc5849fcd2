// Regenerates the README's pictures: the editor holding the DiffEdit prompts workflow after a run
// (docs/images/editor.png) and the [original | mask | edited] grid that run saved (docs/images/diffedit-grid.png).
// Run it with `npm run screenshots` whenever the UI changes (an optional argument writes them to another folder).
// Uses Debian's Chromium; downloads nothing.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const images = process.argv[2] ?? join(repo, 'docs/images');
const data = mkdtempSync(join(tmpdir(), 'diffedit-shots-'));
const profile = mkdtempSync(join(tmpdir(), 'diffedit-chromium-'));

const server = spawn(
  process.execPath,
  [join(repo, 'apps/runtime/dist/cli.js'), 'serve', '--port', '0', '--data', data],
  {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
    if (match) resolve(match[0]);
  });
  server.once('exit', (code) => reject(new Error(`diffedit serve exited with ${code}`)));
});

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1800, height: 900 },
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(url);
  await page.locator('.dnode[data-node-id="denoise"]').waitFor();
  await page.getByRole('button', { name: '▶ Run' }).click();
  await page.locator('.overall[data-status="succeeded"]').waitFor({ timeout: 300_000 });
  await page.locator('[data-view="before-after"] img').first().waitFor();
  // Select the edit node so its outline shows, then frame the whole graph.
  await page.locator('.react-flow__node[data-id="denoise"] header').click();
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  await page.waitForTimeout(500);
  mkdirSync(images, { recursive: true });
  await page.screenshot({ path: join(images, 'editor.png') });
  const src = await page.locator('.dnode[data-node-id="save"] img.preview').getAttribute('src');
  const response = await fetch(new URL(src, url));
  if (!response.ok) throw new Error(`GET ${src}: ${response.status}`);
  writeFileSync(join(images, 'diffedit-grid.png'), new Uint8Array(await response.arrayBuffer()));
  console.log(`wrote ${join(images, 'editor.png')} and ${join(images, 'diffedit-grid.png')}`);
} finally {
  await context.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(profile, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
}

import { readFileSync } from 'node:fs';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchBrowser, screenshot, startServer } from './harness.js';
import type { Browser, Server } from './harness.js';

const TOKEN = 'e2e-secret/token+1';

let server: Server;
let browser: Browser;

beforeAll(async () => {
  server = await startServer({ token: TOKEN });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const dnode = (id: string): string => `.dnode[data-node-id="${id}"]`;

/** Every <img> of the page that should show something has loaded (blob: URLs fetched with the token). */
async function imagesLoaded(page: Page, selector: string): Promise<void> {
  await page.waitForFunction((sel) => {
    const images = [...document.querySelectorAll<HTMLImageElement>(sel)];
    return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
  }, selector);
}

describe('the editor against a server started with --token', { timeout: 300_000 }, () => {
  it('takes the token from the printed link, hides it, and loads catalog, workflows, runs and images', async () => {
    // The link `serve` printed, as a user would click it.
    const link = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(server.output())?.[0];
    expect(link, server.output()).toBeDefined();
    const page = browser.page;
    const refused: string[] = [];
    page.on('response', (r) => r.status() === 401 && refused.push(r.url()));
    await page.goto(link!);
    // The shipped workflow opened (catalog and library answered), and the token left the address bar.
    await page.locator(dnode('denoise')).waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(page.url()).not.toContain('token');
    // The example image's thumbnail loads through the token too.
    await imagesLoaded(page, `${dnode('image')} img.thumb`);
    // The library menu lists the shipped templates.
    await page.locator('select[aria-label="Open from library"] option[value="diffedit-prompts"]').waitFor({
      state: 'attached',
    });

    await page.getByRole('button', { name: '▶ Run' }).click();
    await page.locator('.overall[data-status="succeeded"]').waitFor({ timeout: 180_000 });
    // Output previews, the saved grid on its node, the DiffEdit views and the history thumbnail all load.
    await imagesLoaded(page, '.output-previews img');
    expect(await page.locator('.output-previews figure').count()).toBeGreaterThanOrEqual(5);
    await imagesLoaded(page, `${dnode('save')} img.preview`);
    await imagesLoaded(page, '[data-view="before-after"] img');
    await imagesLoaded(page, '.run-thumb');
    expect(await page.locator(`${dnode('save')} img.preview`).getAttribute('src')).toMatch(/^blob:/);
    await screenshot(page, 'token-01-ran');
    // Downloading a run's output from the history works with the token too.
    const download = page.waitForEvent('download');
    await page.locator('.runs a', { hasText: 'diffedit-prompts.png' }).first().click();
    const saved = readFileSync((await (await download).path())!);
    expect([...saved.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect((await download).suggestedFilename()).toBe('diffedit-prompts.png');

    // A reload keeps the token (this tab's sessionStorage) and shows the run's previews again.
    await page.getByRole('textbox', { name: 'Workflow name' }).fill('Edited with a token');
    await page.reload();
    await page.locator(dnode('denoise')).waitFor();
    expect(await page.getByRole('textbox', { name: 'Workflow name' }).inputValue()).toBe(
      'Edited with a token',
    );
    await imagesLoaded(page, '.output-previews img');
    expect(refused).toEqual([]);
  });

  it('asks for the token when opened without it, and works once it is given', async () => {
    // A new tab has its own sessionStorage: no token yet. (It shares localStorage: the workflow the first tab
    // auto-saved must survive this tab's refused start.)
    const page = await browser.context.newPage();
    try {
      await page.goto(server.url);
      const dialog = page.getByRole('dialog', { name: 'Sign in' });
      await dialog.waitFor();
      await screenshot(page, 'token-02-sign-in');
      await dialog.getByLabel('Token').fill(TOKEN);
      await dialog.getByRole('button', { name: 'Sign in' }).click();
      await page.locator(dnode('denoise')).waitFor();
      await expect.poll(() => dialog.count()).toBe(0);
      expect(await page.getByRole('textbox', { name: 'Workflow name' }).inputValue()).toBe(
        'Edited with a token',
      );
      // The last run is on the history panel with its thumbnail.
      await imagesLoaded(page, '.run-thumb');
    } finally {
      await page.close();
    }
  });
});

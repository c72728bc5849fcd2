import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Workflow } from '@diffedit/core';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readPngText } from '../../src/util/png-text.js';
import {
  addNodeBySearch,
  dragLink,
  fitCanvas,
  launchBrowser,
  pressOutput,
  REPO,
  screenshot,
  startServer,
} from './harness.js';
import type { Browser, Server } from './harness.js';

// Ids the editor gives the nodes built below ↔ ids of workflows/diffedit-prompts.json.
const IDS: Record<string, string> = {
  model: 'load_diffusion_model',
  image: 'load_image',
  encode: 'vae_encode',
  source: 'text',
  target: 'text_2',
  mask: 'generate_mask',
  invert: 'ddim_invert',
  denoise: 'masked_denoise',
  mask_image: 'mask_to_image',
  grid: 'image_grid',
  save: 'save_image',
};
const shipped = JSON.parse(readFileSync(join(REPO, 'workflows/diffedit-prompts.json'), 'utf8')) as Workflow;
const ASSET = join(REPO, 'workflows/assets/red-apple-on-blue.png');

let server: Server;
let browser: Browser;
let page: Page;

const dnode = (id: string): string => `.dnode[data-node-id="${id}"]`;
/** The text field of one of DDIMInvert's params. */
const invertParam = (param: string): Locator =>
  page.locator(`${dnode(IDS.invert)} [data-param="${param}"] input[type="text"]`);

async function exportWorkflow(): Promise<Workflow> {
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  const file = await (await download).path();
  return JSON.parse(readFileSync(file, 'utf8')) as Workflow;
}

async function currentRunId(): Promise<string | null> {
  return page
    .locator('.overall')
    .getAttribute('data-run-id', { timeout: 1000 })
    .catch(() => null);
}

/** Starts a run with Ctrl+Enter (or the button) and waits until the page shows that run succeeded. */
async function runAndWait(how: 'keys' | 'button' = 'button'): Promise<string> {
  const previous = await currentRunId();
  if (how === 'keys') await page.keyboard.press('Control+Enter');
  else await page.getByRole('button', { name: '▶ Run' }).click();
  const bar = page.locator(`.overall:not([data-run-id="${previous ?? ''}"])`);
  await bar.waitFor();
  const runId = (await bar.getAttribute('data-run-id'))!;
  await page
    .locator(`.overall[data-run-id="${runId}"][data-status="succeeded"]`)
    .waitFor({ timeout: 180_000 });
  return runId;
}

async function staleNodes(): Promise<string[]> {
  return (
    await page
      .locator('.dnode:has(.badge.stale)')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id') ?? ''))
  ).sort();
}

async function waitForStale(expected: string[]): Promise<void> {
  await page.waitForFunction(
    (ids) =>
      [...document.querySelectorAll('.dnode:has(.badge.stale)')]
        .map((e) => e.getAttribute('data-node-id'))
        .sort()
        .join(',') === ids,
    [...expected].sort().join(','),
  );
}

/** The nodes' IMAGE and MASK outputs that have a preview, as `node.output`. */
const PREVIEWED = [
  `${IDS.image}.image`,
  `${IDS.mask}.mask`,
  `${IDS.denoise}.image`,
  `${IDS.mask_image}.image`,
  `${IDS.grid}.image`,
].sort();

async function outputPreviews(which = '.output-previews'): Promise<string[]> {
  return (
    await page
      .locator(`${which} figure`)
      .evaluateAll((els) =>
        els.map(
          (e) => `${e.closest('.dnode')?.getAttribute('data-node-id')}.${e.getAttribute('data-output')}`,
        ),
      )
  ).sort();
}

async function phases(): Promise<Record<string, string>> {
  const pairs = await page
    .locator('.dnode')
    .evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-node-id') ?? '', e.getAttribute('data-phase') ?? '']),
    );
  return Object.fromEntries(pairs);
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(new URL(path, server.url));
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

async function pixels(png: Uint8Array): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

// Generous limits: these drive a real browser and real runs on a machine that may be busy; nothing is timed.
describe('the editor in Chromium', { timeout: 300_000 }, () => {
  let builtRunId = '';
  let savedPng: Uint8Array;
  let built: Workflow;

  it('opens with the DiffEdit prompts workflow ready', async () => {
    await page.goto(server.url);
    await page.locator(dnode('denoise')).waitFor();
    expect(Object.keys(await phases()).sort()).toEqual(shipped.nodes.map((n) => n.id).sort());
    // React Flow draws edges once it has measured the nodes' handles: a frame or more after the nodes.
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(shipped.edges.length);
    // The image param names a shipped example (assets/…): its thumbnail shows it.
    await page.waitForFunction(
      (sel) => {
        const img = document.querySelector<HTMLImageElement>(sel);
        return img !== null && img.complete && img.naturalWidth > 0;
      },
      `${dnode('image')} img.thumb`,
    );
    await screenshot(page, '01-opened');
  });

  it('builds the DiffEdit prompts workflow from an empty canvas by UI actions and runs it', async () => {
    await page.getByRole('combobox', { name: 'Open from library' }).selectOption('__new');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);

    const row1 = 80;
    const row2 = 560;
    const col = (i: number): number => 215 + i * 280;
    const add = (type: string, query: string, x: number, y: number): Promise<string> =>
      addNodeBySearch(page, type, query, { x, y });
    expect(await add('LoadDiffusionModel', 'diffusion', col(0), row1)).toBe(IDS.model);
    expect(await add('LoadImage', 'load image', col(1), row1)).toBe(IDS.image);
    expect(await add('Text', 'text', col(2), row1)).toBe(IDS.source);
    expect(await add('Text', 'text', col(3), row1)).toBe(IDS.target);
    expect(await add('SaveImage', 'save', col(4), row1)).toBe(IDS.save);
    expect(await add('GenerateMask', 'mask', col(0), row2)).toBe(IDS.mask);
    expect(await add('DDIMInvert', 'invert', col(1), row2)).toBe(IDS.invert);
    expect(await add('MaskedDenoise', 'denoise', col(2), row2)).toBe(IDS.denoise);
    expect(await add('MaskToImage', 'mask to', col(3), row2)).toBe(IDS.mask_image);
    expect(await add('ImageGrid', 'grid', col(4), row2)).toBe(IDS.grid);
    expect(await add('VAEEncode', 'vae encode', col(4), (row1 + row2) / 2)).toBe(IDS.encode);

    // every socket in view before wiring, away from the side panels (in one loaded run the nodes landed ~40 px
    // further right than asked, and the side panel covered VAE encode's output)
    await fitCanvas(page);
    for (const edge of shipped.edges) {
      await dragLink(page, [IDS[edge.from.node], edge.from.output], [IDS[edge.to.node], edge.to.input]);
    }
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(shipped.edges.length);

    await page.locator(`${dnode(IDS.source)} textarea`).fill('a red apple');
    await page.locator(`${dnode(IDS.target)} textarea`).fill('a green pear');
    await page
      .locator(`${dnode(IDS.save)} [data-param="filename_prefix"] input[type="text"]`)
      .fill('diffedit-prompts');
    await page.locator(`${dnode(IDS.image)} input[type="file"]`).setInputFiles(ASSET);
    await expect
      .poll(() => page.locator(`${dnode(IDS.image)} .file-widget input[type="text"]`).inputValue())
      .toMatch(/^up_[0-9a-f]{32}\.png$/);
    await page.locator(`${dnode(IDS.image)} img.thumb`).waitFor();
    await fitCanvas(page);
    await screenshot(page, '02-built');

    // The canvas holds the shipped workflow: same types, params (but the uploaded image) and wiring.
    built = await exportWorkflow();
    const uploaded = built.nodes.find((n) => n.id === IDS.image)!.params.image as string;
    for (const node of shipped.nodes) {
      const mine = built.nodes.find((n) => n.id === IDS[node.id])!;
      expect(mine.type).toBe(node.type);
      expect({ ...mine.params, ...(node.type === 'LoadImage' ? { image: '' } : {}) }).toMatchObject({
        ...node.params,
        ...(node.type === 'LoadImage' ? { image: '' } : {}),
      });
    }
    const wiring = (w: Workflow, map: (id: string) => string): string[] =>
      w.edges.map((e) => `${map(e.from.node)}.${e.from.output}->${map(e.to.node)}.${e.to.input}`).sort();
    expect(wiring(built, (id) => id)).toEqual(wiring(shipped, (id) => IDS[id]));
    expect(await page.locator('.badge.invalid').count()).toBe(0);

    builtRunId = await runAndWait('keys');
    const saveImage = page.locator(`${dnode(IDS.save)} img.preview`);
    await saveImage.waitFor();
    await page.locator('[data-view="before-after"]').waitFor();
    await screenshot(page, '03-ran');

    // A preview on every IMAGE and MASK output (DDIMInvert's images are an empty batch: none), all loaded.
    expect(await outputPreviews()).toEqual(PREVIEWED);
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('.output-previews img')].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    // The mask's is the mask: black and white, with some of each.
    const maskPreview = await pixels(
      await fetchBytes((await page.locator(`${dnode(IDS.mask)} .output-previews img`).getAttribute('src'))!),
    );
    const levels = new Set(maskPreview.data);
    expect([...levels].sort((a, b) => a - b)).toEqual([0, 255]);
    // The edited image's preview is the edited image (a 512 px output, shown at 256 px).
    const editedPreview = page.locator(
      `${dnode(IDS.denoise)} .output-previews figure[data-output="image"] img`,
    );
    expect(await editedPreview.getAttribute('title')).toMatch(/^image: IMAGE \d+×\d+/);
    savedPng = await fetchBytes((await saveImage.getAttribute('src'))!);

    // The PNG carries the graph that made it.
    const embedded = JSON.parse(readPngText(savedPng).workflow) as Workflow;
    expect(embedded.nodes.map((n) => n.id).sort()).toEqual(Object.values(IDS).sort());
    expect(wiring(embedded, (id) => id)).toEqual(wiring(built, (id) => id));

    // Same pixels as the shipped template run headless through the API on the same upload.
    const template = structuredClone(shipped);
    template.nodes.find((n) => n.id === 'image')!.params.image = uploaded;
    const submitted = await fetch(new URL('/api/runs', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: template }),
    });
    expect(submitted.status).toBe(202);
    const { runId } = (await submitted.json()) as { runId: string };
    let detail: { status: string; files: { url: string }[] } = { status: 'queued', files: [] };
    await expect
      .poll(
        async () => {
          detail = (await (await fetch(new URL(`/api/runs/${runId}`, server.url))).json()) as typeof detail;
          return detail.status;
        },
        { timeout: 120_000, interval: 200 },
      )
      .toBe('succeeded');
    const reference = await pixels(await fetchBytes(detail.files[0].url));
    const mine = await pixels(savedPng);
    expect([mine.width, mine.height]).toEqual([reference.width, reference.height]);
    expect(mine.width).toBe(3 * mine.height);
    expect(mine.data.equals(reference.data)).toBe(true);
  });

  it('marks stale nodes before running, and only those re-run; undo/redo restore the prompt', async () => {
    await waitForStale([]);
    const target = page.locator(`${dnode(IDS.target)} textarea`);
    await target.click();
    await target.press('Control+a');
    await target.pressSequentially('a yellow banana');
    await page.locator('.react-flow__pane').click({ position: { x: 700, y: 1000 } });
    const expected = [IDS.target, IDS.mask, IDS.mask_image, IDS.denoise, IDS.grid, IDS.save];
    await waitForStale(expected);
    await screenshot(page, '04-stale');
    // The previews of nodes that would re-run are dimmed as out of date; the others are not.
    expect(await outputPreviews('.output-previews.old')).toEqual(
      PREVIEWED.filter((p) => expected.includes(p.split('.')[0])),
    );

    // One undo takes back the whole typing; redo brings it back.
    await page.keyboard.press('Control+z');
    await expect.poll(() => target.inputValue()).toBe('a green pear');
    await waitForStale([]);
    await page.keyboard.press('Control+y');
    await expect.poll(() => target.inputValue()).toBe('a yellow banana');
    await waitForStale(expected);

    await runAndWait();
    const after = await phases();
    const ran = Object.keys(after)
      .filter((id) => after[id] === 'done')
      .sort();
    const cached = Object.keys(after)
      .filter((id) => after[id] === 'cached')
      .sort();
    expect(ran).toEqual([...expected].sort());
    expect(cached).toEqual(
      Object.values(IDS)
        .filter((id) => !expected.includes(id))
        .sort(),
    );
    await waitForStale([]);
    expect(await staleNodes()).toEqual([]);
    // Re-run and cached nodes alike show current previews.
    expect(await outputPreviews()).toEqual(PREVIEWED);
    expect(await outputPreviews('.output-previews.old')).toEqual([]);

    // An edit after the run survives a reload, and so do its stale badges and the run's previews.
    await target.click();
    await target.press('Control+a');
    await target.pressSequentially('a blue ball');
    await page.locator('.react-flow__pane').click({ position: { x: 700, y: 1000 } });
    await waitForStale(expected);
    await page.waitForTimeout(400); // auto-save runs 200 ms after the last change
    await page.reload();
    await page.locator(dnode(IDS.denoise)).waitFor();
    expect(await target.inputValue()).toBe('a blue ball');
    await expect.poll(() => outputPreviews()).toEqual(PREVIEWED);
    await waitForStale(expected);
    expect(await outputPreviews('.output-previews.old')).toEqual(
      PREVIEWED.filter((p) => expected.includes(p.split('.')[0])),
    );
    // Back to the prompt of the last run: nothing is stale.
    await target.click();
    await target.press('Control+a');
    await target.pressSequentially('a yellow banana');
    await page.locator('.react-flow__pane').click({ position: { x: 700, y: 1000 } });
    await waitForStale([]);
  });

  it('refuses an incompatible connection and says why', async () => {
    const edges = await page.locator('.react-flow__edge').count();
    await dragLink(page, [IDS.image, 'image'], [IDS.denoise, 'prompt']);
    const notice = page.locator('.notice.error');
    await expect
      .poll(() => notice.textContent())
      .toBe('Cannot connect: IMAGE cannot connect to masked_denoise.prompt, which takes TEXT or EMBEDDING');
    expect(await page.locator('.react-flow__edge').count()).toBe(edges);
    await screenshot(page, '05-refused');
    await notice.click();
  });

  it('offers the nodes that take a link released on empty canvas, and connects the one picked', async () => {
    const nodes = await page.locator('.react-flow__node').count();
    const edges = await page.locator('.react-flow__edge').count();
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    const drop = { x: pane.x + 700, y: pane.y + 1000 };
    await pressOutput(page, IDS.mask, 'mask');
    await page.mouse.move(drop.x, drop.y, { steps: 8 });
    await page.mouse.up();
    const search = page.getByRole('dialog', { name: 'Add a node' });
    await search.waitFor();
    const offered = await search
      .locator('li[data-type]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
    // Nodes with a MASK input (MaskToImage, MaskedDenoise, ShowValue's ANY…), and no node without one.
    expect(offered).toEqual(expect.arrayContaining(['MaskToImage', 'MaskedDenoise']));
    expect(offered).not.toContain('Text');
    expect(offered).not.toContain('LoadImage');
    await search.getByRole('textbox', { name: 'Search nodes' }).fill('mask to');
    await search.locator('li[data-type="MaskToImage"]').click();
    await search.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(nodes + 1);
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(edges + 1);
    const added = page.locator(
      '.dnode[data-node-type="MaskToImage"]:not([data-node-id="' + IDS.mask_image + '"])',
    );
    const id = (await added.getAttribute('data-node-id'))!;
    expect(await page.locator(`.react-flow__edge[data-id*="${IDS.mask}"][data-id*="${id}"]`).count()).toBe(1);
    await screenshot(page, '05b-link-search');
    // Undo takes the edge, then the node, back.
    await page.locator('.react-flow__pane').click({ position: { x: 700, y: 1000 } });
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(nodes);
    // (Restored nodes are measured again before their edges are drawn.)
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(edges);
  });

  it('exports then imports a workflow file', async () => {
    const exported = await exportWorkflow();
    await page.getByRole('combobox', { name: 'Open from library' }).selectOption('__new');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);
    const file = join(server.dataDir, 'exported.json');
    writeFileSync(file, JSON.stringify(exported));
    await page.locator('input[aria-label="Import a workflow file"]').setInputFiles(file);
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(exported.nodes.length);
    expect(await exportWorkflow()).toEqual(exported);
  });

  it('restores the graph from a SaveImage PNG dropped on the canvas', async () => {
    await page.getByRole('combobox', { name: 'Open from library' }).selectOption('__new');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'diffedit-prompts.png', { type: 'image/png' }));
      const canvas = document.querySelector('.canvas')!;
      canvas.dispatchEvent(
        new DragEvent('drop', {
          dataTransfer: data,
          bubbles: true,
          cancelable: true,
          clientX: 800,
          clientY: 500,
        }),
      );
    }, Buffer.from(savedPng).toString('base64'));
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(shipped.nodes.length);
    const restored = await exportWorkflow();
    const embedded = JSON.parse(readPngText(savedPng).workflow) as Workflow;
    expect(restored.nodes.map((n) => [n.id, n.type, n.params])).toEqual(
      embedded.nodes.map((n) => [n.id, n.type, n.params]),
    );
    expect(restored.edges).toEqual(embedded.edges);
    await screenshot(page, '06-dropped-png');
  });

  it('follows a run across a page reload, then cancels it', async () => {
    // A slow run on any machine: DDIMInvert at its largest step count, each step regularised 20 × 20 times
    // (about a second a step here), so that it is still inverting after the reload and when cancelled.
    const steps = invertParam('num_inference_steps');
    await steps.fill('1000');
    await invertParam('num_reg_steps').fill('20');
    await invertParam('num_auto_corr_rolls').fill('20');
    const before = (await (await fetch(new URL('/api/runs?limit=1', server.url))).json()) as {
      total: number;
    };
    await page.getByRole('button', { name: '▶ Run' }).click();
    const progress = page.locator(`${dnode(IDS.invert)}[data-phase="running"] .progress`);
    await progress.waitFor({ timeout: 120_000 });
    const runId = (await currentRunId())!;
    expect(runId).not.toBe(builtRunId);
    await screenshot(page, '07-running');

    await page.reload();
    await page.locator(`.overall[data-run-id="${runId}"][data-status="running"]`).waitFor();
    // The run goes on: the step count shown after the reload keeps rising.
    await progress.waitFor();
    const first = Number(await progress.getAttribute('aria-valuenow'));
    await expect
      .poll(async () => Number(await progress.getAttribute('aria-valuenow')), { timeout: 120_000 })
      .toBeGreaterThan(first);
    expect(await steps.inputValue()).toBe('1000'); // the edit survived the reload (auto-save)
    // Nodes that have already run (or came from the cache) show their previews after the reload too.
    expect(await outputPreviews()).toEqual(
      expect.arrayContaining([`${IDS.image}.image`, `${IDS.mask}.mask`]),
    );
    await screenshot(page, '08-after-reload');

    await page.getByRole('button', { name: 'Cancel', exact: true }).first().click();
    await page
      .locator(`.overall[data-run-id="${runId}"][data-status="cancelled"]`)
      .waitFor({ timeout: 60_000 });
    expect((await phases())[IDS.invert]).toBe('cancelled');
    const after = (await (await fetch(new URL('/api/runs?limit=5', server.url))).json()) as {
      total: number;
      runs: { runId: string; status: string }[];
    };
    expect(after.total).toBe(before.total + 1);
    expect(after.runs[0]).toMatchObject({ runId, status: 'cancelled' });
  });

  it('shows a node warning: source and target prompts the same', async () => {
    await invertParam('num_inference_steps').fill('50');
    await invertParam('num_reg_steps').fill('0');
    await invertParam('num_auto_corr_rolls').fill('5');
    await page.locator(`${dnode(IDS.target)} textarea`).fill('a red apple');
    await runAndWait();
    await expect
      .poll(() =>
        page
          .locator(`${dnode(IDS.mask)} .node-warning`)
          .first()
          .textContent(),
      )
      .toContain('the target is the same as the source');
    await screenshot(page, '09-warning');
  });

  it('opens a workflow with an unknown node type and a missing model, and shows what is missing', async () => {
    const odd = structuredClone(shipped);
    odd.nodes.find((n) => n.id === 'model')!.params.model = 'sd-that-is-not-here';
    odd.nodes.push({
      id: 'upscale',
      type: 'FancyUpscale',
      params: { factor: 4 },
      position: { x: 1900, y: 100 },
    });
    const file = join(server.dataDir, 'odd.json');
    writeFileSync(file, JSON.stringify(odd));
    await page.locator('input[aria-label="Import a workflow file"]').setInputFiles(file);
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(odd.nodes.length);
    await expect
      .poll(() =>
        page
          .locator(`${dnode('upscale')} .node-error`)
          .first()
          .textContent(),
      )
      .toBe('Unknown node type “FancyUpscale” — not in this server’s catalog');
    await expect
      .poll(() => page.locator(`${dnode('model')} [data-param="model"] .field-error`).textContent())
      .toBe("model 'sd-that-is-not-here' is not in the server's models folder");
    await screenshot(page, '10-missing');
    expect(browser.errors).toEqual([]);
  });

  it('saves the canvas to the server library and opens it again from the menu', async () => {
    const saved = await exportWorkflow();
    page.once('dialog', (dialog) => void dialog.accept('my-edit'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('Saved as my-edit');
    const library = page.getByRole('combobox', { name: 'Open from library' });
    await library.selectOption('__new');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);
    await expect.poll(() => library.locator('option[value="my-edit"]').count()).toBe(1);
    await library.selectOption('my-edit');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(saved.nodes.length);
    expect(await exportWorkflow()).toEqual(saved);
    // The shipped workflows are listed as templates.
    expect(await library.locator('optgroup[label="Templates"] option').allTextContents()).toContain(
      'DiffEdit with prompts',
    );
  });

  it('uploads an image dropped on a LoadImage node into its image param', async () => {
    const field = page.locator(`${dnode('image')} .file-widget input[type="text"]`);
    const before = await field.inputValue();
    // The drop's point is read in the page, in the same task as the drop: a box read before it may be stale.
    await page.evaluate(
      ({ base64, selector }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'apple.png', { type: 'image/png' }));
        const box = document.querySelector(selector)!.getBoundingClientRect();
        const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
        document.elementFromPoint(x, y)!.dispatchEvent(
          new DragEvent('drop', {
            dataTransfer: data,
            bubbles: true,
            cancelable: true,
            clientX: x,
            clientY: y,
          }),
        );
      },
      { base64: readFileSync(ASSET).toString('base64'), selector: `${dnode('image')} header` },
    );
    await expect.poll(() => field.inputValue()).toMatch(/^up_[0-9a-f]{32}\.png$/);
    expect(await field.inputValue()).not.toBe(before);
    await page.locator(`${dnode('image')} img.thumb`).waitFor();
  });
});

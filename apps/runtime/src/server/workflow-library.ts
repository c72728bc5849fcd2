import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { isWorkflowName } from '@diffedit/core';
import type { WorkflowEntry } from '@diffedit/core';

import { confinedPath } from './data-folder.js';
import { problem } from './problems.js';

/**
 * Saved workflows (`DATA/workflows/NAME.json`) beside the shipped templates (`workflows/*.json`, read-only).
 * Names are checked by pattern first and then confined to their folder.
 */
export class WorkflowLibrary {
  constructor(
    private readonly savedDir: string,
    private readonly templatesDir: string,
  ) {}

  list(): WorkflowEntry[] {
    const templates = this.namesIn(this.templatesDir).flatMap((name) => {
      const doc = this.readTemplate(name);
      return doc ? [{ name, title: titleOf(doc, name), readOnly: true, updatedAt: null }] : [];
    });
    const taken = new Set(templates.map((t) => t.name));
    const saved = this.namesIn(this.savedDir)
      .filter((name) => !taken.has(name))
      .flatMap((name) => {
        try {
          const path = this.savedPath(name);
          const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
          return [
            {
              name,
              title: titleOf(doc, name),
              readOnly: false,
              updatedAt: Math.round(statSync(path).mtimeMs),
            },
          ];
        } catch {
          return []; // unreadable files and links out of the folder are not offered
        }
      });
    return [...templates, ...saved].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): unknown {
    const template = this.readTemplate(name);
    if (template) return template;
    const path = this.savedPath(name);
    if (!existsSync(path)) throw problem(404, 'not_found', `no workflow '${name}'`);
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  }

  /** Saves through a temporary file and a rename, so a failed write never leaves half a document. */
  async put(name: string, document: unknown): Promise<WorkflowEntry> {
    this.refuseTemplate(name);
    const path = this.savedPath(name);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`);
    await rename(temporary, path);
    return {
      name,
      title: titleOf(document, name),
      readOnly: false,
      updatedAt: Math.round(statSync(path).mtimeMs),
    };
  }

  async delete(name: string): Promise<void> {
    this.refuseTemplate(name);
    const path = this.savedPath(name);
    if (!existsSync(path)) throw problem(404, 'not_found', `no workflow '${name}'`);
    await unlink(path);
  }

  private refuseTemplate(name: string): void {
    if (this.readTemplate(name))
      throw problem(403, 'read_only', `'${name}' is a shipped template and cannot be changed`);
  }

  private savedPath(name: string): string {
    return confinedPath(this.savedDir, `${name}.json`, 'workflow name');
  }

  private readTemplate(name: string): unknown {
    const path = confinedPath(this.templatesDir, `${name}.json`, 'workflow name');
    if (!existsSync(path)) return undefined;
    try {
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown };
      return doc.format === 'diffedit-studio.workflow' ? doc : undefined;
    } catch {
      return undefined;
    }
  }

  private namesIn(folder: string): string[] {
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((file) => file.endsWith('.json'))
      .map((file) => basename(file, '.json'))
      .filter(isWorkflowName);
  }
}

function titleOf(document: unknown, fallback: string): string {
  const name = (document as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : fallback;
}

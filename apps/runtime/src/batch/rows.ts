import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';

import { CsvError, parse } from 'csv-parse/sync';

import { parseOverride } from '../overrides.js';
import type { ParamOverride } from '../overrides.js';

/** Where a value of a row came from, for error messages: the CSV column, or the image folder. */
export interface CellOrigin {
  /** The header cell (`NODE.PARAM`), or `--images` for the image a row was made for. */
  column: string;
}

/** One run of a batch before validation: its name and the params it sets. */
export interface BatchRow {
  /** 1-based number among the rows (the header is not a row). */
  index: number;
  /** The CSV line the row starts on (1-based), when it comes from a CSV file. */
  line?: number;
  /** The name of its output folder (a `name` cell, the image's base name, or row-0001). */
  name: string;
  overrides: (ParamOverride & CellOrigin)[];
}

/** A problem with the batch's input, found before anything runs. */
export class BatchInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'BatchInputError';
  }
}

/** Extensions `--images` picks up (case-insensitive). */
export const IMAGE_FILE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp'];

/** The column that names a row's output folder rather than setting a param. */
export const NAME_COLUMN = 'name';

/** `row-0007`: the name of a row without a `name` cell or image. */
export function defaultRowName(index: number): string {
  return `row-${String(index).padStart(4, '0')}`;
}

// A row name becomes a folder under --out: one path segment that every common file system accepts (none of
// Windows' reserved signs, no control characters), not hidden, not an option, not the summary's names.
const UNSAFE_IN_NAME = /[<>:"/\\|?*\p{Cc}]/u;
const MAX_NAME_LENGTH = 120;
const RESERVED_NAMES: ReadonlySet<string> = new Set(['summary.json', 'summary.csv']);

function rowNameProblem(name: string): string | undefined {
  if (UNSAFE_IN_NAME.test(name) || name.length > MAX_NAME_LENGTH || /^[.\s-]|[.\s]$/u.test(name)) {
    return `'${name.slice(0, 80)}' cannot name an output folder (no < > : " / \\ | ? * or control characters, not starting with . - or a space, not ending with . or a space, at most ${MAX_NAME_LENGTH} characters)`;
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) return `'${name}' is the name of the batch summary file`;
  return undefined;
}

/** `rows.csv row 3 (line 4)`: where a row's problem is, as messages name it. */
export function rowLabel(source: string, row: Pick<BatchRow, 'index' | 'line'>): string {
  return `${source} row ${row.index}${row.line !== undefined ? ` (line ${row.line})` : ''}`;
}

/**
 * Reads a CSV whose header cells are `NODE.PARAM` (as `--set` takes them) plus an optional `name` column; each
 * further line is a run. Values are parsed as `--set` values are (JSON, else the text as typed); an empty cell
 * leaves the workflow's value. Throws BatchInputError for a file that is not CSV or has no rows; returns the
 * problems of the header and the row names.
 */
export function parseRowsCsv(
  text: string,
  source: string,
): { columns: string[]; rows: BatchRow[]; problems: string[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (error) {
    const detail = error instanceof CsvError ? error.message : String(error);
    throw new BatchInputError([`${source} is not a valid CSV file: ${detail}`]);
  }
  if (records.length === 0)
    throw new BatchInputError([`${source} is empty: it needs a header line and rows`]);
  const [{ record: header }, ...body] = records;
  if (body.length === 0) {
    throw new BatchInputError([`${source} has a header but no rows: add one line per run below the header`]);
  }

  const problems: string[] = [];
  const columns = header.map((cell, i) => {
    const column = cell.trim();
    if (column === NAME_COLUMN) return { column, target: undefined };
    const dot = column.lastIndexOf('.');
    if (dot <= 0 || dot === column.length - 1 || column.includes('=')) {
      problems.push(
        `${source} column ${i + 1} '${column.slice(0, 80)}': a header cell is NODE.PARAM (as --set takes it) or '${NAME_COLUMN}'`,
      );
      return { column, target: null };
    }
    return { column, target: column };
  });
  const seen = new Map<string, number>();
  columns.forEach(({ column }, i) => {
    const first = seen.get(column);
    if (first !== undefined)
      problems.push(`${source} column ${i + 1} '${column}' repeats column ${first + 1}`);
    else seen.set(column, i);
  });

  const names = new Map<string, number>();
  const rows = body.map(({ record, info }, i): BatchRow => {
    const index = i + 1;
    // info.lines is the line a record ends on; a quoted cell may span lines, so count back to its start.
    const line = info.lines - record.reduce((n, cell) => n + cell.split('\n').length - 1, 0);
    let name = defaultRowName(index);
    const overrides: BatchRow['overrides'] = [];
    record.forEach((cell, c) => {
      const { column, target } = columns[c];
      if (target === undefined) {
        // an empty name keeps row-0007, so only some rows need naming
        if (cell.trim() === '') return;
        name = cell.trim();
        const problem = rowNameProblem(name);
        if (problem)
          problems.push(`${rowLabel(source, { index, line })} › column ${column}: the name ${problem}`);
        return;
      }
      // an empty cell keeps the workflow's value ("" in JSON sets an empty string); a bad header is reported
      if (cell === '' || target === null) return;
      overrides.push({ ...parseOverride(`${target}=${cell}`), column });
    });
    // compared without case: 'A' and 'a' are one folder on macOS and Windows
    const earlier = names.get(name.toLowerCase());
    if (earlier !== undefined) {
      problems.push(
        `${rowLabel(source, { index, line })} › column ${NAME_COLUMN}: '${name}' is also the name of row ${earlier}`,
      );
    } else names.set(name.toLowerCase(), index);
    return { index, line, name, overrides };
  });
  // Header problems are returned with the rows, so that they are listed with the workflow's (prepareRows).
  return { columns: columns.flatMap((c) => (c.target ? [c.target] : [])), rows, problems };
}

/**
 * One row per image file in `dir` (png, jpg, jpeg, webp; sorted by file name), setting `nodeId.param` to the
 * file's absolute path. A row is named after the image's base name (with its extension when two share one).
 */
export async function imageFolderRows(dir: string, nodeId: string, param: string): Promise<BatchRow[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      // hidden files are not rows (macOS leaves ._name.png companions next to copied images)
      .filter(
        (e) =>
          e.isFile() &&
          !e.name.startsWith('.') &&
          IMAGE_FILE_EXTENSIONS.includes(extname(e.name).toLowerCase()),
      )
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    throw new BatchInputError([`--images ${dir}: cannot list the folder: ${(error as Error).message}`]);
  }
  if (entries.length === 0) {
    throw new BatchInputError([
      `--images ${dir}: no image files in it (${IMAGE_FILE_EXTENSIONS.join(', ')})`,
    ]);
  }
  // a.png and a.jpg (or A.png, on a case-sensitive disk) would share a folder: those keep their extension
  const stems = new Map<string, number>();
  const stemOf = (file: string): string => basename(file, extname(file)).toLowerCase();
  for (const file of entries) stems.set(stemOf(file), (stems.get(stemOf(file)) ?? 0) + 1);
  const problems: string[] = [];
  const rows = entries.map((file, i): BatchRow => {
    const name = stems.get(stemOf(file))! > 1 ? file : basename(file, extname(file));
    const problem = rowNameProblem(name);
    if (problem) problems.push(`--images ${dir}: the image ${file}: ${problem}; rename the file`);
    const path = resolve(join(dir, file));
    return {
      index: i + 1,
      name,
      overrides: [{ nodeId, param, value: path, text: path, column: '--images' }],
    };
  });
  if (problems.length > 0) throw new BatchInputError(problems);
  return rows;
}

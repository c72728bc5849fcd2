import { serviceKey } from './services.js';

/** Where relative file params point: nodes that read files and the file fingerprinter resolve them alike. */
export interface InputsFolder {
  /** The absolute folder relative paths are resolved against. */
  readonly root: string;
  /** The absolute path of a file param's value. */
  resolve(path: string): string;
}

export const InputsFolderKey = serviceKey<InputsFolder>('inputs-folder');

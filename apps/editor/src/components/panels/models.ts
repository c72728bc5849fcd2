import { useEffect, useState } from 'react';

import { api } from '../../api/client.js';
import type { ModelInfo } from '../../api/types.js';

let cache: Promise<ModelInfo[]> | undefined;

/** GET /api/models once per page. */
export function useModels(): ModelInfo[] {
  const [models, setModels] = useState<ModelInfo[]>([]);
  useEffect(() => {
    cache ??= api.models().catch(() => []);
    let live = true;
    void cache.then((m) => live && setModels(m));
    return () => {
      live = false;
    };
  }, []);
  return models;
}

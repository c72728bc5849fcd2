import { useEffect, useState } from 'react';

import { api } from '../../api/client.js';
import type { ModelListing } from '@diffedit/core';

let cache: Promise<ModelListing[]> | undefined;

/** GET /api/models once per page. */
export function useModels(): ModelListing[] {
  const [models, setModels] = useState<ModelListing[]>([]);
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

import { useEffect, useState } from 'react';

import { api } from '../../api/client.js';
import type { ModelListing } from '@diffedit/core';

let cache: Promise<ModelListing[]> | undefined;

/** GET /api/models once per page; undefined until it answers. */
export function useModels(): ModelListing[] | undefined {
  const [models, setModels] = useState<ModelListing[]>();
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

import { useEffect, useState } from 'react';

import { authHeaders, getToken, reportUnauthorized } from './auth.js';

/**
 * Server files (`/api/files/…`) as the page can show them. Without a token a file's URL is its src. With one,
 * an <img> cannot send the Authorization header, so the file is fetched with it and shown from a blob: URL.
 * Files are immutable (their ids never change content), so each is fetched once per page.
 */
const blobs = new Map<string, Promise<string>>();

function needsAuth(url: string): boolean {
  return getToken() !== undefined && url.startsWith('/api/');
}

/** A URL an <img> or a link can use for `url` (a blob: URL when the server needs a token). */
export function fileSrc(url: string): Promise<string> {
  if (!needsAuth(url)) return Promise.resolve(url);
  let src = blobs.get(url);
  if (!src) {
    src = fetch(url, { headers: authHeaders() }).then(async (response) => {
      if (response.status === 401) reportUnauthorized();
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      return URL.createObjectURL(await response.blob());
    });
    src.catch(() => blobs.delete(url));
    blobs.set(url, src);
  }
  return src;
}

/** The src to show `url` with, once it can be shown (at once without a token). */
export function useFileSrc(url: string | undefined): string | undefined {
  const direct = url === undefined || !needsAuth(url) ? url : undefined;
  const [resolved, setResolved] = useState<{ url: string; src: string }>();
  useEffect(() => {
    if (url === undefined || !needsAuth(url)) return;
    let live = true;
    fileSrc(url).then(
      (src) => live && setResolved({ url, src }),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [url]);
  if (direct !== undefined || url === undefined) return direct;
  return resolved?.url === url ? resolved.src : undefined;
}

/** Saves a server file under `name` (through a blob when the server needs a token). */
export async function downloadFile(url: string, name: string): Promise<void> {
  const a = document.createElement('a');
  a.href = await fileSrc(url);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * The server's bearer token, when it has one (`diffedit serve --token`): read once from the page's address
 * (`?token=…` or `#token=…`, as `serve` prints it), then kept in sessionStorage and removed from the address
 * bar, so it is neither bookmarked nor shared with a screenshot of the URL. A sign-in prompt sets it too.
 */
const KEY = 'diffedit.token';

let token: string | undefined;
const listeners = new Set<() => void>();

/** Takes a token from the address (and strips it), else the one this tab already had. */
export function initToken(): void {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ''));
  const fromUrl = url.searchParams.get('token') ?? hash.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    hash.delete('token');
    const rest = hash.toString();
    url.hash = rest === '' ? '' : `#${rest}`;
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    if (fromUrl !== '') sessionStorage.setItem(KEY, fromUrl);
  }
  token = sessionStorage.getItem(KEY) ?? undefined;
}

export function getToken(): string | undefined {
  return token;
}

export function setToken(value: string): void {
  token = value;
  sessionStorage.setItem(KEY, value);
}

/** `Authorization: Bearer …` when there is a token. */
export function authHeaders(): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** The server refused our token (or wanted one): whoever listens asks the user for it. */
export function reportUnauthorized(): void {
  for (const listener of listeners) listener();
}

export function onUnauthorized(listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

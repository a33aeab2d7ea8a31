// Where the servers are and how users sign in. Sources, first wins:
//   1. server addresses the user saved on the sign-in page (localStorage);
//   2. window.__ROOMWIRE_CONFIG__ from /config.js (written by serve.mjs);
//   3. build-time VITE_API_URL, VITE_WS_URL, VITE_DEV_MODE;
//   4. defaults: api http://localhost:8080, ws ws://localhost:8081/ws,
//      dev mode only under `vite` (npm run dev).

const SERVERS_KEY = 'roomwire.servers';

const runtime = (typeof window !== 'undefined' && window.__ROOMWIRE_CONFIG__) || {};
const env = import.meta.env ?? {};

function flag(v) {
  if (typeof v === 'boolean') return v;
  return ['1', 'true', 'yes', 'on'].includes(String(v ?? '').toLowerCase());
}

function savedServers() {
  try {
    return JSON.parse(localStorage.getItem(SERVERS_KEY)) ?? {};
  } catch {
    return {};
  }
}

const defaults = {
  apiURL: runtime.apiURL ?? env.VITE_API_URL ?? 'http://localhost:8080',
  wsURL: runtime.wsURL ?? env.VITE_WS_URL ?? 'ws://localhost:8081/ws',
};

/** config is read once at start-up; saveServers reloads the page. */
export const config = {
  ...defaults,
  ...savedServers(),
  devMode: flag(runtime.devMode ?? env.VITE_DEV_MODE ?? env.DEV),
  defaults,
};
config.apiURL = config.apiURL.replace(/\/+$/, '');

/** saveServers remembers other server addresses (null: back to defaults). */
export function saveServers(servers) {
  if (servers) localStorage.setItem(SERVERS_KEY, JSON.stringify(servers));
  else localStorage.removeItem(SERVERS_KEY);
}

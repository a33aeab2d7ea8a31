// The REST API (docs/rest.md), every call with the bearer token.
// Failures throw ApiError carrying the problem+json detail.

/** ApiError is an HTTP failure; message is the server's detail when given. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** ROOM_PAGE is the room list page size asked for (the API's maximum). */
const ROOM_PAGE = 200;

/**
 * allPages follows a room list's nextCursor (fetchPage(cursor) answers
 * {rooms, nextCursor}) and returns all rooms, each once: a room that moved
 * while paging is kept where it was first seen. It stops after maxPages.
 */
export async function allPages(fetchPage, maxPages = 50) {
  const rooms = [];
  const seen = new Set();
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    for (const r of page?.rooms ?? []) {
      if (!seen.has(r.id)) {
        seen.add(r.id);
        rooms.push(r);
      }
    }
    cursor = page?.nextCursor;
    if (!cursor) break;
  }
  return rooms;
}

/**
 * createApi returns the calls the client makes against baseURL; getToken()
 * resolves to the bearer token of the signed-in user.
 */
export function createApi(baseURL, getToken) {
  async function call(method, path, body) {
    const token = await getToken();
    let res;
    try {
      res = await fetch(`${baseURL}/api/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, `Cannot reach the API at ${baseURL}.`);
    }
    if (res.status === 204) return undefined;
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new ApiError(res.status, json?.detail || json?.title || `HTTP ${res.status}`);
    return json;
  }

  return {
    /**
     * listRooms: the caller's rooms, newest activity first, every page of
     * them (groups come without memberIds: getRoom has them).
     */
    listRooms: () => allPages((cursor) => {
      const q = new URLSearchParams({ limit: String(ROOM_PAGE) });
      if (cursor) q.set('cursor', cursor);
      return call('GET', `/chat-rooms?${q}`);
    }),
    getRoom: (id) => call('GET', `/chat-rooms/${id}`),
    /** openDirect returns the pair's one direct room (created on first use). */
    openDirect: (userId) => call('POST', '/chat-rooms', { type: 'direct', memberIds: [userId] }),
    createGroup: (name, memberIds) => call('POST', '/chat-rooms', { type: 'group', name, memberIds }),
    /** history: {messages (newest first), hasMore}; before = oldest seq already shown. */
    history: (id, { before, limit = 50 } = {}) => {
      const q = new URLSearchParams({ limit: String(limit) });
      if (before) q.set('before', String(before));
      return call('GET', `/chat-rooms/${id}/messages?${q}`);
    },
    presence: (id) => call('GET', `/chat-rooms/${id}/presence`).then((r) => r.online ?? []),
  };
}

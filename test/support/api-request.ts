/**
 * The fetch options of a call to the drainplane API: the body as JSON, if any, and every change
 * typed application/json, with a body or without, as the API requires of a POST, PUT, PATCH or
 * DELETE (a cross-site form cannot send that type).
 */
export function apiRequest(method: string, body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { ...changeHeaders(method), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  };
}

/** The content type a change carries: for callers that build their requests themselves (inject). */
export function changeHeaders(method: string): Record<string, string> {
  return method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' };
}

// REST helper: Bearer auth, JSON in and out, and the gateway's own error text.
import type { Conn } from './conn'

export class ApiError extends Error {
  /** retryAfter is the Retry-After header in seconds (0 when absent): the gateway's way of saying "busy, ask again", e.g. while the vault is first indexed. */
  constructor(public status: number, message: string, public retryAfter = 0) {
    super(message)
  }
}

let conn: Conn = { base_url: '', ws_url: '', token: '' }
export function setConn(c: Conn) {
  conn = c
}
export function getConn(): Conn {
  return conn
}

/** A URL for <img src> and downloads, which cannot send headers. */
export function fileURL(path: string): string {
  const q = new URLSearchParams({ path })
  if (conn.token) q.set('token', conn.token)
  return `${conn.base_url}/api/files?${q}`
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (conn.token) headers.set('Authorization', 'Bearer ' + conn.token)
  let body = init.body
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json')
    body = JSON.stringify(init.json)
  }
  let res: Response
  try {
    res = await fetch(conn.base_url + path, { ...init, headers, body })
  } catch (e) {
    throw new ApiError(0, `cannot reach the gateway: ${(e as Error).message}`)
  }
  const text = await res.text()
  let data: any = undefined
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const msg = (data && typeof data === 'object' && (data.error ?? data.message)) || text || res.statusText
    const retry = Number(res.headers.get('Retry-After') ?? 0)
    throw new ApiError(res.status, `${res.status}: ${msg}`, Number.isFinite(retry) && retry > 0 ? retry : 0)
  }
  return data as T
}

export const get = <T>(p: string) => api<T>(p)
export const post = <T>(p: string, json?: unknown) => api<T>(p, { method: 'POST', json })
export const put = <T>(p: string, json?: unknown) => api<T>(p, { method: 'PUT', json })
export const patch = <T>(p: string, json?: unknown) => api<T>(p, { method: 'PATCH', json })
export const del = <T>(p: string) => api<T>(p, { method: 'DELETE' })

/** Encodes a vault path for a URL, keeping the slashes. */
export const encPath = (p: string) => p.split('/').map(encodeURIComponent).join('/')

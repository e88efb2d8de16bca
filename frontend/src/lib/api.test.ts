import { describe, it, expect, vi, afterEach } from 'vitest'
import { get, setConn, ApiError } from './api'

afterEach(() => vi.unstubAllGlobals())

/** failure is the ApiError a GET of p rejects with. */
const failure = (p: string): Promise<ApiError> =>
  get(p).then(
    () => {
      throw new Error(`GET ${p} succeeded`)
    },
    (e: ApiError) => e,
  )

describe('api', () => {
  it('carries the error text, the status and Retry-After', async () => {
    setConn({ base_url: 'http://gw', ws_url: '', token: 't' })
    const fetch = vi.fn(async () =>
      new Response('{"error":"vault is still indexing (10 of 50 notes read); try again shortly"}', { status: 503, headers: { 'Retry-After': '2' } }),
    )
    vi.stubGlobal('fetch', fetch)
    const err = await failure('/api/vault/notes')
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(503)
    expect(err.retryAfter).toBe(2)
    expect(err.message).toBe('503: vault is still indexing (10 of 50 notes read); try again shortly')
    expect((fetch.mock.calls[0] as any[])[0]).toBe('http://gw/api/vault/notes')
    expect(new Headers((fetch.mock.calls[0] as any[])[1].headers).get('Authorization')).toBe('Bearer t')
  })

  it('has no Retry-After for ordinary errors', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"error":"Not found"}', { status: 404 })))
    const err = await failure('/api/vault/notes/x.md')
    expect(err.status).toBe(404)
    expect(err.retryAfter).toBe(0)
  })
})

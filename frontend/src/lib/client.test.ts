import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { GatewayClient, tabClientId, type WSLike } from './client'

// A WebSocket double that records what the client sends and lets the test
// play the server.
class FakeWS implements WSLike {
  static all: FakeWS[] = []
  readyState = 0
  sent: any[] = []
  closed: { code?: number; reason?: string } | null = null
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  constructor(public url: string) {
    FakeWS.all.push(this)
  }
  send(d: string) {
    this.sent.push(JSON.parse(d))
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason }
    this.readyState = 3
  }
  // server side
  open() {
    this.readyState = 1
    this.onopen?.({})
  }
  recv(f: object) {
    this.onmessage?.({ data: JSON.stringify(f) })
  }
  drop(code = 1006, reason = '') {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

const last = () => FakeWS.all[FakeWS.all.length - 1]
const authOk = { type: 'auth_ok', agent_name: 'a', version: '1', client_id: 'web-x-1', protocol: 1 }

function make(extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  let id = 'web-x-1'
  const c = new GatewayClient({
    url: 'ws://h/ws', token: 'tok', clientId: () => id, WebSocket: FakeWS, random: () => 0.5,
    onTakenOver: () => (id = 'web-x-2'), ...extra,
  })
  return c
}

beforeEach(() => {
  FakeWS.all = []
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('GatewayClient', () => {
  it('sends auth first with token and client_id, then flushes held frames', () => {
    const c = make()
    c.send({ type: 'message', text: 'early', session_id: 's1' })
    c.connect()
    expect(c.state).toBe('connecting')
    last().open()
    expect(last().sent).toEqual([{ type: 'auth', token: 'tok', client_id: 'web-x-1' }])
    last().recv(authOk)
    expect(c.state).toBe('open')
    expect(c.info?.agent_name).toBe('a')
    expect(last().sent[1]).toEqual({ type: 'message', text: 'early', session_id: 's1' })
    c.send({ type: 'command', name: 'stop', session_id: 's1' })
    expect(last().sent[2]).toEqual({ type: 'command', name: 'stop', session_id: 's1' })
  })

  it('reconnects with growing backoff under the same client_id and re-auths', () => {
    const c = make({ backoffMinMs: 100 })
    c.connect()
    last().open()
    last().recv(authOk)
    last().drop()
    expect(c.state).toBe('reconnecting')
    c.send({ type: 'message', text: 'while away', session_id: 's' })
    vi.advanceTimersByTime(99)
    expect(FakeWS.all.length).toBe(1)
    vi.advanceTimersByTime(1)
    expect(FakeWS.all.length).toBe(2)
    last().drop() // refused again: the next wait doubles
    vi.advanceTimersByTime(199)
    expect(FakeWS.all.length).toBe(2)
    vi.advanceTimersByTime(1)
    expect(FakeWS.all.length).toBe(3)
    last().open()
    expect(last().sent[0]).toEqual({ type: 'auth', token: 'tok', client_id: 'web-x-1' })
    expect(last().sent.length).toBe(1) // held until auth_ok
    last().recv(authOk)
    expect(last().sent[1]).toEqual({ type: 'message', text: 'while away', session_id: 's' })
    expect(c.attempts).toBe(0)
  })

  it('stops on auth_error and does not retry', () => {
    const c = make()
    c.connect()
    last().open()
    last().recv({ type: 'auth_error', reason: 'Invalid token' })
    expect(c.state).toBe('auth_failed')
    expect(c.detail).toBe('Invalid token')
    last().drop(1000)
    expect(c.state).toBe('auth_failed') // the server's close must not hide why
    vi.advanceTimersByTime(60_000)
    expect(FakeWS.all.length).toBe(1)
  })

  it('pings, and treats a missing pong as a dead link', () => {
    const c = make({ pingMs: 1000, pongTimeoutMs: 500, backoffMinMs: 100 })
    c.connect()
    last().open()
    last().recv(authOk)
    vi.advanceTimersByTime(1000)
    expect(last().sent.at(-1)).toEqual({ type: 'ping' })
    last().recv({ type: 'pong' })
    vi.advanceTimersByTime(1000)
    expect(last().sent.at(-1)).toEqual({ type: 'ping' })
    vi.advanceTimersByTime(500) // no pong this time
    expect(last().closed).not.toBeNull()
    expect(c.state).toBe('reconnecting')
    vi.advanceTimersByTime(100)
    expect(FakeWS.all.length).toBe(2)
  })

  it('on 4001 takes a fresh tab id instead of fighting for the old one', () => {
    const c = make({ backoffMinMs: 100 })
    c.connect()
    last().open()
    last().recv(authOk)
    last().drop(4001, 'client_id taken over')
    expect(c.state).toBe('taken_over')
    vi.advanceTimersByTime(100)
    last().open()
    expect(last().sent[0].client_id).toBe('web-x-2')
  })

  it('delivers every frame to listeners in order', () => {
    const c = make()
    const got: string[] = []
    c.onFrame((f) => got.push(f.type))
    c.connect()
    last().open()
    last().recv(authOk)
    last().recv({ type: 'status', text: 'Thinking...', session_id: 's' })
    last().recv({ type: 'response', text: 'hi', session_id: 's', attachments: [], model: null })
    expect(got).toEqual(['auth_ok', 'status', 'response'])
  })

  it('close() is final', () => {
    const c = make({ backoffMinMs: 10 })
    c.connect()
    last().open()
    c.close()
    expect(c.state).toBe('closed')
    vi.advanceTimersByTime(10_000)
    expect(FakeWS.all.length).toBe(1)
  })
})

class MemStorage {
  m = new Map<string, string>()
  getItem(k: string) { return this.m.get(k) ?? null }
  setItem(k: string, v: string) { this.m.set(k, v) }
  removeItem(k: string) { this.m.delete(k) }
  clear() { this.m.clear() }
  key() { return null }
  get length() { return this.m.size }
}

describe('tabClientId', () => {
  it('keeps one base per browser and a suffix per tab', () => {
    const local = new MemStorage() as unknown as Storage
    let n = 0
    const rnd = () => `r${++n}aaaaaaaa`
    const tab1 = tabClientId(local, new MemStorage() as unknown as Storage, rnd)
    const tab2 = tabClientId(local, new MemStorage() as unknown as Storage, rnd)
    const [b1] = tab1.id().split('-').slice(1)
    expect(tab2.id().startsWith('web-' + b1)).toBe(true)
    expect(tab1.id()).not.toBe(tab2.id())
    const before = tab1.id()
    expect(tab1.id()).toBe(before) // stable across calls (and reloads)
    tab1.renew()
    expect(tab1.id()).not.toBe(before)
  })
})

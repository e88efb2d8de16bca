// GatewayClient: the WebSocket side of the protocol. It authenticates first,
// keeps the link alive with pings, reconnects with backoff, holds outgoing
// frames until it is authenticated again, and hands every server frame to
// its listeners. It has no UI and no globals, so it is unit-tested directly.
import type { AuthOk, ClientFrame, ServerFrame } from './protocol'

export type ConnState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'auth_failed' | 'taken_over' | 'closed'

export interface WSLike {
  readyState: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface ClientOptions {
  url: string
  token: string
  /** Called at each (re)connect, so a new tab id can take effect. */
  clientId: () => string
  /** Called when the server closed us with 4001: the id is in use elsewhere. */
  onTakenOver?: () => void
  WebSocket?: new (url: string) => WSLike
  pingMs?: number
  pongTimeoutMs?: number
  backoffMinMs?: number
  backoffMaxMs?: number
  random?: () => number
}

const OPEN = 1

export class GatewayClient {
  state: ConnState = 'idle'
  info: AuthOk | null = null
  /** Why the link is not open, for the status line. */
  detail = ''
  attempts = 0

  private ws: WSLike | null = null
  private authed = false
  private outbox: ClientFrame[] = []
  private frameListeners = new Set<(f: ServerFrame) => void>()
  private stateListeners = new Set<(s: ConnState) => void>()
  private timers: { ping?: ReturnType<typeof setInterval>; pong?: ReturnType<typeof setTimeout>; retry?: ReturnType<typeof setTimeout> } = {}
  private stopped = false
  private o: Required<Omit<ClientOptions, 'onTakenOver'>> & Pick<ClientOptions, 'onTakenOver'>

  constructor(opts: ClientOptions) {
    this.o = {
      WebSocket: (globalThis as any).WebSocket,
      pingMs: 25_000,
      pongTimeoutMs: 10_000,
      backoffMinMs: 500,
      backoffMaxMs: 15_000,
      random: Math.random,
      ...opts,
    }
  }

  onFrame(fn: (f: ServerFrame) => void): () => void {
    this.frameListeners.add(fn)
    return () => this.frameListeners.delete(fn)
  }

  onState(fn: (s: ConnState) => void): () => void {
    this.stateListeners.add(fn)
    return () => this.stateListeners.delete(fn)
  }

  connect(): void {
    this.stopped = false
    this.clearTimers()
    this.setState(this.attempts > 0 ? 'reconnecting' : 'connecting')
    let ws: WSLike
    try {
      ws = new this.o.WebSocket(this.o.url)
    } catch (e) {
      this.detail = String(e)
      this.scheduleRetry()
      return
    }
    this.ws = ws
    this.authed = false
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'auth', token: this.o.token, client_id: this.o.clientId() }))
    }
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return
      let f: ServerFrame
      try {
        f = JSON.parse(String(ev.data))
      } catch {
        return
      }
      this.handle(f)
    }
    ws.onerror = () => {}
    ws.onclose = (ev) => {
      if (ws !== this.ws) return
      this.ws = null
      this.authed = false
      this.clearTimers()
      if (this.state === 'auth_failed') return
      if (this.stopped) return this.setState('closed')
      if (ev.code === 4001) {
        // Another connection took our client_id. Don't fight for it: let
        // the owner pick a fresh id, then come back under that one.
        this.detail = 'taken over by another window'
        this.setState('taken_over')
        this.o.onTakenOver?.()
        this.attempts = 0
        this.timers.retry = setTimeout(() => this.connect(), this.o.backoffMinMs)
        return
      }
      this.detail = ev.reason || (ev.code ? `closed (${ev.code})` : 'closed')
      this.scheduleRetry()
    }
  }

  private handle(f: ServerFrame) {
    switch (f.type) {
      case 'auth_ok':
        this.authed = true
        this.info = f
        this.attempts = 0
        this.detail = ''
        this.setState('open')
        this.startPing()
        this.flush()
        break
      case 'auth_error':
        if (!this.authed) {
          this.detail = f.reason
          this.setState('auth_failed')
          this.stopped = true
          this.ws?.close()
        }
        break
      case 'pong':
        if (this.timers.pong) clearTimeout(this.timers.pong)
        this.timers.pong = undefined
        break
    }
    for (const fn of this.frameListeners) fn(f)
  }

  /** Sends now when authenticated, otherwise after the next auth_ok. */
  send(f: ClientFrame): void {
    if (this.authed && this.ws && this.ws.readyState === OPEN) {
      this.ws.send(JSON.stringify(f))
    } else {
      this.outbox.push(f)
    }
  }

  private flush() {
    const out = this.outbox
    this.outbox = []
    for (const f of out) this.send(f)
  }

  get pending(): number {
    return this.outbox.length
  }

  close(): void {
    this.stopped = true
    this.clearTimers()
    const ws = this.ws
    this.ws = null
    ws?.close(1000, 'bye')
    this.setState('closed')
  }

  /** Reconnects at once (e.g. after a restart, or when the tab comes back). */
  reconnectNow(): void {
    if (this.state === 'open') return
    const ws = this.ws
    this.ws = null
    ws?.close()
    this.connect()
  }

  private startPing() {
    this.timers.ping = setInterval(() => {
      if (!this.ws || !this.authed) return
      this.ws.send(JSON.stringify({ type: 'ping' }))
      if (!this.timers.pong) {
        this.timers.pong = setTimeout(() => {
          // No pong: the link is dead even if the socket does not know yet.
          this.timers.pong = undefined
          const ws = this.ws
          this.ws = null
          ws?.close()
          this.detail = 'no answer to ping'
          this.clearTimers()
          this.scheduleRetry()
        }, this.o.pongTimeoutMs)
      }
    }, this.o.pingMs)
  }

  private scheduleRetry() {
    if (this.stopped) return
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** this.attempts)
    const delay = Math.round(base * (0.75 + 0.5 * this.o.random()))
    this.attempts++
    this.setState('reconnecting')
    this.timers.retry = setTimeout(() => this.connect(), delay)
  }

  private clearTimers() {
    if (this.timers.ping) clearInterval(this.timers.ping)
    if (this.timers.pong) clearTimeout(this.timers.pong)
    if (this.timers.retry) clearTimeout(this.timers.retry)
    this.timers = {}
  }

  private setState(s: ConnState) {
    if (this.state === s) return
    this.state = s
    for (const fn of this.stateListeners) fn(s)
  }
}

/** A stable base id per browser plus a per-tab suffix (kept across reloads of a tab). */
export function tabClientId(local: Storage, session: Storage, rnd: () => string = randomId): { id: () => string; renew: () => void } {
  let base = local.getItem('oa.client_base')
  if (!base) {
    base = 'web-' + rnd()
    local.setItem('oa.client_base', base)
  }
  const renew = () => session.setItem('oa.tab', rnd().slice(0, 6))
  if (!session.getItem('oa.tab')) renew()
  return { id: () => `${base}-${session.getItem('oa.tab')}`, renew }
}

export function randomId(): string {
  const a = new Uint8Array(8)
  crypto.getRandomValues(a)
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('')
}

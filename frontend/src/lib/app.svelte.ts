// The app's shared state: the connection, the chat store and a bus for
// resource_event frames that pages subscribe to.
import { GatewayClient, tabClientId, type ConnState } from './client'
import { ChatStore } from './chat.svelte'
import { resolveConnection, saveToken, type Conn } from './conn'
import { del, get, setConn } from './api'
import type { AgentInfo, AuthOk, Command, ResourceEvent } from './protocol'

class AppState {
  conn = $state<Conn & { desktop: boolean }>({ base_url: '', ws_url: '', token: '', desktop: false })
  state = $state<ConnState>('idle')
  detail = $state('')
  info = $state<AuthOk | null>(null)
  commands = $state<Command[]>([])
  route = $state(location.hash.slice(1) || '/chat')
  theme = $state<'light' | 'dark'>((localStorage.getItem('oa.theme') as 'light' | 'dark') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'))
  client: GatewayClient | null = null
  chat!: ChatStore
  private resourceListeners = new Set<(e: ResourceEvent) => void>()

  async start() {
    window.addEventListener('hashchange', () => (this.route = location.hash.slice(1) || '/chat'))
    this.applyTheme()
    try {
      this.conn = await resolveConnection()
    } catch (e) {
      // The desktop gateway is stopped or failed; its "connection" event
      // brings us back when it starts.
      this.conn = { base_url: '', ws_url: '', token: '', desktop: true }
      this.state = 'closed'
      this.detail = e instanceof Error ? e.message : String(e)
    }
    setConn(this.conn)
    this.chat = new ChatStore((f) => this.client?.send(f), localStorage, Date.now, { get, del })
    window.addEventListener('pagehide', () => this.chat.flush())
    // The desktop shell announces every start, stop and restart of the
    // gateway (a new port or token, or null when stopped).
    window.runtime?.EventsOn?.('connection', (c: Conn | null) => {
      if (!c) {
        this.client?.close()
        this.detail = 'the gateway is stopped; start it from the tray'
        return
      }
      this.conn = { ...c, base_url: c.base_url.replace(/\/$/, ''), desktop: true }
      setConn(this.conn)
      this.connect()
    })
    // Phones suspend background tabs; come back at once instead of after the backoff.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.client?.reconnectNow()
    })
    if (this.conn.ws_url) this.connect()
  }

  connect() {
    this.client?.close()
    const ids = tabClientId(localStorage, sessionStorage)
    const c = new GatewayClient({ url: this.conn.ws_url, token: this.conn.token, clientId: ids.id, onTakenOver: ids.renew })
    this.client = c
    c.onState((s) => {
      this.state = s
      this.detail = c.detail
    })
    c.onFrame((f) => {
      if (f.type === 'auth_ok') {
        this.info = f
        this.loadCommands()
        void this.chat.sync()
      } else if (f.type === 'resource_event') {
        if (f.resource === 'config') void this.refreshName()
        for (const fn of this.resourceListeners) fn(f)
      } else this.chat.handle(f)
    })
    c.connect()
  }

  login(token: string) {
    saveToken(token)
    this.conn = { ...this.conn, token }
    setConn(this.conn)
    this.connect()
  }

  /** The agent's name changes with the config (Settings → General), not only at login. */
  async refreshName() {
    try {
      const a = await get<AgentInfo>('/api/agent-info')
      if (this.info && a.name) this.info = { ...this.info, agent_name: a.name }
    } catch {
      /* the name shown stays as it was */
    }
  }

  async loadCommands() {
    try {
      this.commands = (await get<{ commands: Command[] }>('/api/commands')).commands
    } catch {
      /* completion just stays empty */
    }
  }

  onResource(fn: (e: ResourceEvent) => void): () => void {
    this.resourceListeners.add(fn)
    return () => this.resourceListeners.delete(fn)
  }

  toggleTheme() {
    this.theme = this.theme === 'dark' ? 'light' : 'dark'
    localStorage.setItem('oa.theme', this.theme)
    this.applyTheme()
  }

  private applyTheme() {
    document.documentElement.dataset.theme = this.theme
  }
}

export const app = new AppState()

export function go(route: string) {
  location.hash = '#' + route
}

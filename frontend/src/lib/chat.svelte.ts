// The chat store: conversations (one session_id each), their messages, and
// the routing of server frames to the conversation they belong to.
import type { Attachment, ClientFrame, ServerFrame, SessionBody, SessionList, ToolEvent } from './protocol'

export interface Chip { id: number; tool: string; status: ToolEvent['status']; params?: unknown; result?: unknown; error?: string }
export interface Msg {
  id: number
  role: 'user' | 'agent' | 'error' | 'system'
  text: string
  ts: number
  model?: string | null
  attachments?: Attachment[]
  chips?: Chip[]
}
export interface Conversation {
  id: string
  title: string
  created: number
  messages: Msg[]
  /** Turns sent and not yet answered. */
  pending: number
  thinking: string
  queue: number
  chips: Chip[]
  unread: boolean
  /** Stored on the gateway by another client; its messages are fetched when it is opened. */
  remote?: boolean
  /** Why the stored messages could not be fetched, if they could not. */
  loadError?: string
}

/** The gateway's REST, for the stored conversations (GET/DELETE /api/sessions). */
export interface Remote {
  get<T>(path: string): Promise<T>
  del(path: string): Promise<unknown>
}

const KEY = 'oa.chats'
/** Messages kept per conversation in storage. */
export const KEEP = 300

/** Parses status.text: a tool event, or null for plain text (contract §2.7). */
export function parseToolEvent(text: string): ToolEvent | null {
  if (!text.startsWith('{')) return null
  try {
    const v = JSON.parse(text)
    if (v && typeof v === 'object' && typeof v.tool === 'string') return v as ToolEvent
  } catch {
    /* plain text */
  }
  return null
}

/** The inline attachment convention (contract §7.3): uploads are named in the text. */
export function withFiles(text: string, files: Attachment[]): string {
  if (files.length === 0) return text
  const head = files.length === 1 ? 'The user attached a file:' : `The user attached ${files.length} files:`
  const lines = files.map((f) => `- ${f.type}: ${f.filename} — server path: ${f.path}`)
  const tail = `Use the Read tool to inspect ${files.length === 1 ? 'it' : 'them'}.`
  return `${head}\n${lines.join('\n')}\n${tail}\n\nUser message: ${text}`
}

export class ChatStore {
  convs = $state<Conversation[]>([])
  activeId = $state('')
  /** Frames that belong to no conversation (e.g. "Invalid JSON"). */
  notice = $state('')
  private seq = 0
  private lastCommandSession = ''
  private saveTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private send: (f: ClientFrame) => void,
    private storage: Storage | null = null,
    private now: () => number = Date.now,
    private remote: Remote | null = null,
  ) {
    this.load()
    if (this.convs.length === 0) this.newConversation()
    if (!this.convs.some((c) => c.id === this.activeId)) this.activeId = this.convs[0].id
  }

  get active(): Conversation {
    return this.convs.find((c) => c.id === this.activeId) ?? this.convs[0]
  }

  get(id: string): Conversation | undefined {
    return this.convs.find((c) => c.id === id)
  }

  newConversation(): Conversation {
    let t = this.now()
    while (this.convs.some((c) => c.id === `session-${t}`)) t++
    const c: Conversation = { id: `session-${t}`, title: 'New chat', created: t, messages: [], pending: 0, thinking: '', queue: 0, chips: [], unread: false }
    this.convs.unshift(c)
    this.activeId = c.id
    this.save()
    return this.convs[0]
  }

  select(id: string) {
    const c = this.get(id)
    if (!c) return
    this.activeId = id
    c.unread = false
    if (c.remote) void this.loadRemote(c)
  }

  /**
   * Adds the conversations the gateway has stored that this browser does
   * not know (had on another device or browser), after the ones it has;
   * their messages are fetched when one is opened.
   */
  async sync(): Promise<void> {
    if (!this.remote) return
    let list: SessionList['sessions']
    try {
      list = (await this.remote.get<SessionList>('/api/sessions')).sessions
    } catch {
      return // an older gateway, or none: this browser's own chats still work
    }
    for (const s of list) {
      if (this.get(s.id)) continue
      this.convs.push({ id: s.id, title: s.title || s.id, created: Math.round(s.created_at * 1000), messages: [], pending: 0, thinking: '', queue: 0, chips: [], unread: false, remote: true })
    }
    const c = this.active
    if (c.remote) void this.loadRemote(c)
    this.save()
  }

  private loading = new Set<string>()

  /** Fetches a stored conversation's messages; messages added meanwhile stay after them. */
  private async loadRemote(c: Conversation): Promise<void> {
    if (!this.remote || this.loading.has(c.id)) return
    this.loading.add(c.id)
    c.loadError = undefined
    const id = c.id
    try {
      const body = await this.remote.get<SessionBody>('/api/sessions/' + encodeURIComponent(id))
      const conv = this.get(id)
      if (!conv) return
      const msgs: Msg[] = body.messages.map((m) => ({
        id: ++this.seq,
        ts: Math.round(m.created_at * 1000),
        role: m.role === 'user' ? 'user' : 'agent',
        text: m.text,
        model: m.model ?? null,
        attachments: m.attachments ?? [],
        chips: m.tools?.length ? m.tools.map((t) => ({ id: ++this.seq, tool: t.tool, status: t.status, params: t.params, result: t.result, error: t.error })) : undefined,
      }))
      conv.messages = [...msgs, ...conv.messages]
      conv.remote = false
      conv.loadError = undefined
      this.save()
    } catch (e) {
      const conv = this.get(id)
      if (conv) conv.loadError = (e as Error).message
    } finally {
      this.loading.delete(id)
    }
  }

  remove(id: string) {
    // Gone everywhere, not only here: another device would bring it back.
    this.remote?.del('/api/sessions/' + encodeURIComponent(id)).catch(() => {})
    this.convs = this.convs.filter((c) => c.id !== id)
    if (this.convs.length === 0) this.newConversation()
    if (this.activeId === id) this.activeId = this.convs[0].id
    this.save()
  }

  rename(id: string, title: string) {
    const c = this.get(id)
    if (c && title.trim()) c.title = title.trim()
    this.save()
  }

  /** Sends a chat message, or a /command, on the active conversation. */
  submit(text: string, commands: string[] = [], files: Attachment[] = []): void {
    const t = text.trim()
    if (!t && files.length === 0) return
    const m = /^\/([a-z_-]+)\s*$/i.exec(t)
    if (m && files.length === 0 && (commands.length === 0 || commands.includes(m[1].toLowerCase()))) {
      this.command(m[1].toLowerCase())
      return
    }
    const c = this.active
    this.push(c, { role: 'user', text: t, attachments: files })
    const title = t || files[0]?.filename || ''
    if (c.title === 'New chat') c.title = title.length > 48 ? title.slice(0, 47) + '…' : title
    c.pending++
    this.send({ type: 'message', text: withFiles(t, files), session_id: c.id })
    this.save()
  }

  command(name: string, sessionId = this.active.id) {
    this.lastCommandSession = sessionId
    const c = this.get(sessionId)
    if (c) this.push(c, { role: 'user', text: '/' + name })
    this.send({ type: 'command', name, session_id: sessionId })
  }

  stop(sessionId = this.active.id) {
    this.command('stop', sessionId)
  }

  handle(f: ServerFrame): void {
    switch (f.type) {
      case 'queued': {
        const c = this.target(f.session_id)
        c.queue = f.position
        break
      }
      case 'status': {
        const c = this.target(f.session_id)
        c.queue = 0
        const ev = parseToolEvent(f.text)
        if (!ev) {
          c.thinking = f.text
          break
        }
        c.thinking = ''
        if (ev.status === 'running') {
          c.chips.push({ id: ++this.seq, tool: ev.tool, status: 'running', params: ev.params })
        } else {
          // Pair with the oldest running chip of the same tool.
          const chip = c.chips.find((x) => x.tool === ev.tool && x.status === 'running')
          if (chip) {
            chip.status = ev.status
            chip.result = ev.result
            chip.error = ev.error
            if (ev.params !== undefined) chip.params = ev.params
          } else {
            c.chips.push({ id: ++this.seq, tool: ev.tool, status: ev.status, params: ev.params, result: ev.result, error: ev.error })
          }
        }
        break
      }
      case 'response': {
        const c = this.target(f.session_id)
        this.finish(c, { role: 'agent', text: f.text, model: f.model, attachments: f.attachments ?? [] })
        break
      }
      case 'error': {
        if (!f.session_id) {
          this.notice = f.text
          break
        }
        this.finish(this.target(f.session_id), { role: 'error', text: f.text })
        break
      }
      case 'command_result': {
        const c = this.get(this.lastCommandSession) ?? this.active
        this.push(c, { role: 'system', text: f.text })
        this.save()
        break
      }
    }
  }

  private finish(c: Conversation, m: Omit<Msg, 'id' | 'ts'>) {
    if (c.chips.length) m.chips = c.chips
    c.chips = []
    c.thinking = ''
    c.queue = 0
    c.pending = Math.max(0, c.pending - 1)
    this.push(c, m)
    if (c.id !== this.activeId) c.unread = true
    this.save()
  }

  /** The conversation a frame names; one is created for an unknown id. */
  private target(id: string): Conversation {
    let c = this.get(id)
    if (!c) {
      this.convs.unshift({ id, title: id, created: this.now(), messages: [], pending: 0, thinking: '', queue: 0, chips: [], unread: true })
      c = this.convs[0]
    }
    return c
  }

  private push(c: Conversation, m: Omit<Msg, 'id' | 'ts'>) {
    c.messages.push({ id: ++this.seq, ts: this.now(), ...m })
  }

  save() {
    if (!this.storage || this.saveTimer) return
    this.saveTimer = setTimeout(() => this.flush(), 300)
  }

  flush() {
    clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    if (!this.storage) return
    const data = {
      active: this.activeId,
      convs: this.convs.map((c) => ({ id: c.id, title: c.title, created: c.created, remote: c.remote || undefined, messages: $state.snapshot(c.messages).slice(-KEEP) })),
    }
    try {
      this.storage.setItem(KEY, JSON.stringify(data))
    } catch {
      // Storage full: keep fewer messages rather than nothing.
      for (const c of data.convs) c.messages = c.messages.slice(-50)
      try {
        this.storage.setItem(KEY, JSON.stringify(data))
      } catch {
        /* give up quietly; the chat still works */
      }
    }
  }

  private load() {
    const raw = this.storage?.getItem(KEY)
    if (!raw) return
    try {
      const d = JSON.parse(raw)
      this.convs = (d.convs ?? []).map((c: any) => ({ ...c, pending: 0, thinking: '', queue: 0, chips: [], unread: false }))
      for (const c of this.convs) for (const m of c.messages) this.seq = Math.max(this.seq, m.id)
      this.activeId = d.active ?? ''
    } catch {
      /* corrupt: start fresh */
    }
  }
}

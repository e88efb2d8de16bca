import { describe, expect, it } from 'vitest'
import { ChatStore, parseToolEvent, withFiles, KEEP } from './chat.svelte'
import type { ClientFrame } from './protocol'

class MemStorage {
  m = new Map<string, string>()
  getItem(k: string) { return this.m.get(k) ?? null }
  setItem(k: string, v: string) { this.m.set(k, v) }
}

function setup(storage?: MemStorage) {
  const sent: ClientFrame[] = []
  let t = 1_700_000_000_000
  const s = new ChatStore((f) => sent.push(f), (storage ?? null) as unknown as Storage, () => t++)
  return { s, sent }
}

describe('ChatStore', () => {
  it('gives each conversation its own session_id and routes frames by it', () => {
    const { s, sent } = setup()
    const a = s.active
    s.submit('hello a')
    const b = s.newConversation()
    s.submit('hello b')
    expect(a.id).toMatch(/^session-\d+$/)
    expect(a.id).not.toBe(b.id)
    expect(sent).toEqual([
      { type: 'message', text: 'hello a', session_id: a.id },
      { type: 'message', text: 'hello b', session_id: b.id },
    ])
    s.handle({ type: 'status', text: 'Thinking...', session_id: a.id })
    expect(s.get(a.id)!.thinking).toBe('Thinking...')
    expect(s.get(b.id)!.thinking).toBe('')
    s.handle({ type: 'response', text: 'answer a', session_id: a.id, attachments: [], model: 'p:m' })
    const ma = s.get(a.id)!.messages
    expect(ma.map((m) => [m.role, m.text])).toEqual([['user', 'hello a'], ['agent', 'answer a']])
    expect(ma[1].model).toBe('p:m')
    expect(s.get(a.id)!.pending).toBe(0)
    expect(s.get(a.id)!.unread).toBe(true) // b is the open one
    expect(s.get(b.id)!.pending).toBe(1)
    s.handle({ type: 'error', text: 'No model is configured', session_id: b.id })
    expect(s.get(b.id)!.messages.at(-1)).toMatchObject({ role: 'error', text: 'No model is configured' })
    expect(s.get(a.id)!.messages.length).toBe(2)
  })

  it('pairs tool events into chips and keeps them with the reply', () => {
    const { s } = setup()
    const c = s.active
    s.submit('list files')
    s.handle({ type: 'status', text: JSON.stringify({ tool: 'ls', status: 'running', params: { path: '.' } }), session_id: c.id })
    s.handle({ type: 'status', text: JSON.stringify({ tool: 'cat', status: 'running' }), session_id: c.id })
    expect(s.get(c.id)!.chips.map((x) => x.status)).toEqual(['running', 'running'])
    s.handle({ type: 'status', text: JSON.stringify({ tool: 'ls', status: 'done', result: 'a b' }), session_id: c.id })
    s.handle({ type: 'status', text: JSON.stringify({ tool: 'cat', status: 'error', error: 'nope' }), session_id: c.id })
    const chips = s.get(c.id)!.chips
    expect(chips).toMatchObject([
      { tool: 'ls', status: 'done', params: { path: '.' }, result: 'a b' },
      { tool: 'cat', status: 'error', error: 'nope' },
    ])
    s.handle({ type: 'response', text: 'done', session_id: c.id, attachments: [], model: null })
    expect(s.get(c.id)!.chips).toEqual([])
    expect(s.get(c.id)!.messages.at(-1)!.chips!.length).toBe(2)
  })

  it('shows queue positions and routes stop to the conversation', () => {
    const { s, sent } = setup()
    const c = s.active
    s.submit('one')
    s.submit('two')
    s.handle({ type: 'queued', position: 1, session_id: c.id })
    expect(s.get(c.id)!.queue).toBe(1)
    s.stop()
    expect(sent.at(-1)).toEqual({ type: 'command', name: 'stop', session_id: c.id })
    s.handle({ type: 'error', text: 'Stopped.', session_id: c.id })
    s.handle({ type: 'command_result', text: 'Stopped current operation. cleared 1 queued message.' })
    const conv = s.get(c.id)!
    expect(conv.messages.at(-1)).toMatchObject({ role: 'system' })
    expect(conv.messages.some((m) => m.role === 'error' && m.text === 'Stopped.')).toBe(true)
  })

  it('treats known /commands as commands and other slashes as text', () => {
    const { s, sent } = setup()
    s.submit('/new', ['new', 'stop'])
    expect(sent.at(-1)).toEqual({ type: 'command', name: 'new', session_id: s.active.id })
    s.submit('/etc/passwd please', ['new'])
    expect(sent.at(-1)).toMatchObject({ type: 'message', text: '/etc/passwd please' })
  })

  it('names uploads inline (contract §7.3)', () => {
    const { s, sent } = setup()
    s.submit('what is this', [], [{ type: 'image', path: '/d/uploads/x.png', filename: 'x.png' }])
    expect((sent[0] as any).text).toBe(withFiles('what is this', [{ type: 'image', path: '/d/uploads/x.png', filename: 'x.png' }]))
    expect((sent[0] as any).text).toContain('- image: x.png — server path: /d/uploads/x.png')
    expect(s.active.messages[0].text).toBe('what is this')
  })

  it('puts frames for an unknown session in a new conversation, session-less errors in the notice', () => {
    const { s } = setup()
    s.handle({ type: 'response', text: 'late', session_id: 'session-1', attachments: [], model: null })
    expect(s.get('session-1')!.messages[0].text).toBe('late')
    s.handle({ type: 'error', text: 'Invalid JSON' })
    expect(s.notice).toBe('Invalid JSON')
  })

  it('persists conversations and trims long ones', () => {
    const st = new MemStorage()
    const { s } = setup(st)
    const id = s.active.id
    for (let i = 0; i < KEEP + 20; i++) {
      s.submit('m' + i)
      s.handle({ type: 'response', text: 'r' + i, session_id: id, attachments: [], model: null })
    }
    s.flush()
    const { s: again } = setup(st)
    expect(again.activeId).toBe(id)
    const msgs = again.get(id)!.messages
    expect(msgs.length).toBe(KEEP)
    expect(msgs.at(-1)!.text).toBe('r' + (KEEP + 19))
    again.submit('next')
    const ids = again.get(id)!.messages.map((m) => m.id)
    expect(new Set(ids).size).toBe(ids.length)
  })
})

describe('ChatStore with the gateway\'s stored conversations', () => {
  // A fake of GET/DELETE /api/sessions that records the calls.
  function fakeRemote() {
    const calls: string[] = []
    const sessions: Record<string, any> = {
      'session-1': { id: 'session-1', messages: [
        { role: 'user', text: 'what is this?', created_at: 1700000000, attachments: [{ type: 'image', path: '/a/uploads/cat.png', filename: 'cat.png' }] },
        { role: 'assistant', text: 'A cat.', model: 'p:m', created_at: 1700000001, attachments: [],
          tools: [{ tool: 'files__read', status: 'done', params: { path: 'cat.png' }, result: 'ok' }] },
      ] },
    }
    let failNext = false
    const remote = {
      async get<T>(path: string): Promise<T> {
        calls.push('GET ' + path)
        if (failNext) { failNext = false; throw new Error('503: busy') }
        if (path === '/api/sessions') {
          return { sessions: [
            { id: 'session-1', title: 'what is this?', messages: 2, created_at: 1700000000, updated_at: 1700000001 },
            { id: 'session-5', title: 'known here', messages: 2, created_at: 1700000000, updated_at: 1700000001 },
          ] } as T
        }
        const id = decodeURIComponent(path.slice('/api/sessions/'.length))
        if (!sessions[id]) throw new Error('404: no conversation with id ' + id)
        return sessions[id] as T
      },
      async del(path: string) { calls.push('DELETE ' + path); return { ok: true } },
    }
    return { remote, calls, failOnce: () => { failNext = true } }
  }
  const tick = () => new Promise((r) => setTimeout(r, 0))

  it('adds unknown conversations and fetches their messages when opened', async () => {
    const { remote, calls, failOnce } = fakeRemote()
    const s = new ChatStore(() => {}, null, () => 5, remote) // starts with an empty "New chat", session-5
    await s.sync()
    expect(s.convs.map((c) => [c.id, c.title, !!c.remote])).toEqual([['session-5', 'New chat', false], ['session-1', 'what is this?', true]])
    expect(calls).toEqual(['GET /api/sessions']) // the open one is local: nothing else fetched

    failOnce()
    s.select('session-1')
    await tick()
    expect(s.active.loadError).toBe('503: busy')
    expect(s.active.messages).toEqual([])
    s.select('session-1') // "Try again"
    await tick()
    const c = s.get('session-1')!
    expect(c.remote).toBe(false)
    expect(c.loadError).toBeUndefined()
    expect(c.messages.map((m) => [m.role, m.text, m.ts])).toEqual([['user', 'what is this?', 1700000000000], ['agent', 'A cat.', 1700000001000]])
    expect(c.messages[0].attachments).toEqual([{ type: 'image', path: '/a/uploads/cat.png', filename: 'cat.png' }])
    expect(c.messages[1].model).toBe('p:m')
    expect(c.messages[1].chips).toMatchObject([{ tool: 'files__read', status: 'done', params: { path: 'cat.png' }, result: 'ok' }])
    expect(calls.filter((x) => x.startsWith('GET /api/sessions/'))).toEqual(['GET /api/sessions/session-1', 'GET /api/sessions/session-1'])

    await s.sync() // known now: not added twice
    expect(s.convs.length).toBe(2)
  })

  it('deletes a conversation on the gateway too', async () => {
    const { remote, calls } = fakeRemote()
    const s = new ChatStore(() => {}, null, () => 5, remote)
    await s.sync()
    s.remove('session-1')
    expect(calls).toContain('DELETE /api/sessions/session-1')
    expect(s.get('session-1')).toBeUndefined()
  })

  it('keeps working when the gateway has no stored conversations to offer', async () => {
    const s = new ChatStore(() => {}, null, () => 1, { get: async () => { throw new Error('404: not found') }, del: async () => ({}) })
    await s.sync()
    expect(s.convs.length).toBe(1)
  })
})

describe('parseToolEvent', () => {
  it('reads tool events and leaves plain text alone', () => {
    expect(parseToolEvent('Thinking...')).toBeNull()
    expect(parseToolEvent('{"not":"a tool"}')).toBeNull()
    expect(parseToolEvent('{broken')).toBeNull()
    expect(parseToolEvent('{"tool":"bash","status":"running"}')).toEqual({ tool: 'bash', status: 'running' })
  })
})
